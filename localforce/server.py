"""Serving ASGI apps on several ports from one process, with one Ctrl-C stopping them all.

localforce serves one org over HTTP and HTTPS this way, and `make run` adds Hearth beside it.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

__all__ = ["Listener", "free_port", "serve", "serving_in_thread"]


@dataclass(frozen=True, kw_only=True)
class Listener:
    app: ASGIApp
    host: str
    port: int
    certfile: Path | None = None
    keyfile: Path | None = None

    def config(
        self, *, log_level: str, timeout_graceful_shutdown: int | None = None
    ) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            ssl_certfile=str(self.certfile) if self.certfile else None,
            ssl_keyfile=str(self.keyfile) if self.keyfile else None,
            log_level=log_level,
            # Hearth's app starts its Salesforce worker and disposes its engine in its
            # lifespan; localforce's app has none, so "auto" runs what each app defines.
            lifespan="auto",
            timeout_graceful_shutdown=timeout_graceful_shutdown,
        )


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve`, which owns all servers."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_async(listeners: list[Listener], log_level: str = "warning") -> None:
    servers = [_Server(item.config(log_level=log_level)) for item in listeners]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve() for server in servers))


def serve(listeners: list[Listener], log_level: str = "warning") -> None:
    asyncio.run(serve_async(listeners, log_level))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving_in_thread(listener: Listener, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve one listener from a background thread (tests, benchmarks); yields its base URL."""
    server = uvicorn.Server(
        # A client still holding a keep-alive connection must not stall a test's teardown.
        listener.config(log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on {listener.host}:{listener.port}")
        time.sleep(0.02)
    scheme = "https" if listener.certfile else "http"
    try:
        yield f"{scheme}://{listener.host}:{listener.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
