"""Subscriptions to additional services (subscriptions guide), minus the chat.

One module a procedure of the guide:

- Adding (`adding`): pick a service and tier from the catalog (`catalog`: `service_catalog`,
  `find_service`, `find_tier`), quote price, terms and activation time (`quote_add`), get a
  yes through the shared propose/confirm mechanism (`propose_add` -> `changes.confirm_change`,
  which runs the `subscription_add` handler). The subscription is created
  `pending_activation` with `activates_at`; `activation.activate_due_subscriptions` (run by
  `python -m quickconnect.jobs activate-due`) makes it live later and queues the
  "your service is live" message.
- Modifying (`modifying`): another tier of the same service (`quote_modify` /
  `propose_modify`), with the impact on the bill and any modification fee shown before the yes.
- Cancelling (`cancelling`): any cancellation fee and the refund or billing adjustment
  (`quote_cancel` / `propose_cancel`); the handler records both on the subscription, once.
`common` holds the kinds, errors, views, quotes and formatting; `lookups` the customer's
subscriptions and billing-cycle arithmetic; `request_check` reads a request from the chat.

Billing model (what the quotes say): an add-on is billed monthly in advance from the day it
goes live. Cancelling a live add-on stops it today: the days left in the current billing
cycle (today included) are credited when that cycle was already billed, and the days used
are charged when the add-on went live in this cycle (not billed yet). Changing tier takes
effect today: the price difference for the days left is prorated onto the next bill, and the
new price applies from then. Nothing is charged, and no fee applies, before activation.
Money is rounded half-up to cents.

Invariants: at most one live (pending or active) subscription per customer and service
(checked here and enforced by the `uq_subscriptions_one_live` index); cancelling twice never
refunds twice (the handler locks the row and refuses an already cancelled one).

Importing this package imports every handler: import it wherever `changes.confirm_change` may
see a subscription change.
"""

from __future__ import annotations

from datetime import UTC as UTC  # the module exposed it; tests/db/test_subscriptions.py uses it

from quickconnect.services.subscriptions.activation import activate_due_subscriptions
from quickconnect.services.subscriptions.adding import apply_add, propose_add, quote_add
from quickconnect.services.subscriptions.cancelling import (
    apply_cancel,
    propose_cancel,
    quote_cancel,
)
from quickconnect.services.subscriptions.catalog import (
    find_service,
    find_tier,
    get_service,
    service_catalog,
)
from quickconnect.services.subscriptions.common import (
    ADD_KIND,
    CANCEL_KIND,
    CENTS,
    LIVE_STATUSES,
    LOG_KIND,
    MODIFY_KIND,
    ZERO,
    AddQuote,
    AlreadySubscribed,
    CancelQuote,
    ModifyQuote,
    NothingToModify,
    NotSubscribed,
    ServiceView,
    SubscriptionError,
    SubscriptionOverview,
    SubscriptionQuoteStale,
    SubscriptionView,
    TierView,
    UnknownService,
    UnknownTier,
    format_date,
    format_time,
    usd,
)
from quickconnect.services.subscriptions.lookups import current_subscriptions, overview
from quickconnect.services.subscriptions.modifying import apply_modify, propose_modify, quote_modify
from quickconnect.services.subscriptions.request_check import (
    OPERATIONS,
    RequestCheck,
    check_request,
    tier_choices,
    without_service_names,
)

__all__ = [
    "ADD_KIND",
    "AddQuote",
    "AlreadySubscribed",
    "CANCEL_KIND",
    "CENTS",
    "CancelQuote",
    "LIVE_STATUSES",
    "LOG_KIND",
    "MODIFY_KIND",
    "ModifyQuote",
    "NotSubscribed",
    "NothingToModify",
    "OPERATIONS",
    "RequestCheck",
    "ServiceView",
    "SubscriptionError",
    "SubscriptionOverview",
    "SubscriptionQuoteStale",
    "SubscriptionView",
    "TierView",
    "UnknownService",
    "UnknownTier",
    "ZERO",
    "activate_due_subscriptions",
    "apply_add",
    "apply_cancel",
    "apply_modify",
    "check_request",
    "current_subscriptions",
    "find_service",
    "find_tier",
    "format_date",
    "format_time",
    "get_service",
    "overview",
    "propose_add",
    "propose_cancel",
    "propose_modify",
    "quote_add",
    "quote_cancel",
    "quote_modify",
    "service_catalog",
    "tier_choices",
    "usd",
    "without_service_names",
]
