"""The segments core is pure: it imports only the standard library and Hearth's pure modules."""

import ast
import sys
from pathlib import Path

import hearth.segments

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
    package = Path(hearth.segments.__file__).parent
    for module in sorted(package.glob("*.py")):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "hearth":
                    assert any(
                        name == allowed or name.startswith(allowed + ".")
                        for allowed in ALLOWED_HEARTH
                    ), f"{module.name} imports {name}"
                else:
                    assert top in sys.stdlib_module_names, f"{module.name} imports {name}"


def test_the_public_names_are_exported() -> None:
    public = {name for name in vars(hearth.segments) if not name.startswith("_")}
    modules = {"evaluation", "facts", "fields", "operators", "rules"}
    assert set(hearth.segments.__all__) == public - modules
