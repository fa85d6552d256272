"""The REST API version Hearth speaks, pinned in this one place.

66.0 is Spring '26: recent enough for every resource Hearth uses (sObject Collections upsert
needs 46.0, composite graph 50.0, unlimited query cursors 56.0), and Salesforce retires versions
only years after release (it has retired nothing newer than 30.0), so it stays served for the
product's foreseeable life. Moving it is a deliberate change, tested against localforce.
"""

__all__ = ["API_VERSION"]

API_VERSION = "66.0"
