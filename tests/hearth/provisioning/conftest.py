"""The Salesforce client's localforce fixtures, for the provisioning round trip."""

from tests.hearth.salesforce.conftest import (  # noqa: F401
    anyio_backend,
    harness,
    org,
    rotation,
    sf,
    tokens,
)
