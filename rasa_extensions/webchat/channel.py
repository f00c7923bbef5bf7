"""The web chat input channel that credentials.yml names: the tracker, agent sessions and
the routes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
)
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from quickconnect.services import agent_console as console
from rasa_extensions.webchat.agent_api import add_agent_api
from rasa_extensions.webchat.agent_socket import AgentSocket
from rasa_extensions.webchat.common import CHANNEL, COOKIE, _json, in_db
from rasa_extensions.webchat.customer_socket import CustomerSocket
from rasa_extensions.webchat.hub import Hub, customer_view
from rasa_extensions.webchat.lead import add_lead_pages
from rasa_extensions.webchat.static_pages import add_static_pages


class WebChatInput(CustomerSocket, AgentSocket, InputChannel):
    """Customer web chat (widget, app) and the agent console, over WebSockets + JSON."""

    def __init__(self, secure_cookies: bool = False) -> None:
        self.secure_cookies = secure_cookies
        self.hub = Hub()

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(bool((credentials or {}).get("secure_cookies", False)))

    # --- tracker ------------------------------------------------------------------------------

    @staticmethod
    async def _append(app: Any, conversation_id: str, events: list[Event]) -> Any:
        """Append events to a conversation under Rasa's lock; returns the tracker."""
        agent = app.ctx.agent
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.processor.get_tracker(conversation_id)
            changed = False
            for event in events:
                if isinstance(event, ConversationPaused) and tracker.is_paused():
                    continue
                if isinstance(event, ConversationResumed) and not tracker.is_paused():
                    continue
                tracker.update(event)
                changed = True
            if changed:
                await agent.processor.save_tracker(tracker)
            return tracker

    @staticmethod
    async def _events(app: Any, conversation_id: str) -> list[dict[str, Any]]:
        tracker = await app.ctx.agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return []
        return [event.as_dict() for event in tracker.events]

    @staticmethod
    async def _slots(app: Any, conversation_id: str) -> dict[str, Any]:
        """The bot's context for the agent: filled slots, secrets left out."""
        tracker = await app.ctx.agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return {}
        return {
            name: value
            for name, value in tracker.current_slot_values().items()
            if value not in (None, [], "") and "token" not in name and name != "requested_slot"
        }

    async def _agent(self, request: Request) -> console.AgentInfo | None:
        return await in_db(console.agent_for_token, request.cookies.get(COOKIE))

    @staticmethod
    def _same_origin(request: Request) -> bool:
        """Browsers send Origin on cross-site requests; refuse any that is not this server."""
        origin = request.headers.get("origin")
        if not origin:
            return True
        host = origin.split("://", 1)[-1].rstrip("/")
        return host == request.host

    async def _agent_action(
        self, request: Request, act: Callable[[console.AgentInfo, dict[str, Any]], Awaitable[Any]]
    ) -> HTTPResponse:
        if not self._same_origin(request):
            return _json({"error": "cross-site request refused"}, 403)
        agent = await self._agent(request)
        if agent is None:
            return _json({"error": "sign in as an agent"}, 401)
        body: dict[str, Any] = {}
        if request.method == "POST":
            if "application/json" not in (request.headers.get("content-type") or ""):
                return _json({"error": "send JSON"}, 415)
            try:
                parsed = request.json
            except Exception:
                parsed = None
            if not isinstance(parsed, dict):
                return _json({"error": "send a JSON object"}, 400)
            body = parsed
        try:
            return _json(await act(agent, body))
        except console.Forbidden as error:
            return _json({"error": str(error)}, 403)
        except console.CaseUnavailable as error:
            return _json({"error": str(error)}, 409)
        except ValueError as error:
            return _json({"error": str(error)}, 400)

    async def _say_as(
        self, app: Any, live: console.LiveCase, text: str, meta: dict[str, Any]
    ) -> dict[str, Any]:
        """Write an agent or system line to the tracker and push it to the customer."""
        await self._append(app, live.conversation_id, [BotUttered(text, {}, meta)])
        sender = "system" if meta.get("qc_event") else "agent"
        extra: dict[str, Any] = {"agent_name": meta.get("agent_name"), "ts": time.time()}
        if meta.get("qc_event"):
            extra["event"] = meta["qc_event"]
        view = customer_view({"text": text}, sender, **extra)
        await self.hub.to_customer(live.conversation_id, view)
        return view

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("qc_webchat", __package__)  # the name it had as one module
        channel = self

        add_static_pages(bp, channel)

        @bp.websocket("/ws")
        async def customer_ws(request: Request, ws: Any) -> None:
            await channel._customer_socket(request, ws, on_new_message)

        add_agent_api(bp, channel)
        add_lead_pages(bp, channel)  # the support lead's insights (issue #31)

        @bp.websocket("/agent/ws")
        async def agent_ws(request: Request, ws: Any) -> None:
            await channel._agent_socket(request, ws)

        return bp
