"""Serving ASGI apps on several ports from one process, with one Ctrl-C stopping them all.

localforce serves one org over HTTP and HTTPS this way, and `make run` adds Hearth beside it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

__all__ = ["Listener", "serve"]


@dataclass(frozen=True, kw_only=True)
class Listener:
    app: ASGIApp
    host: str
    port: int
    certfile: Path | None = None
    keyfile: Path | None = None


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve`, which owns all servers."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_async(listeners: list[Listener], log_level: str = "warning") -> None:
    servers = [
        _Server(
            uvicorn.Config(
                item.app,
                host=item.host,
                port=item.port,
                ssl_certfile=str(item.certfile) if item.certfile else None,
                ssl_keyfile=str(item.keyfile) if item.keyfile else None,
                log_level=log_level,
                lifespan="off",
            )
        )
        for item in listeners
    ]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve() for server in servers))


def serve(listeners: list[Listener], log_level: str = "warning") -> None:
    asyncio.run(serve_async(listeners, log_level))
