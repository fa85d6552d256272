"""Who a visitor is: company domains from email addresses and from IP addresses.

- `ip_addresses` (pure): parse a client address, decide whether it is public, truncate it
  for storage.
- `email_companies` (pure): the company domain of an email address or any domain; never a
  free-mail or disposable one.
- `ip_resolvers`: reverse-IP lookups behind one seam, `CompanyResolver`, over a customer's
  MaxMind DB or CSV file (``docs/ip-resolution.md``).
"""

from hearth.identity.email_companies import (
    company_domain,
    company_domain_from_email,
    is_disposable_email_domain,
    is_personal_mail_domain,
)
from hearth.identity.ip_addresses import (
    IPV4_STORED_PREFIX,
    IPV6_STORED_PREFIX,
    IPAddress,
    ip_for_storage,
    is_public,
    parse_ip,
    truncate_ip,
)
from hearth.identity.ip_resolvers import (
    DEFAULT_CACHE_SIZE,
    CachedResolver,
    ChainResolver,
    CompanyResolver,
    CsvRangeResolver,
    MaxMindLayout,
    MaxMindResolver,
    ResolvedCompany,
    ResolverDataError,
    resolvers_from_config,
)

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "IPV4_STORED_PREFIX",
    "IPV6_STORED_PREFIX",
    "CachedResolver",
    "ChainResolver",
    "CompanyResolver",
    "CsvRangeResolver",
    "IPAddress",
    "MaxMindLayout",
    "MaxMindResolver",
    "ResolvedCompany",
    "ResolverDataError",
    "company_domain",
    "company_domain_from_email",
    "ip_for_storage",
    "is_disposable_email_domain",
    "is_personal_mail_domain",
    "is_public",
    "parse_ip",
    "resolvers_from_config",
    "truncate_ip",
]
