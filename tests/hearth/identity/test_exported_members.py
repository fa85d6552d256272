from types import ModuleType

import hearth.identity


def test_all_public_names_are_exported() -> None:
    public_names = {
        name
        for name, value in vars(hearth.identity).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert set(hearth.identity.__all__) == public_names
