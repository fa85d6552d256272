"""Hearth's version; kept equal to pyproject.toml's by tests/hearth/test_exported_members.py."""

__version__ = "0.1.0"
