"""The product catalog as data: the single source for seeding and for the NLU entity patterns.

Names are what customers see; aliases are the loose ways customers say them ("intl calls").
The seed loads these rows into the database, and the spaCy pipeline turns names and aliases
into `plan_name` / `service_name` patterns, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class PlanSpec:
    code: str
    name: str
    monthly_price: Decimal
    data_gb: int | None  # None = unlimited
    minutes: int | None  # None = unlimited
    speed_mbps: int
    lines: int
    features: tuple[str, ...]
    offered: bool = True  # False = legacy plan, no longer sold (matters for reverts)
    aliases: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class AddonTierSpec:
    code: str
    name: str
    monthly_price: Decimal


@dataclass(frozen=True)
class AddonSpec:
    code: str
    name: str
    category: str
    description: str
    activation_hours: int
    modification_fee: Decimal
    cancellation_fee: Decimal
    terms: str
    tiers: tuple[AddonTierSpec, ...]
    aliases: tuple[str, ...] = field(default_factory=tuple)
    # The cancellation fee applies only in the first N months after activation (the terms'
    # minimum period); None = whenever the service is cancelled after going live.
    cancellation_fee_months: int | None = None


@dataclass(frozen=True)
class ProtectionTierSpec:
    code: str
    name: str
    monthly_price: Decimal
    deductible: Decimal
    covers: tuple[str, ...]  # incident types: accidental_damage, theft, mechanical_failure
    device_types: tuple[str, ...]  # device types the tier fits
    max_device_value: Decimal
    aliases: tuple[str, ...] = field(default_factory=tuple)


PLANS: tuple[PlanSpec, ...] = (
    PlanSpec(
        "BASIC5",
        "Basic 5GB",
        Decimal("25.00"),
        5,
        500,
        50,
        1,
        ("5 GB data", "500 minutes", "unlimited texts"),
        aliases=("basic", "basic plan", "5gb plan", "basic 5", "cheapest plan"),
    ),
    PlanSpec(
        "EVERY20",
        "Everyday 20GB",
        Decimal("45.00"),
        20,
        None,
        150,
        1,
        ("20 GB data", "unlimited minutes and texts", "EU roaming"),
        aliases=("everyday", "everyday plan", "20gb plan", "20 gig plan", "everyday 20"),
    ),
    PlanSpec(
        "UNLPLUS",
        "Unlimited Plus",
        Decimal("70.00"),
        None,
        None,
        300,
        1,
        ("unlimited data", "unlimited minutes and texts", "5G priority", "hotspot 50 GB"),
        aliases=("unlimited", "unlimited plan", "unlimited plus plan", "the unlimited one"),
    ),
    PlanSpec(
        "FAMILY4",
        "Family Share",
        Decimal("110.00"),
        80,
        None,
        150,
        4,
        ("4 lines", "80 GB shared data", "unlimited minutes and texts", "parental controls"),
        aliases=("family", "family plan", "family share plan", "family lines"),
    ),
    PlanSpec(
        "START2",
        "Starter 2GB",
        Decimal("15.00"),
        2,
        200,
        20,
        1,
        ("2 GB data", "200 minutes"),
        offered=False,
        aliases=("starter", "starter plan", "2gb plan"),
    ),
)

ADDONS: tuple[AddonSpec, ...] = (
    AddonSpec(
        "STREAM",
        "StreamMax",
        "streaming",
        "Video streaming bundle with films, series and live sport highlights.",
        24,
        Decimal("0.00"),
        Decimal("5.00"),
        "Monthly rolling; cancel any time, a $5.00 fee applies in the first 3 months.",
        (
            AddonTierSpec("STREAM_STD", "Standard", Decimal("9.99")),
            AddonTierSpec("STREAM_PREM", "Premium 4K", Decimal("15.99")),
        ),
        aliases=(
            "streaming",
            "streammax",
            "stream max",
            "the netflix thing",
            "netflix",
            "video streaming",
            "tv streaming",
            "movies package",
            "netflix thing",
            "streaming service",
        ),
        cancellation_fee_months=3,
    ),
    AddonSpec(
        "INTL",
        "World Calling",
        "international_calling",
        "Discounted calls from your line to 60 countries.",
        2,
        Decimal("0.00"),
        Decimal("0.00"),
        "Minutes reset each billing cycle; unused minutes do not roll over.",
        (
            AddonTierSpec("INTL_100", "100 minutes", Decimal("5.00")),
            AddonTierSpec("INTL_500", "500 minutes", Decimal("12.00")),
        ),
        aliases=(
            "international calling",
            "intl calls",
            "international calls",
            "world calling",
            "calls abroad",
            "overseas calls",
            "intl calling",
            "international minutes",
            "intl minutes",
        ),
    ),
    AddonSpec(
        "CLOUD",
        "Cloud Vault",
        "cloud_storage",
        "Encrypted cloud backup for photos, contacts and files.",
        1,
        Decimal("2.00"),
        Decimal("0.00"),
        "Files are kept for 30 days after cancellation, then deleted.",
        (
            AddonTierSpec("CLOUD_100", "100 GB", Decimal("2.99")),
            AddonTierSpec("CLOUD_1TB", "1 TB", Decimal("9.99")),
        ),
        aliases=(
            "cloud storage",
            "cloud vault",
            "cloud backup",
            "online storage",
            "the cloud thing",
            "backup storage",
        ),
    ),
    AddonSpec(
        "SECURE",
        "SecureNet",
        "security_suite",
        "Antivirus, safe browsing and identity monitoring for up to 5 devices.",
        24,
        Decimal("0.00"),
        Decimal("10.00"),
        "12-month term; cancelling before the end of the term costs $10.00.",
        (AddonTierSpec("SECURE_STD", "Standard", Decimal("6.99")),),
        aliases=(
            "security suite",
            "securenet",
            "secure net",
            "antivirus",
            "virus protection",
            "internet security",
            "the antivirus thing",
        ),
        cancellation_fee_months=12,
    ),
    AddonSpec(
        "DATABOOST",
        "Data Boost",
        "extra_data",
        "Extra high-speed data on top of your plan, every month.",
        1,
        Decimal("0.00"),
        Decimal("0.00"),
        "Boost data expires at the end of each billing cycle.",
        (
            AddonTierSpec("BOOST_5", "5 GB", Decimal("7.00")),
            AddonTierSpec("BOOST_15", "15 GB", Decimal("15.00")),
        ),
        aliases=(
            "extra data",
            "data boost",
            "more data addon",
            "data add-on",
            "data top up",
            "data topup",
        ),
    ),
    AddonSpec(
        "SPORTS",
        "TV Sports Pack",
        "tv_channels",
        "Live sports channels on the QuickConnect TV app.",
        24,
        Decimal("3.00"),
        Decimal("0.00"),
        "Monthly rolling; cancel any time.",
        (
            AddonTierSpec("SPORTS_STD", "Sports", Decimal("12.99")),
            AddonTierSpec("SPORTS_PLUS", "Sports Plus", Decimal("19.99")),
        ),
        aliases=(
            "sports pack",
            "tv sports",
            "sports channels",
            "tv channels",
            "sport channels",
            "tv sports pack",
            "the sports thing",
            "sports thing",
            "sports package",
        ),
    ),
)

PROTECTION_TIERS: tuple[ProtectionTierSpec, ...] = (
    ProtectionTierSpec(
        "PROTECT_BASIC",
        "Protect Basic",
        Decimal("7.00"),
        Decimal("99.00"),
        ("accidental_damage", "mechanical_failure"),
        ("phone", "tablet", "smartwatch", "laptop"),
        Decimal("800.00"),
        aliases=("basic protection", "protect basic"),
    ),
    ProtectionTierSpec(
        "PROTECT_PLUS",
        "Protect Plus",
        Decimal("12.00"),
        Decimal("49.00"),
        ("accidental_damage", "mechanical_failure", "theft"),
        ("phone", "tablet", "smartwatch", "laptop"),
        Decimal("1500.00"),
        aliases=("plus protection", "protect plus"),
    ),
    ProtectionTierSpec(
        "PROTECT_PREMIUM",
        "Protect Premium",
        Decimal("17.00"),
        Decimal("29.00"),
        ("accidental_damage", "mechanical_failure", "theft"),
        ("phone", "tablet", "laptop"),
        Decimal("2500.00"),
        aliases=("premium protection", "protect premium"),
    ),
)

DEVICE_TYPES: tuple[str, ...] = ("phone", "tablet", "smartwatch", "laptop", "router")
INCIDENT_TYPES: tuple[str, ...] = ("accidental_damage", "theft", "mechanical_failure", "other")
