"""The open sockets of customers and agents, the output channel that pushes bot turns, and
what a customer or agent is shown of a conversation.

Pushes go through the relay (`relay.py`): in this process on the embedded default, over
Redis pub/sub between Rasa replicas. Each process delivers to the sockets it holds."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel

from quickconnect.config import Settings, load_settings
from quickconnect.services import agent_console as console
from rasa_extensions.webchat.common import CHANNEL, _dumps, in_db
from rasa_extensions.webchat.relay import Envelope, Relay, relay_for


class Hub:
    """Live sockets of this process: customers per conversation, signed-in agents."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.customers: dict[str, set[Any]] = defaultdict(set)
        self.agents: dict[Any, console.AgentInfo] = {}
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._presence_writes: dict[int, asyncio.Task[None]] = {}
        self.relay: Relay = relay_for(settings or load_settings(), self.deliver)

    async def start(self) -> None:
        """Before the server takes sockets: subscribe to the other replicas' pushes."""
        await self.relay.start()

    async def stop(self) -> None:
        await self.relay.stop()

    async def _send(self, sockets: list[Any], payload: dict[str, Any]) -> None:
        text = _dumps(payload)
        for ws in sockets:
            with contextlib.suppress(Exception):  # a closed socket is dropped on its own
                await ws.send(text)

    async def deliver(self, envelope: Envelope) -> None:
        """Write one push from the relay to the sockets of this process it is for."""
        payload = envelope.get("payload")
        if not isinstance(payload, dict):
            return
        if envelope.get("to") == "customer":
            sockets = list(self.customers.get(str(envelope.get("conversation")), ()))
        elif envelope.get("to") == "agents":
            sockets = list(self.agents)
        else:
            return
        await self._send(sockets, payload)

    async def to_customer(self, conversation_id: str, payload: dict[str, Any]) -> None:
        """To every socket of the conversation, on whichever replica it is open."""
        await self.relay.publish(
            {"to": "customer", "conversation": conversation_id, "payload": payload}
        )

    async def to_agents(self, payload: dict[str, Any]) -> None:
        """To every signed-in agent console, on every replica."""
        await self.relay.publish({"to": "agents", "payload": payload})

    async def set_presence(self, agent_id: int, *, online: bool) -> None:
        """Write an agent's presence once every earlier write for them has landed.

        Each write runs in a thread that a cancelled socket handler cannot stop: without this
        chain, a ping's "online" still running when the console closes could commit after the
        "offline" of the close and leave a gone agent online, so chats would queue for no one.
        """
        previous = self._presence_writes.get(agent_id)

        async def write() -> None:
            if previous is not None:
                await asyncio.wait({previous})  # its outcome is its own caller's business
            await in_db(console.set_presence, agent_id, online=online)

        task = asyncio.ensure_future(write())
        self._presence_writes[agent_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._presence_writes.get(agent_id) is done:
                del self._presence_writes[agent_id]

        task.add_done_callback(forget)
        await asyncio.shield(task)  # a cancelled caller leaves the write to finish in order

    async def push_queue(self) -> None:
        items = await in_db(console.queue)
        await self.to_agents({"type": "queue", "items": [i.as_json() for i in items]})


class WebOutput(CollectingOutputChannel):
    """Collects the bot's messages (for the no-silence check) and pushes each one at once."""

    def __init__(self, hub: Hub, conversation_id: str) -> None:
        super().__init__()
        self.hub = hub
        self.conversation_id = conversation_id

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def _persist_message(self, message: dict[str, Any]) -> None:
        await super()._persist_message(message)
        await self.hub.to_customer(self.conversation_id, customer_view(message, "bot"))


def customer_view(message: dict[str, Any], sender: str, **extra: Any) -> dict[str, Any]:
    """One message as the widget renders it."""
    view: dict[str, Any] = {"type": "message", "from": sender, "text": message.get("text") or ""}
    buttons = message.get("buttons") or message.get("quick_replies")
    if buttons:
        view["buttons"] = [
            {"title": b.get("title", ""), "payload": b.get("payload", b.get("title", ""))}
            for b in buttons
        ]
    view.update(extra)
    return view


def transcript(events: list[dict[str, Any]], *, for_agent: bool) -> list[dict[str, Any]]:
    """Customer, bot, agent and system messages of a conversation, in order."""
    lines: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        meta = event.get("metadata") or {}
        ts = event.get("timestamp")
        if kind == "user":
            text = meta.get("display_text") or event.get("text") or ""
            lines.append({"type": "message", "from": "user", "text": text, "ts": ts})
        elif kind == "bot":
            data = event.get("data") or {}
            msg = {"text": event.get("text"), "buttons": data.get("buttons")}
            if meta.get("qc_event"):
                lines.append(customer_view(msg, "system", event=meta["qc_event"], ts=ts))
            elif meta.get("qc_from") == "agent":
                lines.append(customer_view(msg, "agent", agent_name=meta.get("agent_name"), ts=ts))
            else:
                view = customer_view(msg, "bot", ts=ts)
                if not for_agent and lines and lines[-1].get("buttons"):
                    lines[-1] = {k: v for k, v in lines[-1].items() if k != "buttons"}
                lines.append(view)
        elif kind == "action" and for_agent and event.get("name") not in (None, "action_listen"):
            name = event["name"]
            if name.startswith("action_") and name != "action_session_start":
                lines.append({"type": "action", "from": "action", "text": name, "ts": ts})
    if not for_agent:  # old buttons are history, only the latest can be clicked
        for line in lines[:-1]:
            line.pop("buttons", None)
    return lines
