import tomllib
from pathlib import Path
from types import ModuleType

import hearth


def test_all_public_names_are_exported() -> None:
    public_names = {
        name
        for name, value in vars(hearth).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert set(hearth.__all__) == public_names | {"__version__"}


def test_version_is_the_one_in_pyproject() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert hearth.__version__ == pyproject["project"]["version"]
