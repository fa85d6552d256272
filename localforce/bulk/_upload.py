"""Job data uploads (`PUT /jobs/ingest/{id}/batches`) streamed to disk instead of into memory.

The REST pipeline reads a request body whole, and caps it at 50 MB; Bulk API 2.0 takes up to
150 MB per job. So the upload route streams the body into a spool file in the org's data
directory first, then hands the pipeline an empty body and the spool file's name in an internal
header. A client's own copy of that header is dropped here; anywhere else it could only name a
spool file by guessing its random 128-bit name. Authentication, call counting and errors stay the
pipeline's. The upload handler moves the spool file into place; a spool file
left unclaimed (a refused upload) is deleted when the request ends.

Uploads that arrive with their body (a composite subrequest) are spooled by the handler.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from ..api import ApiRequest, endpoint
from ..dispatch import ApiRoute, Dispatcher
from ..dml import Dml
from ..errors import ApiError
from ..limits import LongRequests
from ..oauth import authenticate
from ..org import Org
from ._csv import CsvDialect
from ._jobs import bulk_dir

__all__ = [
    "MAX_UPLOAD_BYTES",
    "SpooledUpload",
    "over_limit",
    "spooled_upload",
    "too_large",
    "upload_routes",
]

# "Up to 150 MB per job (after base64 encoding)".
MAX_UPLOAD_BYTES = 150 * 1024 * 1024
SPOOL_HEADER = "x-localforce-spooled-upload"
_SPOOL_NAME = re.compile(r"upload-[0-9a-f]{32}\.part")
_OVERFLOW = "overflow"


def over_limit(raw: int) -> bool:
    """Whether `raw` bytes of job data exceed the limit, which Salesforce counts base64-encoded."""
    return 4 * ((raw + 2) // 3) > MAX_UPLOAD_BYTES


def too_large() -> ApiError:
    return ApiError(
        status=413,
        error_code="REQUEST_ENTITY_TOO_LARGE",
        message="Job data exceeds the limit of 150 MB per job (after base64 encoding)",
    )


def _new_spool(org: Org) -> Path:
    return bulk_dir(org) / f"upload-{secrets.token_hex(16)}.part"


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def upload_routes(
    org: Org,
    dml: Dml,
    dispatcher: Dispatcher,
    long_requests: LongRequests,
    route: ApiRoute,
) -> list[BaseRoute]:
    """Starlette routes for `route`'s PUT that stream the body to disk before the pipeline."""
    run = endpoint(org, dml, route.handler, route.name, dispatcher, long_requests)

    async def streamed(request: Request) -> Response:
        headers = [(k, v) for k, v in request.scope["headers"] if k != SPOOL_HEADER.encode()]
        scope = {**request.scope, "headers": headers}
        if not await run_in_threadpool(_authenticated, org, request.headers.get("authorization")):
            # Nothing is spooled for a caller the pipeline will refuse anyway.
            response: Response = await run(Request(scope, receive=request.receive))
            return response
        spool = await run_in_threadpool(_new_spool, org)
        try:
            written, overflow = 0, False
            # Chunks are small; writing them to the page cache does not stall the event loop.
            with open(spool, "wb") as out:
                async for chunk in request.stream():
                    written += len(chunk)
                    overflow = overflow or over_limit(written)
                    if not overflow:
                        out.write(chunk)
            marker = _OVERFLOW if overflow else spool.name
            scope["headers"] = [*headers, (SPOOL_HEADER.encode(), marker.encode())]
            response = await run(Request(scope, receive=_no_body))
            return response
        finally:
            spool.unlink(missing_ok=True)

    return [Route(path, streamed, methods=["PUT"]) for path in route.paths]


def _authenticated(org: Org, authorization: str | None) -> bool:
    try:
        authenticate(org, authorization)
    except ApiError:
        return False
    return True


class SpooledUpload:
    """An upload's bytes in a file of the org's bulk directory, whoever spooled them."""

    def __init__(self, path: Path, owned: bool) -> None:
        self.path = path
        self.owned = owned  # spooled by the handler, so the handler must delete it

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def move_to(self, dest: Path) -> None:
        os.replace(self.path, dest)

    def append_to(self, dest: Path, dialect: CsvDialect) -> bool:
        """Add this upload's rows to `dest`; False when its header row differs from dest's."""
        with open(dest, "rb") as existing:
            first = existing.readline()
        with open(self.path, "rb") as source, open(dest, "ab") as out:
            if _header(source.readline(), dialect) != _header(first, dialect):
                return False
            if out.tell() and not _ends_with_newline(dest):
                out.write(dialect.terminator.encode())
            shutil.copyfileobj(source, out)
        return True

    def discard(self) -> None:
        if self.owned:
            self.path.unlink(missing_ok=True)


def _header(line: bytes, dialect: CsvDialect) -> list[str]:
    text = line.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    return next(csv.reader([text], delimiter=dialect.delimiter), [])


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as source:
        source.seek(-1, os.SEEK_END)
        return source.read(1) == b"\n"


def spooled_upload(req: ApiRequest) -> SpooledUpload:
    """The request's upload as a file: the one the upload route spooled, or its body written out.

    Raises 413 when the upload is over the limit.
    """
    marker = req.headers.get(SPOOL_HEADER)
    if marker == _OVERFLOW:
        raise too_large()
    if marker is not None and _SPOOL_NAME.fullmatch(marker):
        path = bulk_dir(req.org) / marker
        if path.exists():
            return SpooledUpload(path, owned=False)
    if over_limit(len(req.body)):
        raise too_large()
    path = _new_spool(req.org)
    path.write_bytes(req.body)
    return SpooledUpload(path, owned=True)
