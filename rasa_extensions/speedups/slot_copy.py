"""Copy slots without the generic `copy.copy` protocol.

Rasa builds a new `DialogueStateTracker` many times per message (every prediction replays
the conversation from a fresh tracker, forms validate on a temporary one, `copy()` and
`travel_back_in_time` make more), and each one copies every slot of the domain with
`copy.copy`, which goes through `__reduce_ex__` and `copyreg`. That was about 7% of the Rasa
server's CPU per message with this domain's 40 slots (py-spy, one conversation at a time).
`Slot.__copy__` here makes the same shallow copy directly: a new object of the same class
whose attributes are the original's (Rasa's slot classes keep all their state in
`__dict__`). Installed by `install()`, which the registry
(`rasa_extensions/speedups/__init__.py`) calls.
"""

from __future__ import annotations

from rasa.shared.core.slots import Slot


def copy_slot(slot: Slot) -> Slot:
    """What `copy.copy(slot)` returns, made directly."""
    new = object.__new__(type(slot))
    new.__dict__.update(slot.__dict__)
    return new


def install() -> None:
    """Give Rasa's slots `copy_slot` as their `__copy__` (idempotent)."""
    Slot.__copy__ = copy_slot  # type: ignore[attr-defined]
