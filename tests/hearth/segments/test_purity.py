"""The segments core is pure: it imports only the standard library and Hearth's pure modules."""

import hearth.segments
from tests.hearth.purity import impure_imports

ALLOWED_HEARTH = {
    "hearth.errors",
    "hearth.matching.match",
    "hearth.mirror.records",
    "hearth.segments",
    "hearth.sync.fields",
    "hearth.tracking.aggregates",
    "hearth.tracking.events",
}


def test_segments_import_no_io_libraries() -> None:
    assert impure_imports(hearth.segments, ALLOWED_HEARTH) == []


def test_the_public_names_are_exported() -> None:
    public = {name for name in vars(hearth.segments) if not name.startswith("_")}
    modules = {"evaluation", "facts", "fields", "operators", "rules"}
    assert set(hearth.segments.__all__) == public - modules
