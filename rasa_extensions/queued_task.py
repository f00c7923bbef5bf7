"""Offer a queued second request at the first moment the bot would otherwise wait.

A customer who asks for two things in one message ("cancel the music add-on and tell me why
my bill is so high") gets the first done; the second sits in the `queued_task` slot
(rasa_extensions/message_parts.py). It must be offered when the first task is finished, and
no sooner: not in the middle of a form, a verification or a yes/no question. "Finished" is
exactly when every policy would predict `action_listen` with nothing open. So each policy's
prediction passes through `redirect_to_queued_task`, which turns that `action_listen` into
`action_offer_queued_task`. All three policies redirect the same way, so whichever wins the
ensemble gives the same action.
"""

from __future__ import annotations

from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

OFFER_ACTION = "action_offer_queued_task"
# Open business that must end before a second task is offered.
_OPEN_SLOTS = ("awaiting_confirmation", "pending_task", "requested_slot")
# After these, the conversation is not at a task's end.
_NOT_AFTER = frozenset(
    {ACTION_LISTEN_NAME, OFFER_ACTION, "action_session_start", "action_restart", "action_handoff"}
)
_NOT_AFTER_INTENTS = frozenset({"stop", "request_human", "goodbye", "deny"})


def should_offer(tracker: DialogueStateTracker) -> bool:
    """Is a queued task waiting, and is the conversation at rest after a finished task?"""
    if not tracker.get_slot("queued_task") or tracker.get_slot("queued_task_offered"):
        return False
    if tracker.active_loop_name or any(tracker.get_slot(s) for s in _OPEN_SLOTS):
        return False
    if tracker.latest_action_name in _NOT_AFTER:
        return False
    intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
    return intent not in _NOT_AFTER_INTENTS


def redirect_to_queued_task(
    tracker: DialogueStateTracker, domain: Domain, prediction: PolicyPrediction
) -> PolicyPrediction:
    """`prediction` with its `action_listen` moved to the offer, when `should_offer`."""
    if OFFER_ACTION not in domain.action_names_or_texts or not prediction.probabilities:
        return prediction
    listen = domain.index_for_action(ACTION_LISTEN_NAME)
    if prediction.max_confidence <= 0.0 or prediction.max_confidence_index != listen:
        return prediction
    if not should_offer(tracker):
        return prediction
    offer = domain.index_for_action(OFFER_ACTION)
    probabilities = list(prediction.probabilities)
    probabilities[offer], probabilities[listen] = probabilities[listen], 0.0
    prediction.probabilities = probabilities
    return prediction
