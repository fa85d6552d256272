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
from .client import RetryPolicy, SalesforceClient, SaveResult, UpsertResult, UsageMeter
from .errors import SalesforceError
from .soql import escape_literal, identifier, in_list_chunks, quote
from .versions import API_VERSION

__all__ = [
    "API_VERSION",
    "RetryPolicy",
    "SalesforceClient",
    "SalesforceError",
    "SaveResult",
    "TokenStore",
    "Tokens",
    "UpsertResult",
    "UsageMeter",
    "authorize_url",
    "escape_literal",
    "exchange_code",
    "identifier",
    "in_list_chunks",
    "pkce_pair",
    "quote",
    "revoke",
]
