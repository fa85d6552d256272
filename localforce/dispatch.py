"""The REST route table, matched both by HTTP and by composite subrequests.

Every REST resource is an `ApiRoute`: a path under `/services/data/vXX.X`, a handler, and the name
its calls are counted under. `create_app` turns them into Starlette routes; `Dispatcher` matches a
subrequest URL (`/services/data/v62.0/sobjects/Account/001...`) to the same handler, so composite
requests run exactly the code a direct call would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.routing import compile_path

if TYPE_CHECKING:
    from .api import ApiRequest, ApiResponse

__all__ = ["DATA_PREFIX", "ApiRoute", "Dispatcher"]

DATA_PREFIX = "/services/data/v{version}"


@dataclass(frozen=True, slots=True)
class ApiRoute:
    path: str
    handler: Callable[[ApiRequest], ApiResponse]
    name: str

    @property
    def paths(self) -> tuple[str, ...]:
        """The route's full paths: with and without a trailing slash, as Salesforce accepts."""
        full = DATA_PREFIX + self.path
        if full.endswith(":path}"):
            return (full,)
        return (full, full.rstrip("/") + "/") if self.path else (full, full + "/")


class Dispatcher:
    """Matches request paths against the route table, in order (first match wins)."""

    def __init__(self, routes: Sequence[ApiRoute]) -> None:
        self._compiled = [
            (route, regex, convertors)
            for route in routes
            for regex, _, convertors in (compile_path(p) for p in route.paths)
        ]

    def match(self, path: str) -> tuple[ApiRoute, dict[str, Any]] | None:
        for route, regex, convertors in self._compiled:
            found = regex.match(path)
            if found is not None:
                params = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                return route, params
        return None
