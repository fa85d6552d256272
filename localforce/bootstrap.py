"""A new org's first records: the Organization, profiles, an administrator and a connected app.

Run once when an org's database is created; `connection.json` then tells any client how to log in.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import automation, bulk, identity, limits, oauth, permissions, query
from .dml import Dml, WriteOptions
from .identity import ConnectedApp, create_connected_app, list_connected_apps
from .identity import set_password as _set_password
from .org import Org
from .standard_objects import LEAD_STATUSES

__all__ = [
    "Credentials",
    "admin_credentials",
    "bootstrap",
    "create_user",
    "ensure_tables",
    "write_connection_file",
]

DEFAULT_CALLBACKS = (
    "http://127.0.0.1:8000/settings/salesforce/callback",
    "http://localhost:8000/settings/salesforce/callback",
    "https://login.salesforce.com/services/oauth2/success",
)
_PROFILES: tuple[tuple[str, bool, bool], ...] = (
    # name, API enabled, modify all data
    ("System Administrator", True, True),
    ("Standard User", True, False),
    ("Read Only", False, False),
)


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """What a client needs to connect: written to `DIR/connection.json`."""

    username: str
    password: str
    user_id: str
    app: ConnectedApp


def _insert_system(org: Org, object_name: str, values: dict[str, Any], user_id: str) -> str:
    """Insert into an object the API cannot create (Organization, Profile, LeadStatus)."""
    audit = {"CreatedById": user_id, "LastModifiedById": user_id}
    return org.insert_system_record(object_name, {**audit, **values})


def ensure_tables(org: Org) -> None:
    """The bookkeeping tables of every API module (idempotent)."""
    for module in (automation, bulk, identity, limits, oauth, permissions, query):
        module.ensure_tables(org)


def bootstrap(org: Org, *, username: str = "admin@localforce.test") -> Credentials | None:
    """Create the org's first records; returns None when the org was already set up."""
    ensure_tables(org)
    if org.meta("bootstrapped"):
        return None
    password = secrets.token_urlsafe(12)
    with org.transaction():
        user_obj = org.object("User")
        assert user_obj is not None
        # The first user is its own creator: reserve its ID so audit fields can point at it.
        admin_rid, admin_id = org.new_id(user_obj)
        org.set_meta("organization_id", _insert_system(org, "Organization", {
            "Name": "Localforce Org", "OrganizationType": "Developer Edition",
            "InstanceName": "LF1", "IsSandbox": 0, "Country": "US",
            "DefaultLocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
            "TimeZoneSidKey": "America/Los_Angeles",
        }, admin_id))  # fmt: skip
        profiles = {
            name: _insert_system(
                org,
                "Profile",
                {
                    "Name": name,
                    "UserType": "Standard",
                    "PermissionsApiEnabled": int(api),
                    "PermissionsModifyAllData": int(admin),
                    "PermissionsCustomizeApplication": int(admin),
                },
                admin_id,
            )
            for name, api, admin in _PROFILES
        }
        for order, (label, default, converted) in enumerate(LEAD_STATUSES, start=1):
            _insert_system(org, "LeadStatus", {
                "MasterLabel": label, "ApiName": label, "SortOrder": order,
                "IsDefault": int(default), "IsConverted": int(converted),
            }, admin_id)  # fmt: skip
        now = org.now()
        org.insert_row(user_obj, admin_rid, {
            "Id": admin_id, "IsDeleted": 0, "CreatedDate": now, "CreatedById": admin_id,
            "LastModifiedDate": now, "LastModifiedById": admin_id, "SystemModstamp": now,
            "Username": username, "FirstName": "Admin", "LastName": "User", "Name": "Admin User",
            "Email": username, "Alias": "admin", "CommunityNickname": "admin", "IsActive": 1,
            "ProfileId": profiles["System Administrator"], "UserType": "Standard",
            "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
            "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
        })  # fmt: skip
        org.set_meta("admin_user_id", admin_id)
        org.set_meta("admin_username", username)
        org.set_meta("admin_password", password)
        org.set_meta("bootstrapped", now)
        permissions.provision(org)
    _set_password(org, admin_id, password)
    app = create_connected_app(org, "Hearth", DEFAULT_CALLBACKS)
    return Credentials(username=username, password=password, user_id=admin_id, app=app)


def admin_credentials(org: Org) -> Credentials:
    """The bootstrap administrator and default connected app of an existing org."""
    apps = list_connected_apps(org)
    return Credentials(
        username=org.meta("admin_username") or "",
        password=org.meta("admin_password") or "",
        user_id=org.meta("admin_user_id") or "",
        app=apps[0],
    )


def create_user(
    org: Org, *, username: str, last_name: str, first_name: str | None = None,
    profile: str = "Standard User", password: str | None = None,
) -> str:  # fmt: skip
    """Create an active user (seeding, tests); returns its ID."""
    profile_id = org.conn.execute(
        'SELECT "Id" FROM "Profile" WHERE "Name" = ?', (profile,)
    ).fetchone()[0]
    user_obj = org.object("User")
    assert user_obj is not None
    opts = WriteOptions(user_id=org.meta("admin_user_id") or "")
    user_id = Dml(org).insert(user_obj, {
        "Username": username, "LastName": last_name, "FirstName": first_name,
        "Email": username, "Alias": (first_name or last_name)[:8], "ProfileId": profile_id,
    }, opts)  # fmt: skip
    if password is not None:
        _set_password(org, user_id, password)
    return user_id


def write_connection_file(
    data_dir: Path, instance_url: str, creds: Credentials, *, admin_token: str
) -> Path:
    path = data_dir / "connection.json"
    path.write_text(
        json.dumps(
            {
                "instance_url": instance_url,
                "client_id": creds.app.client_id,
                "client_secret": creds.app.client_secret,
                "username": creds.username,
                "password": creds.password,
                "admin_token": admin_token,
            },
            indent=2,
        )
        + "\n"
    )
    path.chmod(0o600)
    return path
