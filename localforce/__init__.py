"""localforce: a local Salesforce org over HTTP.

org = Org.open("var/localforce")      # or Org.open(None) for an in-memory org
bootstrap(org)                        # first user, connected app
app = create_app(org)                 # an ASGI app: OAuth, REST, SOQL, Collections
"""

from .app import create_app
from .bootstrap import Credentials, bootstrap
from .clock import Clock
from .org import Org, OrgConfig

__all__ = ["Clock", "Credentials", "Org", "OrgConfig", "bootstrap", "create_app"]
