"""The tracking core is pure: it imports only the standard library and Hearth's pure parts."""

import hearth.tracking
from tests.hearth.purity import impure_imports

ALLOWED_HEARTH = {
    "hearth.errors",
    "hearth.matching.domains",
    "hearth.provisioning.catalogue",
    "hearth.tracking",
}


def test_tracking_imports_no_io_libraries() -> None:
    assert impure_imports(hearth.tracking, ALLOWED_HEARTH) == []


def test_the_public_names_are_exported() -> None:
    public = {name for name in vars(hearth.tracking) if not name.startswith("_")}
    modules = {"aggregates", "dirty", "events", "sessions"}
    assert set(hearth.tracking.__all__) == public - modules
