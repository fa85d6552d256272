"""Hearth: open-source website-visitor identification with a two-way Salesforce integration.

The public API is the few names in `__all__`; everything else may change without notice.
"""

from hearth._version import __version__
from hearth.app import create_app
from hearth.errors import HearthError
from hearth.settings import Settings

__all__ = ["HearthError", "Settings", "__version__", "create_app"]
