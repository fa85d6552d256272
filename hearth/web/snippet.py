"""``GET /hearth.js``: the tracking snippet websites load with one ``<script>`` tag.

The source is ``hearth/static/hearth.js``. It opens with a comment block for maintainers (the
session and active-time design); the body served is the file without that block, behind a
one-line pointer, gzip-compressed once at start-up for clients that accept it. The app has no
GZipMiddleware, so this router compresses its one file itself. Both representations carry a
strong ETag of their own and a short ``max-age``, so a new Hearth version reaches websites
within minutes while browsers revalidate cheaply (``If-None-Match`` → 304).
"""

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

__all__ = ["SNIPPET_PATH", "Snippet", "accepts_gzip", "snippet_router"]

SNIPPET_PATH: Final = Path(__file__).resolve().parent.parent / "static" / "hearth.js"
DEFAULT_MAX_AGE_SECONDS: Final = 300
_BANNER: Final = b"/* Hearth tracking snippet, docs/tracking.md */"
_MEDIA_TYPE: Final = "application/javascript; charset=utf-8"


@dataclass(frozen=True, kw_only=True)
class Snippet:
    """The bytes served for ``/hearth.js``: plain and gzip-compressed, each with its ETag."""

    body: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str

    @classmethod
    def from_source(cls, source: bytes) -> "Snippet":
        """The served form of the snippet's `source`: its leading comment block replaced by a
        one-line banner (the code itself is served as written)."""
        stripped = source.lstrip()
        if stripped.startswith(b"/*"):
            end = stripped.find(b"*/")
            if end != -1:
                source = _BANNER + stripped[end + 2 :]
        digest = hashlib.sha256(source).hexdigest()[:20]
        return cls(
            body=source,
            # mtime=0: the same source always compresses to the same bytes.
            gzipped=gzip.compress(source, compresslevel=9, mtime=0),
            etag=f'"{digest}"',
            gzip_etag=f'"{digest}-gzip"',
        )

    @classmethod
    def load(cls, path: Path = SNIPPET_PATH) -> "Snippet":
        return cls.from_source(path.read_bytes())


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header value accepts gzip (``gzip`` or ``*``, q > 0)."""
    wildcard: bool | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        coding = coding.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding in ("gzip", "x-gzip"):
            return quality > 0
        if coding == "*":
            wildcard = quality > 0
    return bool(wildcard)


def _etag_matches(if_none_match: str, etags: tuple[str, ...]) -> bool:
    """``If-None-Match`` by weak comparison (RFC 9110 13.1.2): any listed tag, or ``*``."""
    if if_none_match.strip() == "*":
        return True
    listed = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return any(tag in listed for tag in etags)


def snippet_router(
    *, snippet: Snippet | None = None, max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS
) -> APIRouter:
    """Serves ``GET /hearth.js``. `snippet` defaults to the packaged file, read now, once."""
    served = snippet if snippet is not None else Snippet.load()
    cache_control = f"public, max-age={max_age_seconds}"
    router = APIRouter()

    @router.get("/hearth.js", include_in_schema=False)
    def hearth_js(request: Request) -> Response:
        compressed = accepts_gzip(request.headers.get("accept-encoding", ""))
        etag = served.gzip_etag if compressed else served.etag
        headers = {
            "Cache-Control": cache_control,
            "ETag": etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and _etag_matches(
            if_none_match, (served.etag, served.gzip_etag)
        ):
            return Response(status_code=304, headers=headers)
        if compressed:
            headers["Content-Encoding"] = "gzip"
        return Response(
            served.gzipped if compressed else served.body, media_type=_MEDIA_TYPE, headers=headers
        )

    return router
