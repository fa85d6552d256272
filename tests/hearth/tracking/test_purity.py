"""The tracking core is pure: it imports only the standard library and Hearth's pure parts."""

import ast
import sys
from pathlib import Path

import hearth.tracking

ALLOWED_HEARTH = {
    "hearth.errors",
    "hearth.matching.domains",
    "hearth.provisioning.catalogue",
    "hearth.tracking",
}


def test_tracking_imports_no_io_libraries() -> None:
    package = Path(hearth.tracking.__file__).parent
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
    public = {name for name in vars(hearth.tracking) if not name.startswith("_")}
    modules = {"aggregates", "dirty", "events", "sessions"}
    assert set(hearth.tracking.__all__) == public - modules
