"""Every action and every form question, driven with empty and missing values: the reply guard
never fires.

The real action server (`rasa run actions`, strict guard: a broken reply comes back
unchanged) on a migrated and seeded database, SQLite and PostgreSQL. Rasa's own
`RemoteAction` calls it over HTTP with trackers built from Rasa events, exactly as the Rasa
server would, and turns the answer into `BotUttered` events with Rasa's templated NLG (so a
domain response an action names is rendered too). Every domain response (the forms' fixed
questions included) is also rendered by that NLG with the same trackers.

The values: no slot at all, every slot blank, identifiers that do not exist (DP-999999,
CL-999999, CS-999999, TK-999999, a plan and an add-on nobody sells), a latest message with
no entity, and each form's slots validated with None (a slot reset mid-form), "" and
unknown values, for customers with and without plans and claims, and for a conversation
that is not verified.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from ops.stack import Stack, free_port
from quickconnect import reply_guard
from quickconnect.config import PROJECT_ROOT, load_settings
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.services import identity
from tests.conftest import build_database, scratch_database

pytestmark = pytest.mark.e2e

# (account, a knowledge factor): with plans and claims, locked, cut off, add-ons, no plan.
CUSTOMERS = [
    ("QC-100001", "Biscuit"),
    ("QC-100002", "Porto"),
    ("QC-100004", "Lagos"),
    ("QC-100008", "Osaka"),
    ("QC-100009", "Tico"),
    (None, None),  # not verified
]
UNKNOWN = {
    "protection_plan_number": "DP-999999",
    "claim_number": "CL-999999",
    "case_number": "CS-999999",
    "ticket_number": "TK-999999",
    "plan_name": "Galactic 9000",
    "service_name": "Hologram TV",
    "amount": "$0",
    "date": "the twelfth of never",
    "email": "nobody@example.invalid",
    "phone_number": "+1 555 999 9999",
}
# Slots whose value the servers set themselves (verification), never blanked here.
OWN_SLOTS = {"verification_status", "verification_token", "account_number", "requested_slot"}
# Latest customer messages: nothing extracted, and an entity whose value is empty.
MESSAGES = [
    ("hmm", "inform", []),
    ("it's about that", "inform", [{"entity": "protection_plan_number", "value": ""}]),
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@dataclass
class Server:
    stack: Stack
    database_url: str


@pytest.fixture(scope="module")
def action_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The action server alone, strict, on a private seeded database of this backend."""
    with scratch_database(backend, tmp_path_factory) as url:
        build_database(url)
        settings = replace(
            load_settings(), database_url=url, action_server_port=free_port(), lock_store_url=""
        )
        os.environ[reply_guard.ENV_VAR] = reply_guard.STRICT  # the server inherits it
        stack = Stack(settings, log_dir=tmp_path_factory.mktemp("guard_sweep_log"))
        stack.start_actions()
        try:
            stack.wait_ready(120)
            yield Server(stack, url)
        finally:
            stack.stop()


def _verify(database_url: str, account: str | None, answer: str | None) -> tuple[str, str | None]:
    """A new conversation id and, for a customer, a real verification token for it."""
    conversation = f"guard-{uuid.uuid4().hex[:10]}"
    if account is None or answer is None:
        return conversation, None
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            result = identity.verify_factor(session, conversation, account, answer)
    finally:
        engine.dispose()
    assert result.token, f"{account} did not verify with the seeded answer"
    return conversation, result.token


def _scenarios(domain: Domain) -> dict[str, dict[str, Any]]:
    text_slots = [s.name for s in domain.slots if s.name not in OWN_SLOTS]
    names = {s.name for s in domain.slots}
    return {
        "no slots": {},
        "blank slots": {name: "" for name in text_slots if _takes_text(domain, name)},
        "unknown identifiers": {k: v for k, v in UNKNOWN.items() if k in names},
    }


def _takes_text(domain: Domain, name: str) -> bool:
    slot = next(s for s in domain.slots if s.name == name)
    return slot.type_name in ("text", "any")


def _tracker(
    domain: Domain,
    conversation: str,
    account: str | None,
    token: str | None,
    slots: dict[str, Any],
    message: tuple[str, str, list[dict[str, Any]]],
    form: str | None = None,
    requested: str | None = None,
    candidate: tuple[str, Any] | None = None,
) -> DialogueStateTracker:
    text, intent, entities = message
    events: list[Any] = [
        ActionExecuted("action_session_start"),
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": intent, "confidence": 1.0}, entities),
    ]
    if token:
        events += [
            SlotSet("verification_status", "verified"),
            SlotSet("verification_token", token),
            SlotSet("account_number", account),
        ]
    events += [SlotSet(name, value) for name, value in slots.items()]
    if form:
        events += [ActiveLoop(form), SlotSet("requested_slot", requested)]
    if candidate:  # what Rasa's form appends before it calls validate_<form>
        events += [ActionExecuted(form or "action_listen"), SlotSet(*candidate)]
    return DialogueStateTracker.from_events(conversation, events, domain.slots)


@dataclass
class Sweep:
    """What the sweep saw: replies checked, defects and crashes, each with its call."""

    checked: int = 0
    calls: int = 0
    defects: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)

    def check(self, where: str, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, BotUttered):
                self.checked += 1
                message = {"text": event.text, **(event.data or {})}
                self.defects += [
                    f"{where}: {d} in {event.text!r}" for d in reply_guard.message_defects(message)
                ]


async def _run_action(
    sweep: Sweep,
    where: str,
    name: str,
    endpoint: EndpointConfig,
    tracker: DialogueStateTracker,
    domain: Domain,
    nlg: TemplatedNaturalLanguageGenerator,
) -> None:
    sweep.calls += 1
    try:
        events = await RemoteAction(name, endpoint).run(
            CollectingOutputChannel(), nlg, tracker, domain
        )
    except ActionExecutionRejection:
        return  # a validation that rejects the slot: Rasa moves on, nothing is said
    except Exception as error:  # the action server answered 500 or nothing
        sweep.crashes.append(f"{where}: {error.__class__.__name__}: {error}")
        return
    sweep.check(where, events)


async def _render(
    sweep: Sweep, where: str, tracker: DialogueStateTracker, domain: Domain, nlg: Any
) -> None:
    for name in domain.responses:
        message = await nlg.generate(name, tracker, "rest")
        if message is not None:
            sweep.check(f"{where} {name}", [BotUttered(message.get("text"), message)])


async def _sweep(server: Server, domain: Domain) -> Sweep:
    sweep = Sweep()
    endpoint = EndpointConfig(url=server.stack.settings.action_endpoint_url)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    custom = [a for a in domain.user_actions if not a.startswith("utter_")]
    plain = [a for a in custom if not a.startswith("validate_")]
    for account, answer in CUSTOMERS:
        for scenario, slots in _scenarios(domain).items():
            conversation, token = _verify(server.database_url, account, answer)
            for message in MESSAGES:
                where = f"[{account or 'unverified'}, {scenario}, {message[0]!r}]"
                tracker = _tracker(domain, conversation, account, token, slots, message)
                await _render(sweep, where, tracker, domain, nlg)
                for name in plain:
                    await _run_action(
                        sweep, f"{where} {name}", name, endpoint, tracker, domain, nlg
                    )
            for form, spec in domain.forms.items():
                for requested in spec.get("required_slots", []):
                    candidates = [None, "", UNKNOWN.get(requested, "hmm")]
                    for candidate in candidates:
                        where = (
                            f"[{account or 'unverified'}, {scenario}, {form}.{requested}"
                            f"={candidate!r}]"
                        )
                        tracker = _tracker(
                            domain, conversation, account, token, slots, MESSAGES[0],
                            form, requested, (requested, candidate),
                        )  # fmt: skip
                        name = f"validate_{form}"
                        if name in custom:
                            await _run_action(sweep, where, name, endpoint, tracker, domain, nlg)
                    asking = _tracker(
                        domain, conversation, account, token, slots, MESSAGES[0], form, requested
                    )
                    for ask in (f"action_ask_{form}_{requested}", f"action_ask_{requested}"):
                        if ask in custom:
                            where = f"[{account or 'unverified'}, {scenario}, {form}] {ask}"
                            await _run_action(sweep, where, ask, endpoint, asking, domain, nlg)
    return sweep


def test_no_action_or_question_leaks_an_internal_value(
    action_server: Server, domain: Domain
) -> None:
    sweep = asyncio.run(_sweep(action_server, domain))
    print(
        f"sweep: {sweep.calls} action calls, reply guard: {sweep.checked} replies checked, "
        f"{len(sweep.defects)} defects, {len(sweep.crashes)} crashes"
    )
    assert sweep.calls > 1000 and sweep.checked > 1000, "the sweep ran too little to mean much"
    assert not sweep.defects, "\n".join(sweep.defects[:40])
    assert not sweep.crashes, "\n".join(sweep.crashes[:40])
