"""The add-on catalog, and finding a service or tier in what the customer typed."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.catalog import ADDONS
from quickconnect.db.models import AddonService
from quickconnect.nlp.patterns import catalog_code_for, catalog_phrases
from quickconnect.services.subscriptions.common import ServiceView, TierView, UnknownService, _cents

# --- catalog lookups ------------------------------------------------------------------------------


def _service_view(service: AddonService) -> ServiceView:
    spec = next((a for a in ADDONS if a.code == service.code), None)
    tiers = sorted(service.tiers, key=lambda t: (t.monthly_price, t.id))
    return ServiceView(
        code=service.code,
        name=service.name,
        category=service.category,
        description=service.description,
        activation_hours=int(service.activation_hours),
        modification_fee=_cents(service.modification_fee),
        cancellation_fee=_cents(service.cancellation_fee),
        cancellation_fee_months=spec.cancellation_fee_months if spec else None,
        terms=service.terms,
        tiers=tuple(TierView(t.code, t.name, _cents(t.monthly_price)) for t in tiers),
    )


def service_catalog(session: Session) -> list[ServiceView]:
    """Every add-on service with its tiers, in catalog order."""
    services = session.execute(select(AddonService).order_by(AddonService.id)).scalars().all()
    return [_service_view(service) for service in services]


def get_service(session: Session, code: str) -> ServiceView:
    service = session.execute(
        select(AddonService).where(AddonService.code == code.strip().upper())
    ).scalar_one_or_none()
    if service is None:
        raise UnknownService(f"We don't offer a service called {code!r}.")
    return _service_view(service)


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2013", "-")
    text = re.sub(r"[^\w\s+-]", " ", text)
    return " ".join(text.split())


_FILLER = re.compile(
    r"^(the|a|an|my|that|this|to|on|for)\s+|\s+(service|subscription|add-?on|add on|one|"
    r"please|pls|package|pack|thing)$"
)


def find_service(text: str | None) -> str | None:
    """The catalog code of the add-on named in loose wording ("the netflix thing",
    "intl calls", "cloud vault subscription", "cancel my streammax please"), else None.
    A longer text counts only when every service name inside it points at one service."""
    if not text or not text.strip():
        return None
    phrase = _normalise(text)
    while phrase:
        code = catalog_code_for("service_name", phrase)
        if code:
            return code
        shorter = _FILLER.sub("", phrase)
        if shorter == phrase:
            break
        phrase = shorter
    whole = _normalise(text)
    found = {
        code
        for name, code in catalog_phrases()["service_name"].items()
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", whole)
    }
    return found.pop() if len(found) == 1 else None


_TIER_WORDS: dict[str, tuple[str, ...]] = {
    # extra ways customers name a tier, on top of its name and code
    "STREAM_STD": ("standard", "basic", "hd", "normal", "regular", "cheaper one"),
    "STREAM_PREM": ("premium", "4k", "premium 4k", "uhd", "ultra hd"),
    "INTL_100": ("100", "100 min", "100 mins", "hundred minutes", "small"),
    "INTL_500": ("500", "500 min", "500 mins", "five hundred minutes", "big", "large"),
    "CLOUD_100": ("100gb", "100 gb", "100 gigs", "small"),
    "CLOUD_1TB": ("1tb", "1 tb", "one terabyte", "terabyte", "1000 gb", "big", "large"),
    "BOOST_5": ("5gb", "5 gb", "5 gigs", "five gb", "small"),
    "BOOST_15": ("15gb", "15 gb", "15 gigs", "fifteen gb", "big", "large"),
    "SPORTS_STD": ("sports", "standard", "basic", "normal", "regular"),
    "SPORTS_PLUS": ("sports plus", "plus", "premium"),
}


def find_tier(service: ServiceView, text: str | None) -> TierView | None:
    """The tier of `service` named in `text` ("premium", "the 500 minutes one", "1TB"), else
    None. The longest matching name wins, so "sports plus" is not "sports"."""
    if not text or not text.strip():
        return None
    wording = f" {_normalise(text)} "
    best: tuple[int, TierView] | None = None
    for tier in service.tiers:
        names = {_normalise(tier.name), tier.code.lower(), *_TIER_WORDS.get(tier.code, ())}
        for name in names:
            if name and f" {name} " in wording and (best is None or len(name) > best[0]):
                best = (len(name), tier)
    return best[1] if best else None
