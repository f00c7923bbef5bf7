"""Slots copied by `rasa_extensions.speedups.slot_copy` are the copies Python's generic
protocol makes.

Every slot of the project's domain (all the slot types it uses) is copied both ways: the
generic protocol (`__reduce_ex__`, as `copy.copy` did before) and `copy_slot`; the copies
must be of the same class with the same attributes, and independent of the original.
"""

from __future__ import annotations

import copy

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

import rasa_extensions  # noqa: F401 (installs slot_copy as the Rasa server does)
from quickconnect.config import PROJECT_ROOT
from rasa_extensions.speedups.slot_copy import copy_slot

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def generic_copy(slot: Slot) -> Slot:
    """`copy.copy` without a `__copy__` method: the object's reduce protocol."""
    reductor = slot.__reduce_ex__(4)
    return copy._reconstruct(slot, None, *reductor)  # type: ignore[attr-defined]


def test_rasas_slots_are_copied_by_copy_slot() -> None:
    assert Slot.__copy__ is copy_slot  # type: ignore[attr-defined]


def test_the_domain_uses_several_slot_types() -> None:
    assert len({type(slot).__name__ for slot in DOMAIN.slots}) >= 3


@pytest.mark.parametrize("slot", DOMAIN.slots, ids=lambda slot: slot.name)
def test_a_copy_is_the_generic_copy_and_independent(slot: Slot) -> None:
    before = dict(vars(slot))
    ours, generic = copy.copy(slot), generic_copy(slot)
    assert type(ours) is type(generic) is type(slot)
    assert vars(ours) == vars(generic) == before
    assert ours is not slot
    ours.value = "changed"
    assert ours.has_been_set and ours.value == "changed"
    assert vars(slot) == before


def test_trackers_built_from_the_domain_do_not_share_slots() -> None:
    first = DialogueStateTracker("a", DOMAIN.slots)
    second = DialogueStateTracker("b", DOMAIN.slots)
    first.update(SlotSet("plan_name", "Unlimited Plus"))
    assert second.get_slot("plan_name") is None
    assert DOMAIN.slots[[s.name for s in DOMAIN.slots].index("plan_name")].value is None
    copied = first.copy()
    assert copied.get_slot("plan_name") == "Unlimited Plus"
    copied.update(SlotSet("plan_name", "Basic 5GB"))
    assert first.get_slot("plan_name") == "Unlimited Plus"
