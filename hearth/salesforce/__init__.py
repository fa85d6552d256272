"""Hearth's Salesforce client: OAuth, REST, SOQL building, with typed errors.

    tokens = await exchange_code(http, login_url, client_id=..., client_secret=..., code=...,
                                 code_verifier=..., redirect_uri=...)
    async with SalesforceClient(tokens, token_store=store, client_id=..., client_secret=...,
                                login_url=login_url) as sf:
        async for lead in sf.query(f"SELECT Id FROM Lead WHERE Email = {quote(email)}"):
            ...

Errors are in `hearth.salesforce.errors`; all derive from `SalesforceError`.
"""

from .auth import Tokens, TokenStore, authorize_url, exchange_code, pkce_pair, revoke
from .client import (
    BulkIngestResult,
    BulkRowResult,
    RetryPolicy,
    SalesforceClient,
    SaveResult,
    SubRequest,
    SubResponse,
    UpsertResult,
    UsageMeter,
    bulk_csv,
)
from .errors import SalesforceError
from .soql import escape_literal, identifier, in_list_chunks, quote
from .versions import API_VERSION

__all__ = [
    "API_VERSION",
    "BulkIngestResult",
    "BulkRowResult",
    "RetryPolicy",
    "SalesforceClient",
    "SalesforceError",
    "SaveResult",
    "SubRequest",
    "SubResponse",
    "TokenStore",
    "Tokens",
    "UpsertResult",
    "UsageMeter",
    "authorize_url",
    "bulk_csv",
    "escape_literal",
    "exchange_code",
    "identifier",
    "in_list_chunks",
    "pkce_pair",
    "quote",
    "revoke",
]
