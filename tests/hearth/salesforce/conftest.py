"""Fixtures for the Salesforce client's tests: the shared localforce harness."""

from tests.hearth.localforce_harness import (  # noqa: F401
    BASE_URL,
    REDIRECT,
    Harness,
    MemoryStore,
    RecordingTransport,
    Sleeps,
    anyio_backend,
    connect,
    harness,
    org,
    rotation,
    sf,
    tokens,
)
