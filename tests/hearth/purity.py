"""The check that a package of Hearth's functional core stays pure: its modules import only the
standard library and the Hearth modules named as pure, never I/O (SQLAlchemy, httpx, FastAPI)."""

import ast
import sys
from collections.abc import Collection
from pathlib import Path
from types import ModuleType


def impure_imports(package: ModuleType, allowed_hearth: Collection[str]) -> list[str]:
    """`module imports name` for every import of `package` outside what is allowed."""
    found = []
    for module in sorted(Path(str(package.__file__)).parent.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                allowed = (
                    any(name == a or name.startswith(a + ".") for a in allowed_hearth)
                    if top == "hearth"
                    else top in sys.stdlib_module_names
                )
                if not allowed:
                    found.append(f"{module.name} imports {name}")
    return found
