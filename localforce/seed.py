"""Fill an org with a realistic, deterministic data set of any size.

The data looks like a real sales org's, including its mess: Websites typed every which way
(`http://www.acme.com/about`, `ACME.com`, `www.acme.io/`, blank), one domain shared by a company's
regional subsidiaries, contacts at free-mail addresses, converted leads, stale opportunities.

Determinism. Every value is a function of `seed`, the record counters a run starts from and
`as_of` (default `SEED_EPOCH`); timestamps are `as_of` minus seeded offsets, never the wall clock.
Seeding two fresh orgs with the same arguments therefore stores identical rows, timestamps
included, except for two things that belong to the org: the two-character pod inside every ID
(random per org) and the audit timestamps of the seed users, which `create_user` takes from the
org clock. A second run into the same org continues from the record counters, so it appends new
companies and people instead of repeating the first run's. Pass `as_of=org.clock.now()` for data
whose dates sit around today (open opportunities closing next quarter, recent SystemModstamps).

Scale. Rows are generated lazily in batches of `BATCH_SIZE` and bulk-inserted, one transaction
per batch, so memory stays flat whatever the size. Nothing keeps a list of parent IDs: a run
reserves a contiguous counter range per object while it holds the org lock, so the ID of the k-th
account is arithmetic, and everything a child copies from its parent (domain, name, owner, country)
is recomputed from the parent's counter with a keyed hash instead of being looked up.

Fidelity. Rows carry exactly what `Dml.insert` would store: schema defaults, audit fields,
`Name` from first and last name, Opportunity stage-derived fields, CampaignMember response fields,
Campaign member counters, and the `Sent`/`Responded` CampaignMemberStatus rows of each campaign.
"""

from __future__ import annotations

import functools
import hashlib
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .bootstrap import create_user
from .ids import make_id
from .org import Org
from .schema import FieldType, ObjectDef
from .standard_objects import LEAD_STATUSES, OPPORTUNITY_STAGES
from .values import Stored, to_stored

__all__ = ["BATCH_SIZE", "SEED_EPOCH", "SEED_USER_DOMAIN", "Progress", "SeedReport", "seed"]

Progress = Callable[[str, int, int], None]

SEED_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Large enough to amortise a transaction, small enough that a batch is a few megabytes.
BATCH_SIZE = 5_000
SEED_USER_DOMAIN = "seed.localforce.test"

_DAY_MS = 86_400_000
_HISTORY_MS = 3 * 365 * _DAY_MS
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd: multiplying by it spreads bits
_RECORDS_PER_USER = 20_000
_MIN_USERS = 5
_SUBSIDIARY_PER_MILLE = 30
_CONVERTED_SHARE = 0.10
_FREE_MAIL_CONTACT_PERCENT = 12
_FREE_MAIL_LEAD_PERCENT = 25
_CAMPAIGN_JOIN_SHARE = 0.22


@dataclass(frozen=True, kw_only=True)
class SeedReport:
    """What one `seed` run inserted, per object, and how long it took."""

    users: int  # created by this run; seed users left by earlier runs are reused
    record_types: int
    accounts: int
    contacts: int
    leads: int
    converted_leads: int  # included in `leads`
    opportunities: int
    campaigns: int
    campaign_member_statuses: int
    campaign_members: int
    seconds: float

    @property
    def records(self) -> int:
        return (
            self.users + self.record_types + self.accounts + self.contacts + self.leads
            + self.opportunities + self.campaigns + self.campaign_member_statuses
            + self.campaign_members
        )  # fmt: skip


# -- word lists -------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST_NAMES = _words("""
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
    Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty
    Anthony Sandra Mark Ashley Steven Emily Andrew Michelle Joshua Amanda Kevin Melissa Brian
    Stephanie Ryan Rebecca Jacob Laura Nicholas Olivia Eric Emma Jonathan Sophia Aaron Chloe Ethan
    Grace Noah Hannah Liam Zoe Lucas Mia Oliver Ava Samuel Isabella Benjamin Charlotte Wei Mei
    Hiroshi Yuki Raj Priya Arjun Ananya Mohammed Fatima Omar Aisha Carlos Maria Luis Sofia Diego
    Valentina Javier Lucia Pierre Camille Louis Margaux Hans Anna Lukas Lena Jan Eva Lars Ingrid
    Sven Freya Marco Giulia Paolo Francesca Dmitri Olga Ivan Katya Kwame Amara Chidi Ngozi Sean
    Siobhan Niamh Connor Aoife Mateo Camila Jin Min-jun Seo-yeon Ji-woo Thanh Linh
""")
_LAST_NAMES = _words("""
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Chen Wang Zhang Li
    Liu Yang Huang Kim Park Choi Tanaka Suzuki Sato Watanabe Patel Shah Singh Kumar Gupta Sharma
    Iyer Reddy Khan Ahmed Hassan Ali Mueller Schmidt Schneider Fischer Weber Wagner Becker Hoffmann
    Dubois Moreau Laurent Bernard Lefebvre Rossi Russo Ferrari Esposito Bianchi Romano Silva Santos
    Oliveira Costa Pereira Fernandes Jansen Bakker Visser Andersson Johansson Nilsson Larsen Hansen
    Nielsen Kowalski Nowak Novak Ivanov Petrov Popescu O'Brien Murphy Kelly O'Connor Byrne Walsh
    McCarthy MacDonald Stewart Okafor Mensah Adeyemi Cohen Levi Friedman Smith-Jones Garcia-Lopez
""")
# Company names are a brand (head + tail) and a noun; the noun decides the industry.
_BRAND_HEADS = _words("""
    North South East West Blue Red Green Silver Golden Iron Copper Cedar Oak Pine Maple Birch
    Willow Aspen Summit Peak Ridge River Lake Harbor Bay Coast Ocean Sky Star Sun Moon Bright Clear
    True Prime Apex Vertex Nova Terra Aero Astra Quantum Vector Matrix Pixel Signal Cloud Data
    Swift Rapid Bold Keen Smart Zen Pure Core Fusion Echo Atlas Orion Titan Falcon Eagle Hawk Wolf
    Bear Fox Lion Tiger Cobalt Crimson Indigo Amber Jade Onyx Granite Marble Crystal Frost Storm
    Thunder Blaze Ember Spark Flux Pulse Hyper Omni Meta Neo Opti Inter Trans Uni Poly Bio Eco Geo
    Agri Medi Fin Tele Info Alpha Beta Delta Sigma Omega Zeta Kappa Lumen Sol Luna Vita Evergreen
""")
_BRAND_TAILS = _words("""
    bridge field stone wave point gate forge leaf path line view vale wood brook crest dale ford
    haven light mark mount port shore side spring water wind worth scape logic sphere scale stack
    shift sync sense soft tech tron ify ly io ex ix on ara ium able hub base grid loop mind craft
    cast link wise ware works lab gen nest bloom root yard rock cliff glen moor heath land ville
    ton burg wick dyne tica nexus verse ology metrics flow bit byte cell rise fly jet quest
""")
_NOUNS: tuple[tuple[str, str], ...] = (
    ("Logistics", "Transportation"), ("Freight", "Shipping"), ("Analytics", "Technology"),
    ("Software", "Technology"), ("Systems", "Technology"), ("Labs", "Biotechnology"),
    ("Therapeutics", "Biotechnology"), ("Health", "Healthcare"), ("Medical", "Healthcare"),
    ("Capital", "Finance"), ("Financial", "Finance"), ("Bank", "Banking"),
    ("Insurance", "Insurance"), ("Energy", "Energy"), ("Solar", "Energy"), ("Power", "Utilities"),
    ("Foods", "Food & Beverage"), ("Brewing", "Food & Beverage"), ("Farms", "Agriculture"),
    ("Apparel", "Apparel"), ("Outfitters", "Retail"), ("Markets", "Retail"), ("Media", "Media"),
    ("Studios", "Entertainment"), ("Telecom", "Telecommunications"), ("Networks", "Communications"),
    ("Construction", "Construction"), ("Builders", "Construction"),
    ("Engineering", "Engineering"), ("Consulting", "Consulting"), ("Partners", "Consulting"),
    ("Advisors", "Finance"), ("Chemicals", "Chemicals"), ("Materials", "Manufacturing"),
    ("Manufacturing", "Manufacturing"), ("Industries", "Manufacturing"), ("Robotics", "Machinery"),
    ("Machines", "Machinery"), ("Electronics", "Electronics"), ("Devices", "Electronics"),
    ("Hotels", "Hospitality"), ("Travel", "Hospitality"), ("Learning", "Education"),
    ("Academy", "Education"), ("Environmental", "Environmental"), ("Recycling", "Environmental"),
    ("Motors", "Transportation"), ("Foundation", "Not For Profit"), ("Games", "Recreation"),
    ("Outdoors", "Recreation"), ("Security", "Technology"), ("Group", "Other"),
)  # fmt: skip
_COMPANY_SPACE = len(_BRAND_HEADS) * len(_BRAND_TAILS) * len(_NOUNS)

_TITLES: tuple[tuple[str, str], ...] = (
    ("CEO", "Executive"), ("Founder", "Executive"), ("Managing Director", "Executive"),
    ("CTO", "Engineering"), ("CFO", "Finance"), ("COO", "Operations"),
    ("Chief Revenue Officer", "Sales"), ("VP of Sales", "Sales"), ("VP Marketing", "Marketing"),
    ("Head of Growth", "Marketing"), ("Director of Engineering", "Engineering"),
    ("Director of IT", "IT"), ("IT Manager", "IT"), ("Marketing Manager", "Marketing"),
    ("Marketing Operations Manager", "Marketing"), ("Demand Generation Manager", "Marketing"),
    ("Sales Manager", "Sales"), ("Account Executive", "Sales"),
    ("Sales Development Representative", "Sales"), ("Customer Success Manager", "Customer Success"),
    ("Product Manager", "Product"), ("Senior Software Engineer", "Engineering"),
    ("Solutions Architect", "Engineering"), ("Data Analyst", "Analytics"),
    ("Procurement Manager", "Procurement"), ("Purchasing Agent", "Procurement"),
    ("Operations Manager", "Operations"), ("HR Director", "Human Resources"),
    ("Office Manager", "Administration"), ("Head of Partnerships", "Business Development"),
    ("Business Development Manager", "Business Development"), ("Controller", "Finance"),
)  # fmt: skip
_FREE_MAIL = _words("gmail.com gmail.com gmail.com yahoo.com outlook.com hotmail.com icloud.com "
                    "aol.com proton.me gmx.de")  # fmt: skip
# The shapes people type a company's website in; `{d}` is the domain, `{D}` its name upper-cased.
_WEBSITE_FORMS = (
    "http://www.{d}/about", "{D}", "https://{d}", "www.{d}/", "https://www.{d}", "https://www.{d}/",
    "{d}", "www.{d}", "http://{d}", "https://{d}/en-us/home", "http://www.{d}", "https://{d}/",
    "https://www.{d}/contact", "{d}/", "https://www.{d}", "www.{d}",
)  # fmt: skip
_NO_WEBSITE_PERCENT = 7
_LEADING_DIGITS = dict(zip("0123456789", "2345678923", strict=True))
_EMAIL_FORMS = ("{f}.{l}", "{f}.{l}", "{f}.{l}", "{i}{l}", "{f}{l}", "{f}", "{f}_{l}", "{l}.{f}")


@dataclass(frozen=True, slots=True)
class _Country:
    names: tuple[str, ...]  # the spellings found in real data, most common first
    weight: int
    tlds: tuple[str, ...]
    legal: tuple[str, ...]  # legal-form suffixes of company names
    phones: tuple[str, ...]  # phone number shapes, `#` a digit, `%` 2 to 9
    cities: tuple[tuple[str, str | None, str], ...]  # city, state, postal code shape


_COUNTRIES: tuple[_Country, ...] = (
    _Country(("United States", "United States", "USA", "US"), 50,
             ("com", "com", "com", "com", "io", "co", "net", "ai"),
             ("Inc", "Inc.", "LLC", "Corp.", "Corporation", "Co.", ""),
             ("(%##) %##-####", "%##-%##-####", "+1 %## %## ####"),
             (("San Francisco", "CA", "941##"), ("New York", "NY", "100##"),
              ("Austin", "TX", "787##"), ("Chicago", "IL", "606##"), ("Seattle", "WA", "981##"),
              ("Boston", "MA", "021##"), ("Denver", "CO", "802##"), ("Atlanta", "GA", "303##"),
              ("Los Angeles", "CA", "900##"), ("Miami", "FL", "331##"),
              ("Minneapolis", "MN", "554##"), ("Raleigh", "NC", "276##"))),
    _Country(("United Kingdom", "UK", "GB"), 12, ("co.uk", "co.uk", "com"),
             ("Ltd", "Limited", "PLC", "Ltd."), ("+44 20 #### ####", "020 #### ####"),
             (("London", None, "EC#A #BB"), ("Manchester", None, "M# #AB"),
              ("Edinburgh", None, "EH# #AB"), ("Bristol", None, "BS# #TU"))),
    _Country(("Germany", "Deutschland", "DE"), 8, ("de", "de", "com"),
             ("GmbH", "AG", "GmbH & Co. KG"), ("+49 30 ########", "+49 89 #######"),
             (("Berlin", "Berlin", "10###"), ("Munich", "Bavaria", "80###"),
              ("Hamburg", "Hamburg", "20###"))),
    _Country(("France",), 5, ("fr", "com"), ("SAS", "SA", "SARL"), ("+33 1 ## ## ## ##",),
             (("Paris", None, "750##"), ("Lyon", None, "690##"))),
    _Country(("Canada", "CA"), 6, ("ca", "com"), ("Inc", "Ltd", "Corp."),
             ("(%##) %##-####", "+1 %## %## ####"),
             (("Toronto", "ON", "M5V #A#"), ("Vancouver", "BC", "V6B #A#"),
              ("Montreal", "QC", "H3B #A#"))),
    _Country(("Australia",), 5, ("com.au", "com.au", "com"), ("Pty Ltd", "Ltd"),
             ("+61 2 #### ####", "(02) #### ####"),
             (("Sydney", "NSW", "2###"), ("Melbourne", "VIC", "3###"))),
    _Country(("Netherlands", "The Netherlands"), 4, ("nl", "com"), ("B.V.", "N.V."),
             ("+31 20 ### ####",),
             (("Amsterdam", None, "10## AB"), ("Rotterdam", None, "30## CD"))),
    _Country(("India",), 5, ("in", "co.in", "com"), ("Pvt Ltd", "Limited"),
             ("+91 80 #### ####", "+91 22 #### ####"),
             (("Bengaluru", "Karnataka", "560###"), ("Mumbai", "Maharashtra", "400###"))),
    _Country(("Singapore",), 3, ("sg", "com.sg", "com"), ("Pte Ltd",), ("+65 #### ####",),
             (("Singapore", None, "0#####"),)),
    _Country(("Japan",), 2, ("jp", "co.jp", "com"), ("K.K.", "Co., Ltd."), ("+81 3 #### ####",),
             (("Tokyo", None, "1##-####"), ("Osaka", None, "5##-####"))),
)  # fmt: skip
# One entry per weight point, so a hash modulo its length picks a country by weight.
_COUNTRY_TABLE = tuple(c for c in _COUNTRIES for _ in range(c.weight))
_COUNTRY_BY_NAME = {c.names[0]: c for c in _COUNTRIES}
# Regional arms share their parent's domain: the duplicate-domain case the product must handle.
_REGIONS: tuple[tuple[str, str | None], ...] = (
    ("EMEA", "United Kingdom"), ("APAC", "Singapore"), ("UK", "United Kingdom"),
    ("Deutschland", "Germany"), ("Canada", "Canada"), ("North America", "United States"),
    ("Holdings", None), ("France", "France"), ("Japan", "Japan"), ("India", "India"),
    ("Australia", "Australia"), ("Benelux", "Netherlands"),
)  # fmt: skip

_ACCOUNT_TYPES = (
    ("Prospect", 40), ("Customer - Direct", 30), ("Customer - Channel", 8),
    ("Channel Partner / Reseller", 6), ("Installation Partner", 3), ("Technology Partner", 5),
    ("Other", 3),
)  # fmt: skip
_STAGE_WEIGHTS = {
    "Prospecting": 14, "Qualification": 12, "Needs Analysis": 9, "Value Proposition": 8,
    "Id. Decision Makers": 6, "Perception Analysis": 5, "Proposal/Price Quote": 7,
    "Negotiation/Review": 6, "Closed Won": 18, "Closed Lost": 15,
}  # fmt: skip
# Dml maps the API's forecast category to the picklist label the UI shows.
_FORECAST_NAMES = {"BestCase": "Best Case", "Forecast": "Commit", "MostLikely": "Most Likely"}
_RECORD_TYPES = (
    ("New Business", "New_Business", "Opportunities with customers we have not sold to yet"),
    ("Renewal", "Renewal", "Renewals, upgrades and downgrades of existing contracts"),
)
_RENEWAL_SHARE = 0.35
_NEW_BUSINESS_DEALS = (
    "Platform License", "Pilot", "Enterprise Agreement", "Starter Plan", "Team Expansion",
    "Analytics Add-on", "Professional Services", "Annual Subscription", "Proof of Concept",
    "Multi-year Deal", "Onboarding Package", "API Access",
)  # fmt: skip
_RENEWAL_TYPES = (
    "Existing Customer - Upgrade", "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
)  # fmt: skip
_NEXT_STEPS = (
    "Send proposal", "Schedule demo", "Security review", "Follow up with procurement",
    "Intro to economic buyer", "Send MSA redlines", None, None,
)  # fmt: skip
_LEAD_STATUS_WEIGHTS = {"Open - Not Contacted": 45, "Working - Contacted": 30,
                        "Closed - Not Converted": 25}  # fmt: skip
_CONVERTED_STATUS = next(status for status, _, converted in LEAD_STATUSES if converted)
# name, type, is an event (gets an `Attended` status), start days before as_of, length in days
_CAMPAIGNS: tuple[tuple[str, str, bool, int, int], ...] = (
    ("Customer Summit", "Conference", True, 650, 2),
    ("Product Webinar: What's New", "Webinar", True, 520, 1),
    ("Spring Trade Show", "Trade Show", True, 380, 3),
    ("Monthly Newsletter", "Email", False, 240, 120),
    ("Partner Referral Program", "Referral Program", False, 120, 180),
    ("Retargeting Banner Ads", "Banner Ads", False, -20, 60),
)


# -- deterministic randomness -------------------------------------------------------------------


def _mix(value: int) -> int:
    """SplitMix64's finaliser: a fast, well-spread 64-bit hash of an integer."""
    x = (value + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _key(seed: int, stream: str) -> int:
    """A 64-bit key per (seed, stream), so that streams are independent of each other."""
    digest = hashlib.blake2b(f"{seed}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _permute(value: int, size: int, round_keys: tuple[int, ...]) -> int:
    """A keyed bijection on range(size): a Feistel network over the smallest even-bit domain
    holding `size`, walking the cycle until the result falls back inside the range. The round
    function is one multiplication (high bits of a 64-bit product): plenty to make neighbouring
    values look unrelated, and cheap, as every company name goes through it."""
    half = max(1, ((size - 1).bit_length() + 1) // 2)
    mask, shift = (1 << half) - 1, 64 - half
    while True:
        left, right = value >> half, value & mask
        for round_key in round_keys:
            left, right = right, left ^ ((((right ^ round_key) * _GOLDEN) & _MASK) >> shift)
        value = (left << half) | right
        if value < size:
            return value


def _fill(shape: str, rng: random.Random) -> str:
    """`shape` with each `#` replaced by a random digit and each `%` by one from 2 to 9 (North
    American area codes and exchanges never start with 0 or 1)."""
    digits = iter(f"{rng.randrange(10**20):020d}")
    return "".join(
        next(digits) if ch == "#" else _LEADING_DIGITS[next(digits)] if ch == "%" else ch
        for ch in shape
    )


def _local_part(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


_FIRST_LOCAL = {name: _local_part(name) for name in _FIRST_NAMES}
_LAST_LOCAL = {name: _local_part(name) for name in _LAST_NAMES}


def _email(first: str, last: str, domain: str, bits: int) -> str:
    given = _FIRST_LOCAL[first]
    form = _EMAIL_FORMS[bits % len(_EMAIL_FORMS)]
    return form.format(f=given, l=_LAST_LOCAL[last], i=given[0]) + "@" + domain


def _free_mail(first: str, last: str, bits: int) -> str:
    number = bits % 100
    suffix = str(number) if number < 60 else ""
    domain = _FREE_MAIL[(bits >> 7) % len(_FREE_MAIL)]
    return f"{_FIRST_LOCAL[first]}.{_LAST_LOCAL[last]}{suffix}@{domain}"


def _website(domain: str, bits: int) -> str | None:
    if bits % 100 < _NO_WEBSITE_PERCENT:
        return None
    label, _, rest = domain.partition(".")
    form = _WEBSITE_FORMS[(bits >> 7) % len(_WEBSITE_FORMS)]
    return form.format(d=domain, D=f"{label.upper()}.{rest}")


def _weighted(pairs: Iterable[tuple[str, int]]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Values and cumulative weights for `random.choices`."""
    values, cumulative, total = [], [], 0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cumulative.append(total)
    return tuple(values), tuple(cumulative)


# -- time ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _date_text(days: int) -> str:
    return (_UNIX_EPOCH + timedelta(days=days)).date().isoformat()


def _stamp(ms: int) -> str:
    """`values.format_datetime` of a moment in milliseconds since the Unix epoch, built from a
    cached date because a million-record run formats over a million timestamps."""
    days, rest = divmod(ms, _DAY_MS)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_date_text(days)}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}+0000"


def _day(ms: int) -> str:
    return _date_text(ms // _DAY_MS)


@dataclass(frozen=True, slots=True)
class _Timeline:
    """The history a run's records were created over, in milliseconds since the Unix epoch."""

    start: int
    end: int

    def created(self, index: int, count: int, noise: int) -> int:
        """When the index-th of `count` records was created: evenly spread plus noise within its
        slot, so that creation time rises with the record counter, as IDs do in a real org."""
        span = self.end - self.start
        return self.start + index * span // count + noise % max(span // count, 1)

    def first_index_at(self, moment: int, count: int) -> int:
        """The lowest index whose `created` is certainly at or after `moment` (exact integer
        ceiling: the products overflow a float's 53 bits)."""
        return max(0, -((self.start - moment) * count // (self.end - self.start)))


# -- rows ---------------------------------------------------------------------------------------


class _Table:
    """An object's columns in schema order and the row `Dml.insert` starts from: defaults,
    not-deleted, created and owned by the seeding administrator."""

    def __init__(self, obj: ObjectDef, user_id: str) -> None:
        self.obj = obj
        self.columns: tuple[str, ...] = ("_rid", *(f.name for f in obj.fields))
        self._position = {name: i for i, name in enumerate(self.columns)}
        template: list[Stored] = [None] * len(self.columns)
        for f in obj.fields:
            value: Stored
            if f.name in ("CreatedById", "LastModifiedById", "OwnerId"):
                value = user_id
            elif f.type is FieldType.BOOLEAN:
                value = int(bool(f.default_value))
            elif f.default_value is not None:
                value = to_stored(f, f.default_value)
            else:
                continue
            template[self._position[f.name]] = value
        self._template = template

    def row(
        self, rid: int, record_id: str, created: str, values: Mapping[str, Stored]
    ) -> list[Stored]:
        row = self._template.copy()
        position = self._position
        row[0] = rid
        row[position["Id"]] = record_id
        row[position["CreatedDate"]] = created
        row[position["LastModifiedDate"]] = created
        row[position["SystemModstamp"]] = created
        for name, value in values.items():
            row[position[name]] = value
        return row


@dataclass(frozen=True, slots=True)
class _Range:
    """The records a run inserts into one object: counters `first .. first + count - 1`."""

    key_prefix: str
    pod: str
    first: int
    count: int

    def rid(self, offset: int) -> int:
        return self.first + offset

    def id(self, offset: int) -> str:
        return make_id(self.key_prefix, self.pod, self.first + offset)


@dataclass(frozen=True, slots=True)
class _Company:
    short: str  # "Northbridge Logistics"
    domain: str
    industry: str
    country: _Country
    legal: str  # legal-form suffix, may be empty


@dataclass(frozen=True, slots=True)
class _Account:
    id: str
    name: str
    short: str
    domain: str
    website: str | None
    industry: str
    country: _Country
    owner: str
    parent: int | None  # offset of the parent account within the run


@dataclass(frozen=True, slots=True)
class _Contact:
    id: str
    first: str
    last: str
    email: str
    account: _Account
    created: int


@dataclass(slots=True)
class _CampaignInfo:
    id: str
    created: int
    statuses: tuple[tuple[str, bool], ...]  # label, counts as a response
    leads: int = 0
    contacts: int = 0
    responses: int = 0


class _Seeder:
    def __init__(self, org: Org, seed: int, as_of: datetime, progress: Progress | None) -> None:
        admin = org.meta("admin_user_id")
        if admin is None:
            raise ValueError("the org is not bootstrapped: run bootstrap(org) first")
        self.org = org
        self.seed = seed
        self.admin = admin
        end = (as_of - _UNIX_EPOCH) // timedelta(milliseconds=1)
        self.timeline = _Timeline(end - _HISTORY_MS, end)
        self.progress = progress
        self._company_keys = tuple(_mix(_key(seed, "Company") + r) for r in range(4))
        self._company_bits = _key(seed, "CompanyStyle")
        self._account_bits = _key(seed, "Account")
        self._contact_bits = _key(seed, "Contact")
        self.owners: list[str] = []
        self.campaigns: list[_CampaignInfo] = []
        self.accounts: _Range | None = None
        self.contacts: _Range | None = None
        self._members: list[list[Stored]] = []
        self._member_table = self.table("CampaignMember")
        self.counts: dict[str, int] = {}

    # -- plumbing --------------------------------------------------------------------------

    def object(self, name: str) -> ObjectDef:
        obj = self.org.object(name)
        assert obj is not None, name
        return obj

    def table(self, name: str) -> _Table:
        return _Table(self.object(name), self.admin)

    def reserve(self, table: _Table, count: int) -> _Range:
        """Counters for `count` records; contiguous because the run holds the org lock."""
        first = self.org.reserve_ids(table.obj, count) if count else 0
        return _Range(table.obj.key_prefix, self.org.pod, first, count)

    def rng(self, stream: str, first: int) -> random.Random:
        # String seeds hash with SHA-512, independent of PYTHONHASHSEED.
        return random.Random(f"localforce-seed:{self.seed}:{stream}:{first}")

    def report(self, name: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(name, done, total)

    def insert_batches(
        self, table: _Table, span: _Range, build: Callable[[int], list[Stored]]
    ) -> None:
        """Insert `span`'s rows batch by batch, each with the campaign members it brought."""
        name = table.obj.name
        if not span.count:
            return
        self.report(name, 0, span.count)
        for start in range(0, span.count, BATCH_SIZE):
            stop = min(span.count, start + BATCH_SIZE)
            with self.org.transaction():
                # A temporary, not a variable: each batch is freed before the next is built.
                self.org.insert_rows(
                    table.obj, table.columns, [build(offset) for offset in range(start, stop)]
                )
                self.flush_members()
            self.report(name, stop, span.count)
        self.counts[name] = self.counts.get(name, 0) + span.count

    def insert_one(self, table: _Table, created: int, values: Mapping[str, Stored]) -> str:
        rid, record_id = self.org.new_id(table.obj)
        self.org.insert_rows(
            table.obj, table.columns, [table.row(rid, record_id, _stamp(created), values)]
        )
        self.counts[table.obj.name] = self.counts.get(table.obj.name, 0) + 1
        return record_id

    # -- random-access identities ----------------------------------------------------------

    def company(self, index: int) -> _Company:
        """The index-th company of the seed's company space; distinct indexes name distinct
        companies (and domains), the permutation making neighbours look unrelated."""
        lap, slot = divmod(index, _COMPANY_SPACE)
        code = _permute(slot, _COMPANY_SPACE, self._company_keys)
        code, noun = divmod(code, len(_NOUNS))
        head, tail = divmod(code, len(_BRAND_TAILS))
        brand = _BRAND_HEADS[head] + _BRAND_TAILS[tail]
        word, industry = _NOUNS[noun]
        number = f" {lap + 1}" if lap else ""
        bits = _mix(self._company_bits ^ index)
        country = _COUNTRY_TABLE[bits % len(_COUNTRY_TABLE)]
        bits //= len(_COUNTRY_TABLE)
        joiner = "-" if bits % 10 == 0 else ""
        tld = country.tlds[(bits >> 4) % len(country.tlds)]
        legal = country.legal[(bits >> 8) % len(country.legal)]
        domain = f"{brand}{joiner}{word}{lap + 1 if lap else ''}".lower() + "." + tld
        return _Company(f"{brand} {word}{number}", domain, industry, country, legal)

    def _is_subsidiary(self, offset: int, bits: int) -> bool:
        return offset > 0 and bits % 1000 < _SUBSIDIARY_PER_MILLE

    def account(self, offset: int) -> _Account:
        """The offset-th account of this run, recomputed from its counter alone."""
        span = self.accounts
        assert span is not None
        rid = span.rid(offset)
        bits = _mix(self._account_bits ^ rid)
        owner = self.owners[(bits >> 10) % len(self.owners)]
        website_bits = bits >> 20
        parent: int | None = None
        if self._is_subsidiary(offset, bits):
            candidate = offset - 1 - (bits >> 40) % min(offset, 50)
            if not self._is_subsidiary(candidate, _mix(self._account_bits ^ span.rid(candidate))):
                parent = candidate
        if parent is None:
            company = self.company(2 * (rid - 1))
            name = f"{company.short} {company.legal}".rstrip()
            country = company.country
        else:
            company = self.company(2 * (span.rid(parent) - 1))
            region, region_country = _REGIONS[(bits >> 50) % len(_REGIONS)]
            name = f"{company.short} {region}"
            country = _COUNTRY_BY_NAME.get(region_country or "", company.country)
        return _Account(
            span.id(offset), name, company.short, company.domain,
            _website(company.domain, website_bits), company.industry, country, owner, parent,
        )  # fmt: skip

    def contact(self, offset: int) -> _Contact:
        """The offset-th contact of this run: what a converted lead must agree with."""
        span, accounts = self.contacts, self.accounts
        assert span is not None and accounts is not None
        bits = _mix(self._contact_bits ^ span.rid(offset))
        more = _mix(bits)
        first = _FIRST_NAMES[bits % len(_FIRST_NAMES)]
        bits //= len(_FIRST_NAMES)
        last = _LAST_NAMES[bits % len(_LAST_NAMES)]
        bits //= len(_LAST_NAMES)
        account = self.account(more % accounts.count)
        if bits % 100 < _FREE_MAIL_CONTACT_PERCENT:
            email = _free_mail(first, last, bits >> 7)
        else:
            email = _email(first, last, account.domain, bits >> 7)
        created = self.timeline.created(offset, span.count, more >> 20)
        return _Contact(span.id(offset), first, last, email, account, created)

    # -- phases ----------------------------------------------------------------------------

    def seed_users(self, count: int) -> None:
        """Owners for the records: seed users are the same in every run, so reruns reuse them."""
        created = 0
        self.report("User", 0, count)
        for k in range(count):
            lap, slot = divmod(k, len(_FIRST_NAMES) * len(_LAST_NAMES))
            # Fixed keys, not the seed's: every run finds the users earlier runs created.
            code = _permute(slot, len(_FIRST_NAMES) * len(_LAST_NAMES), (1, 2, 3, 4))
            last = _LAST_NAMES[code // len(_FIRST_NAMES)]
            first = _FIRST_NAMES[code % len(_FIRST_NAMES)]
            local = f"{_FIRST_LOCAL[first]}.{_LAST_LOCAL[last]}{lap + 1 if lap else ''}"
            username = f"{local}@{SEED_USER_DOMAIN}"
            row = self.org.conn.execute(
                'SELECT "Id", "IsActive" FROM "User" WHERE "Username" = ? AND "IsDeleted" = 0',
                (username,),
            ).fetchone()
            if row is None:
                self.owners.append(create_user(
                    self.org, username=username, first_name=first, last_name=last
                ))  # fmt: skip
                created += 1
            elif row[1]:  # Dml refuses inactive owners, so a deactivated seed user owns nothing
                self.owners.append(str(row[0]))
            self.report("User", k + 1, count)
        if not self.owners:
            self.owners.append(self.admin)
        self.counts["User"] = created

    def seed_record_types(self) -> dict[str, str]:
        table = self.table("RecordType")
        ids: dict[str, str] = {}
        with self.org.transaction():
            for name, developer_name, description in _RECORD_TYPES:
                row = self.org.conn.execute(
                    'SELECT "Id" FROM "RecordType" WHERE "SobjectType" = ? '
                    'AND "DeveloperName" = ? AND "IsDeleted" = 0',
                    ("Opportunity", developer_name),
                ).fetchone()
                ids[name] = str(row[0]) if row else self.insert_one(table, self.timeline.start, {
                    "Name": name, "DeveloperName": developer_name, "SobjectType": "Opportunity",
                    "Description": description,
                })  # fmt: skip
        return ids

    def seed_campaigns(self) -> None:
        """A handful of campaigns, each with the member statuses Dml gives a new campaign
        (`Sent`, the default, and `Responded`) plus `Attended` on events."""
        table, statuses = self.table("Campaign"), self.table("CampaignMemberStatus")
        span = self.reserve(table, len(_CAMPAIGNS))
        rng = self.rng("Campaign", span.first)
        end = self.timeline.end
        rows = []
        for offset, (name, kind, event, days_before, length) in enumerate(_CAMPAIGNS):
            start = end - (days_before + rng.randrange(-5, 6)) * _DAY_MS
            # Planned campaigns start within weeks, so every campaign exists before `as_of`.
            created = start - rng.randrange(30 * _DAY_MS, 60 * _DAY_MS)
            stop = start + length * _DAY_MS
            status = "Completed" if stop < end else "Planned" if start > end else "In Progress"
            budget = float(rng.randrange(10, 160) * 500)
            spent = None if status == "Planned" else float(round(budget * rng.uniform(0.6, 1.1)))
            values: dict[str, Stored] = {
                "Name": f"{name} {_day(start)[:4]}", "Type": kind, "Status": status,
                "StartDate": _day(start), "EndDate": _day(stop), "BudgetedCost": budget,
                "ActualCost": spent, "ExpectedRevenue": float(round(budget * rng.uniform(4, 20))),
                "ExpectedResponse": rng.randrange(20, 150) / 10,
                "NumberSent": float(rng.randrange(500, 25_000)),
                "IsActive": int(status != "Completed"), "OwnerId": rng.choice(self.owners),
            }  # fmt: skip
            rows.append(table.row(span.rid(offset), span.id(offset), _stamp(created), values))
            labels = [("Sent", True, False), ("Responded", False, True)]
            if event:
                labels.append(("Attended", False, True))
            responses = tuple((label, responded) for label, _, responded in labels)
            self.campaigns.append(_CampaignInfo(span.id(offset), created, responses))
        with self.org.transaction():
            self.org.insert_rows(table.obj, table.columns, rows)
            for campaign in self.campaigns:
                for order, (label, responded) in enumerate(campaign.statuses, start=1):
                    self.insert_one(statuses, campaign.created, {
                        "CampaignId": campaign.id, "Label": label, "SortOrder": order,
                        "IsDefault": int(order == 1), "HasResponded": int(responded),
                    })  # fmt: skip
        self.counts["Campaign"] = len(rows)

    def join_campaigns(
        self, rng: random.Random, person_field: str, person_id: str, name: str, since: int
    ) -> None:
        """Make some people members of one or two campaigns, each campaign at most once."""
        if not self.campaigns or rng.random() >= _CAMPAIGN_JOIN_SHARE:
            return
        table = self._member_table
        for campaign in rng.sample(self.campaigns, 1 if rng.random() < 0.7 else 2):
            joined = max(since, campaign.created) + rng.randrange(20 * _DAY_MS)
            joined = min(joined, self.timeline.end - 1)  # everything happened before `as_of`
            roll = rng.random()
            pick = 2 if roll < 0.12 and len(campaign.statuses) > 2 else 1 if roll < 0.4 else 0
            label, responded = campaign.statuses[pick]
            rid, member_id = self.org.new_id(table.obj)
            stamp = _stamp(joined)
            self._members.append(table.row(rid, member_id, stamp, {
                "CampaignId": campaign.id, person_field: person_id, "Status": label,
                "HasResponded": int(responded),
                "FirstRespondedDate": stamp[:10] if responded else None, "Name": name,
            }))  # fmt: skip
            if person_field == "LeadId":
                campaign.leads += 1
            else:
                campaign.contacts += 1
            campaign.responses += responded

    def flush_members(self) -> None:
        """Insert the pending members and bring the campaigns' counters up to date with them,
        in the caller's transaction, so that every commit leaves the counters right."""
        if not self._members:
            return
        table = self._member_table
        self.org.insert_rows(table.obj, table.columns, self._members)
        self.counts["CampaignMember"] = self.counts.get("CampaignMember", 0) + len(self._members)
        self._members.clear()
        self.org.conn.executemany(
            'UPDATE "Campaign" SET "NumberOfLeads" = ?, "NumberOfContacts" = ?, '
            '"NumberOfResponses" = ? WHERE "Id" = ?',
            [(c.leads, c.contacts, c.responses, c.id) for c in self.campaigns],
        )

    def picklist(self, object_name: str, field_name: str) -> tuple[str, ...]:
        field = self.object(object_name).field(field_name)
        assert field is not None
        return tuple(p.value for p in field.picklist)

    def seed_accounts(self, count: int) -> None:
        table = self.table("Account")
        self.accounts = span = self.reserve(table, count)
        rng = self.rng("Account", span.first)
        types, type_weights = _weighted(_ACCOUNT_TYPES)
        sources = self.picklist("Account", "AccountSource")

        def build(offset: int) -> list[Stored]:
            account = self.account(offset)
            country = account.country
            created = self.timeline.created(offset, count, rng.getrandbits(40))
            city, state, postal = rng.choice(country.cities)
            street = f"{rng.randrange(1, 2500)} {rng.choice(_STREETS)}"
            employees = int(10 ** rng.uniform(0.7, 5.0))
            revenue = float(round(employees * rng.uniform(60, 400), -1) * 1000)
            billing = (street, city, state, _fill(postal, rng), rng.choice(country.names))
            # Half the accounts ship where they bill, as in data typed in by sales reps.
            shipping = billing if rng.random() < 0.5 else (None,) * 5
            values: dict[str, Stored] = {
                "Name": account.name, "Type": rng.choices(types, cum_weights=type_weights)[0],
                "ParentId": None if account.parent is None else span.id(account.parent),
                **dict(zip(_BILLING, billing, strict=True)),
                **dict(zip(_SHIPPING, shipping, strict=True)),
                "Phone": _fill(rng.choice(country.phones), rng), "Website": account.website,
                "Industry": account.industry if rng.random() < 0.9 else None,
                "AnnualRevenue": revenue if rng.random() < 0.8 else None,
                "NumberOfEmployees": employees,
                "Ownership": "Subsidiary" if account.parent is not None
                else rng.choice(("Public", "Private", "Private", "Private", "Other")),
                "Rating": rng.choice(("Hot", "Warm", "Cold", None, None)),
                "AccountSource": rng.choice(sources), "OwnerId": account.owner,
            }  # fmt: skip
            return table.row(span.rid(offset), account.id, _stamp(created), values)

        self.insert_batches(table, span, build)

    def seed_contacts(self, count: int) -> None:
        table = self.table("Contact")
        self.contacts = span = self.reserve(table, count)
        rng = self.rng("Contact", span.first)
        sources = self.picklist("Contact", "LeadSource")

        def build(offset: int) -> list[Stored]:
            contact = self.contact(offset)
            account = contact.account
            title, department = rng.choice(_TITLES)
            name = f"{contact.first} {contact.last}"
            city, state, postal = rng.choice(account.country.cities)
            values: dict[str, Stored] = {
                "AccountId": account.id, "FirstName": contact.first, "LastName": contact.last,
                "Name": name, "MailingCity": city, "MailingState": state,
                "MailingPostalCode": _fill(postal, rng), "MailingCountry": account.country.names[0],
                "Phone": _fill(rng.choice(account.country.phones), rng),
                "MobilePhone": _fill(rng.choice(account.country.phones), rng)
                if rng.random() < 0.4 else None,
                "Email": contact.email, "Title": title, "Department": department,
                "LeadSource": rng.choice(sources) if rng.random() < 0.8 else None,
                "HasOptedOutOfEmail": int(rng.random() < 0.04),
                "DoNotCall": int(rng.random() < 0.02), "OwnerId": account.owner,
            }  # fmt: skip
            self.join_campaigns(rng, "ContactId", contact.id, name, contact.created)
            return table.row(span.rid(offset), contact.id, _stamp(contact.created), values)

        self.insert_batches(table, span, build)

    def seed_leads(self, count: int) -> None:
        """Leads, about a tenth of them converted into one of this run's contacts, created at
        the conversion: the lead then carries the contact's name, email and company."""
        table = self.table("Lead")
        span = self.reserve(table, count)
        rng = self.rng("Lead", span.first)
        statuses, status_weights = _weighted(_LEAD_STATUS_WEIGHTS.items())
        sources = self.picklist("Lead", "LeadSource")
        contacts, accounts = self.contacts, self.accounts
        timeline = self.timeline
        # Contacts are handed out in creation order, so a lead converts into a contact created at
        # or after the lead, and no contact comes from two leads.
        next_contact = 0
        converted = 0

        def convert(created: int) -> _Contact | None:
            nonlocal next_contact
            if contacts is None or not contacts.count or rng.random() >= _CONVERTED_SHARE:
                return None
            converts_at = min(created + rng.randrange(1, 60 * _DAY_MS), timeline.end)
            index = max(next_contact, timeline.first_index_at(converts_at, contacts.count))
            if index >= contacts.count:
                return None
            next_contact = index + 1
            return self.contact(index)

        def build(offset: int) -> list[Stored]:
            nonlocal converted
            rid, lead_id = span.rid(offset), span.id(offset)
            created = timeline.created(offset, count, rng.getrandbits(40))
            contact = convert(created)
            values: dict[str, Stored]
            if contact is not None:
                converted += 1
                first, last, account = contact.first, contact.last, contact.account
                company, domain, industry = account.name, account.domain, account.industry
                website, country, owner = account.website, account.country, account.owner
                email = contact.email
                converted_at = _stamp(contact.created)
                values = {
                    "Status": _CONVERTED_STATUS, "IsConverted": 1,
                    "ConvertedDate": converted_at[:10], "ConvertedAccountId": account.id,
                    "ConvertedContactId": contact.id,
                    # Converting updates the lead: its last modification is the conversion.
                    "LastModifiedDate": converted_at, "SystemModstamp": converted_at,
                }  # fmt: skip
            else:
                first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
                if accounts is not None and accounts.count and rng.random() < 0.05:
                    # Someone new at a company that is already an account: a likely duplicate.
                    known = self.account(rng.randrange(accounts.count))
                    company, domain, industry = known.short, known.domain, known.industry
                    country, website = known.country, known.website
                else:
                    fresh = self.company(2 * (rid - 1) + 1)
                    company = (
                        f"{fresh.short} {fresh.legal}".rstrip()
                        if rng.random() < 0.5
                        else fresh.short
                    )
                    domain, industry, country = fresh.domain, fresh.industry, fresh.country
                    website = _website(domain, rng.getrandbits(16)) if rng.random() < 0.6 else None
                bits = rng.getrandbits(16)
                if rng.randrange(100) < _FREE_MAIL_LEAD_PERCENT:
                    email = _free_mail(first, last, bits)
                else:
                    email = _email(first, last, domain, bits)
                owner = rng.choice(self.owners)
                values = {"Status": rng.choices(statuses, cum_weights=status_weights)[0]}
            title = rng.choice(_TITLES)[0]
            city, state, postal = rng.choice(country.cities)
            name = f"{first} {last}"
            employees = int(10 ** rng.uniform(0.5, 4.5))
            values.update({
                "FirstName": first, "LastName": last, "Name": name,
                # Forms collect titles as typed.
                "Title": title.lower() if rng.random() < 0.1 else title,
                "Company": company, "City": city, "State": state,
                "PostalCode": _fill(postal, rng), "Country": rng.choice(country.names),
                "Phone": _fill(rng.choice(country.phones), rng) if rng.random() < 0.7 else None,
                "Email": email, "Website": website,
                "LeadSource": rng.choice(sources),
                "Industry": industry if rng.random() < 0.6 else None,
                "Rating": rng.choice(("Hot", "Warm", "Cold", None)),
                "NumberOfEmployees": employees if rng.random() < 0.5 else None,
                "HasOptedOutOfEmail": int(rng.random() < 0.05), "OwnerId": owner,
            })  # fmt: skip
            if contact is None:  # Dml refuses converted leads as campaign members
                self.join_campaigns(rng, "LeadId", lead_id, name, created)
            return table.row(rid, lead_id, _stamp(created), values)

        self.insert_batches(table, span, build)
        self.counts["ConvertedLead"] = converted

    def seed_opportunities(self, count: int, record_types: Mapping[str, str]) -> None:
        table = self.table("Opportunity")
        span = self.reserve(table, count)
        rng = self.rng("Opportunity", span.first)
        accounts = self.accounts
        assert accounts is not None
        stages, stage_weights = _weighted(_STAGE_WEIGHTS.items())
        derived = {stage: _stage_fields(stage) for stage in stages}
        sources = self.picklist("Opportunity", "LeadSource")
        end = self.timeline.end

        def build(offset: int) -> list[Stored]:
            account = self.account(rng.randrange(accounts.count))
            created = self.timeline.created(offset, count, rng.getrandbits(40))
            stage = rng.choices(stages, cum_weights=stage_weights)[0]
            renewal = rng.random() < _RENEWAL_SHARE
            fields = derived[stage]
            if fields["IsClosed"]:
                close = min(created + rng.randrange(7, 180) * _DAY_MS, end)
            else:
                # Some open deals are past their close date, as in any real pipeline.
                close = max(created, end + rng.randrange(-45, 270) * _DAY_MS)
            if renewal:
                name = f"{account.short} - Renewal {_day(close)[:4]}"
            else:
                name = f"{account.short} - {rng.choice(_NEW_BUSINESS_DEALS)}"
            stamp = _stamp(created)
            campaign = (
                rng.choice(self.campaigns).id if self.campaigns and rng.random() < 0.1 else None
            )
            values: dict[str, Stored] = {
                "AccountId": account.id, "Name": name, "StageName": stage,
                "Amount": float(round(10 ** rng.uniform(3.3, 6.2), -2)), "CloseDate": _day(close),
                "Type": rng.choice(_RENEWAL_TYPES) if renewal else "New Customer",
                "NextStep": None if fields["IsClosed"] else rng.choice(_NEXT_STEPS),
                "LeadSource": rng.choice(sources) if rng.random() < 0.7 else None,
                "CampaignId": campaign,
                "RecordTypeId": record_types["Renewal" if renewal else "New Business"],
                "OwnerId": account.owner, "LastStageChangeDate": stamp, **fields,
            }  # fmt: skip
            return table.row(span.rid(offset), span.id(offset), stamp, values)

        self.insert_batches(table, span, build)


_STREETS = (
    "Main Street", "Market Street", "Broadway", "High Street", "Park Avenue", "King Street",
    "Mission St", "Elm Street", "Harbour Road", "Hauptstrasse", "Rue de Rivoli", "Collins Street",
    "Queen St W", "Orchard Road", "Station Road", "Innovation Drive", "Commerce Blvd",
    "Keizersgracht", "Technology Park", "Oak Avenue",
)  # fmt: skip
_BILLING = ("BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry")
_SHIPPING = (
    "ShippingStreet",
    "ShippingCity",
    "ShippingState",
    "ShippingPostalCode",
    "ShippingCountry",
)


def _stage_fields(stage: str) -> dict[str, Stored]:
    """What Dml derives from an opportunity's stage on insert."""
    _, probability, forecast, closed, won = next(s for s in OPPORTUNITY_STAGES if s[0] == stage)
    return {
        "Probability": float(probability),
        "ForecastCategory": forecast,
        "ForecastCategoryName": _FORECAST_NAMES.get(forecast, forecast),
        "IsClosed": int(closed),
        "IsWon": int(won),
    }


def seed(
    org: Org,
    *,
    accounts: int,
    contacts: int,
    leads: int,
    opportunities: int,
    seed: int = 0,
    progress: Progress | None = None,
    as_of: datetime | None = None,
) -> SeedReport:
    """Add a realistic data set to a bootstrapped org; see the module documentation.

    The history ends at `as_of` (default `SEED_EPOCH`): records were created over the three
    years before it. `progress(object_name, done, total)` is called as each object's batches
    commit. Contacts and opportunities belong to this run's accounts, so they need
    `accounts > 0`. The run holds the org lock throughout; each batch commits on its own, so an
    interrupted run leaves a consistent, smaller data set.
    """
    counts = {"accounts": accounts, "contacts": contacts, "leads": leads,
              "opportunities": opportunities}  # fmt: skip
    for name, value in counts.items():
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    if (contacts or opportunities) and not accounts:
        raise ValueError("contacts and opportunities belong to accounts: seed at least one account")
    moment = SEED_EPOCH if as_of is None else as_of
    if moment.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    began = time.perf_counter()
    total = sum(counts.values())
    with org.lock:
        seeder = _Seeder(org, seed, moment, progress)
        if total:
            seeder.seed_users(max(_MIN_USERS, total // _RECORDS_PER_USER))
        if contacts or leads:
            seeder.seed_campaigns()
        record_types = seeder.seed_record_types() if opportunities else {}
        seeder.seed_accounts(accounts)
        seeder.seed_contacts(contacts)
        seeder.seed_leads(leads)
        seeder.seed_opportunities(opportunities, record_types)
    done = seeder.counts
    return SeedReport(
        users=done.get("User", 0),
        record_types=done.get("RecordType", 0),
        accounts=done.get("Account", 0),
        contacts=done.get("Contact", 0),
        leads=done.get("Lead", 0),
        converted_leads=done.get("ConvertedLead", 0),
        opportunities=done.get("Opportunity", 0),
        campaigns=done.get("Campaign", 0),
        campaign_member_statuses=done.get("CampaignMemberStatus", 0),
        campaign_members=done.get("CampaignMember", 0),
        seconds=time.perf_counter() - began,
    )
