"""Dialogue policies that let TED sit out predictions a rule or a memorised story has decided.

Rasa runs every policy for every prediction and then keeps one
(`DefaultPolicyPredictionEnsemble`): the highest confidence wins, a tie goes to the higher
priority. RulePolicy (priority 6) and MemoizationPolicy (3) predict with confidence 1.0 when a
rule or a training story matches, and TED (priority 1) can then never win: at best it ties and
loses on priority.
Yet TED's inference was about a third of the Rasa server's CPU under `qa.bench` (py-spy), and
in this assistant's form- and rule-driven flows most predictions are decided that way.

So the rule and memoization policies here note "decided" for the tracker they predicted on,
and TED, run after them in the same prediction, returns an all-zero prediction instead of
running its model. The chosen action is the same as with the stock classes, by construction:

- only a confidence of exactly 1.0 counts as decided (RulePolicy's "no rule applies" answer is
  `core_fallback_threshold`, below 1.0);
- not after an `ActionExecutionRejected`: the ensemble then zeroes the rejected action in every
  prediction, and TED's answer may be the one that is left;
- not when TED could make an end-to-end (text-based) prediction, which outranks the others.

If TED happens to run first, it simply runs; the order only changes the cost, never the result.
`tests/e2e/test_policy_shortcut.py` replays the test stories with and without the shortcut.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME, PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME, TEXT

from rasa_extensions.queued_task import redirect_to_queued_task

_decision = threading.local()  # one prediction runs its policies in one thread, one by one


def _last_action_rejected(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return True
        if isinstance(event, ActionExecuted):
            return False
    return False


def note_prediction(tracker: DialogueStateTracker, prediction: PolicyPrediction) -> None:
    """Remember that `tracker`'s next action is decided, if `prediction` settles it."""
    if prediction.max_confidence >= 1.0 and not _last_action_rejected(tracker):
        _decision.mark = (weakref.ref(tracker), len(tracker.events))


def is_decided(tracker: DialogueStateTracker) -> bool:
    """Has a rule or a memorised story already settled this tracker's next action?"""
    mark = getattr(_decision, "mark", None)
    return mark is not None and mark[0]() is tracker and mark[1] == len(tracker.events)


def forget() -> None:
    """Drop the note (tests; a new prediction overwrites it anyway)."""
    _decision.mark = None


class _NotesDecisions:
    """Mixin for a rule-like policy: after predicting, note whether that settled the action."""

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        prediction = super().predict_action_probabilities(  # type: ignore[misc]
            tracker, domain, rule_only_data=rule_only_data, **kwargs
        )
        prediction = redirect_to_queued_task(tracker, domain, prediction)
        note_prediction(tracker, prediction)
        return prediction


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class DecidingMemoizationPolicy(_NotesDecisions, MemoizationPolicy):
    """MemoizationPolicy that notes when a memorised story settles the next action."""


def _last_previous_action(states: list[dict[str, Any]]) -> Any:
    if not states:
        return None
    return (states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)


class RuleIndex:
    """One rule lookup's keys, grouped by the action their last state comes after.

    RulePolicy finds the rules that apply by testing every key (373 here) against the
    conversation's last state, then the survivors against the states before it; that first
    pass was about half of each prediction's CPU. A rule whose last state names a previous
    action (not "should not be set") can only apply when the conversation's last action is
    that one (`RulePolicy._is_rule_applicable`), so only those keys and the keys that name
    none need the full test. The result is the same set of keys.
    """

    def __init__(self, lookup: dict[str, Any]) -> None:
        self.keys = frozenset(lookup)
        self.open: set[str] = set()  # keys any last state may match
        self.after: dict[str, set[str]] = {}
        for key in lookup:
            action = _last_previous_action(RulePolicy._rule_key_to_state(key))
            if not action or action == SHOULD_NOT_BE_SET or not isinstance(action, str):
                self.open.add(key)
            else:
                self.after.setdefault(action, set()).add(key)

    def candidates(self, state: dict[str, Any]) -> set[str]:
        """The keys that may apply to a conversation whose last state is `state`."""
        return self.open | self.after.get(_last_previous_action([state]), set())


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class DecidingRulePolicy(_NotesDecisions, RulePolicy):
    """RulePolicy that notes when a rule settles the next action, and looks its rules up
    through a `RuleIndex`."""

    def _rule_index(self, lookup: dict[str, Any]) -> RuleIndex:
        indexes: dict[int, RuleIndex] = self.__dict__.setdefault("_rule_indexes", {})
        index = indexes.get(id(lookup))
        # Training edits the lookups in place: an index that no longer matches is rebuilt.
        if index is None or index.keys != lookup.keys():
            index = indexes[id(lookup)] = RuleIndex(lookup)
        return index

    def _get_possible_keys(self, lookup: dict[str, Any], states: list[Any]) -> set[str]:
        if not states:
            return super()._get_possible_keys(lookup, states)
        latest = states[-1]
        possible = {
            key
            for key in self._rule_index(lookup).candidates(latest)
            if self._is_rule_applicable(key, 0, latest)
        }
        for turn, state in enumerate(reversed(states[:-1]), start=1):
            possible = {key for key in possible if self._is_rule_applicable(key, turn, state)}
        return possible


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class DeferringTEDPolicy(TEDPolicy):
    """TEDPolicy that skips its model when a rule or memorised story has decided."""

    shortcut_enabled = True  # class switch, so tests can compare with and without
    skipped = 0  # predictions answered without the model since start-up (tests, debugging)

    def _may_predict_from_text(self, tracker: DialogueStateTracker) -> bool:
        """Could this prediction be end-to-end (it would outrank the rule's)?"""
        if self.only_e2e:
            return True
        return tracker.latest_action_name == ACTION_LISTEN_NAME and TEXT in self.fake_features

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        precomputations: Any = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if (
            self.shortcut_enabled
            and self.model is not None
            and is_decided(tracker)
            and not self._may_predict_from_text(tracker)
        ):
            DeferringTEDPolicy.skipped += 1
            return self._prediction(self._default_predictions(domain))
        prediction = super().predict_action_probabilities(
            tracker,
            domain,
            rule_only_data=rule_only_data,
            precomputations=precomputations,
            **kwargs,
        )
        return redirect_to_queued_task(tracker, domain, prediction)
