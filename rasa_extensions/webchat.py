"""Web chat channel: the website widget, the mobile app and the agent console, in the Rasa server.

Why inside the Rasa server: pushes to the customer (bot turns, agent messages) and writes to
the conversation's tracker must come from the process that runs the dialogue and holds its
lock store, so one process owns the conversation. Everything is under `/webhooks/webchat/`:

- `GET /` demo QuickConnect page, `GET /widget.js` (+ `widget.css`), `GET /agent` console page;
- `WS /ws`: customers (widget, app). Protocol in README "Mobile app protocol". The client keeps
  a server-issued secret session token; the conversation id is derived from it (SHA-256), so a
  customer can only ever reach their own conversation and a reload continues it;
- `POST /agent/login`, `/agent/logout`; `GET|POST /agent/api/...`; `WS /agent/ws`: agents, with
  an HttpOnly SameSite=Strict session cookie (never a token in a URL).

Handoff: when the bot's `action_handoff` queues the chat (a `CS-` case with chat_state
queued), this channel pauses the conversation (Rasa's `ConversationPaused`), so the bot stops
answering; the customer's messages are written to the tracker (unparsed, so no slot changes)
and pushed to agents; agents' replies are written as `BotUttered` with metadata
`{"qc_from": "agent", "agent_name": ...}`. Resolve or hand back resumes the bot
(`ConversationResumed`); its slots and last turn are as they were at the handoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    UserUttered,
)
from sanic import Blueprint, response
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from sanic.response import HTTPResponse
from websockets.connection import CLOSED
from websockets.exceptions import ConnectionClosed

from quickconnect.client_address import CLIENT_METADATA_KEY, client_key
from quickconnect.db.session import unit_of_work
from quickconnect.services import account_recovery as recovery
from quickconnect.services import agent_console as console
from quickconnect.services import identity
from rasa_extensions.guards import NO_REPLY_APOLOGY, precheck

logger = logging.getLogger(__name__)

CHANNEL = "webchat"
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_FILES = {
    "": ("demo.html", "text/html; charset=utf-8"),
    "widget.js": ("widget.js", "application/javascript; charset=utf-8"),
    "widget.css": ("widget.css", "text/css; charset=utf-8"),
    "agent": ("agent.html", "text/html; charset=utf-8"),
    "agent.js": ("agent.js", "application/javascript; charset=utf-8"),
    "agent.css": ("agent.css", "text/css; charset=utf-8"),
    "reset": ("reset.html", "text/html; charset=utf-8"),
    "reset.js": ("reset.js", "application/javascript; charset=utf-8"),
}
COOKIE = "qc_agent_session"
SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,64}")
MAX_FRAME_CHARS = 8000
T = TypeVar("T")


def conversation_for(session_token: str) -> str:
    """The conversation id a customer's secret session token maps to (not reversible)."""
    return "web-" + hashlib.sha256(session_token.encode()).hexdigest()[:40]


async def in_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one unit of work in a thread: SQL and password hashing must not block the event loop."""

    def run() -> T:
        with unit_of_work() as session:
            return fn(session, *args, **kwargs)

    return await asyncio.to_thread(run)


async def receive(ws: Any, timeout: float | None = None) -> Any:
    """`ws.recv()` of Sanic 21.12 as it should be on Python 3.11.

    Sanic's own `recv` passes a bare coroutine to `asyncio.wait`, which Python 3.11 refuses
    (TypeError), so every receive would fail; this is the same logic with a task.
    """
    if ws.recv_lock.locked():
        raise RuntimeError("another task is already receiving on this socket")
    async with ws.recv_lock:
        if ws.connection.state is CLOSED:
            raise WebsocketClosed("the socket is closed")
        ws.recv_cancel = asyncio.Future()
        getter = asyncio.ensure_future(ws.assembler.get(timeout))
        try:
            done, _ = await asyncio.wait(
                (ws.recv_cancel, getter), return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                raise WebsocketClosed("the socket closed while receiving")
            ws.recv_cancel.cancel()
            return getter.result()
        finally:
            ws.recv_cancel = None


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=str)


class Hub:
    """Live sockets of this process: customers per conversation, signed-in agents."""

    def __init__(self) -> None:
        self.customers: dict[str, set[Any]] = defaultdict(set)
        self.agents: dict[Any, console.AgentInfo] = {}
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._presence_writes: dict[int, asyncio.Task[None]] = {}

    async def _send(self, sockets: list[Any], payload: dict[str, Any]) -> None:
        text = _dumps(payload)
        for ws in sockets:
            with contextlib.suppress(Exception):  # a closed socket is dropped on its own
                await ws.send(text)

    async def to_customer(self, conversation_id: str, payload: dict[str, Any]) -> None:
        await self._send(list(self.customers.get(conversation_id, ())), payload)

    async def to_agents(self, payload: dict[str, Any]) -> None:
        await self._send(list(self.agents), payload)

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


class WebChatInput(InputChannel):
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

    # --- customers ----------------------------------------------------------------------------

    async def _customer_message(
        self,
        app: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        conversation_id: str,
        frame: dict[str, Any],
        client: str | None = None,
    ) -> None:
        text = frame.get("payload") or frame.get("text")
        shown = frame.get("text") if frame.get("payload") else None
        early = precheck(text)
        if early:
            await self.hub.to_customer(conversation_id, customer_view({"text": early}, "bot"))
            return
        assert isinstance(text, str)
        async with self.hub.locks[conversation_id]:
            live = await in_db(console.live_case, conversation_id)
            if live is not None:
                meta = {"qc_handoff_case": live.case_number}
                if shown:
                    meta["display_text"] = shown
                await self._append(
                    app,
                    conversation_id,
                    [
                        ConversationPaused(),
                        UserUttered(text, intent=None, input_channel=CHANNEL, metadata=meta),
                    ],
                )
                await self.hub.to_agents(
                    {
                        "type": "customer_message",
                        "case_number": live.case_number,
                        "message": {"from": "user", "text": shown or text, "ts": time.time()},
                    }
                )
                return
            # no live case (any more): make sure the bot is not left paused
            await self._append(app, conversation_id, [ConversationResumed()])
            output = WebOutput(self.hub, conversation_id)
            metadata: dict[str, Any] = {"display_text": shown} if shown else {}
            if client:
                metadata[CLIENT_METADATA_KEY] = client
            await self.hub.to_customer(
                conversation_id, {"type": "typing", "from": "bot", "on": True}
            )
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        output,
                        conversation_id,
                        input_channel=CHANNEL,
                        metadata=metadata or None,
                    )
                )
            except Exception:
                logger.exception("Handling a web chat message failed")
            finally:
                await self.hub.to_customer(
                    conversation_id, {"type": "typing", "from": "bot", "on": False}
                )
            if not output.messages:
                await self.hub.to_customer(
                    conversation_id, customer_view({"text": NO_REPLY_APOLOGY}, "bot")
                )
            live = await in_db(console.live_case, conversation_id)
            if live is not None:  # this turn escalated: the bot stops, agents see the chat
                await self._append(app, conversation_id, [ConversationPaused()])
                await self.hub.to_customer(
                    conversation_id, {"type": "status", "state": live.chat_state}
                )
                await self.hub.push_queue()

    async def _customer_socket(
        self, request: Request, ws: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        try:
            hello = json.loads(await receive(ws, timeout=30) or "null")
        except (ValueError, TypeError):
            hello = None
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            await ws.close(1008, "send a hello frame first")
            return
        token = hello.get("session")
        if not isinstance(token, str) or not SESSION_TOKEN.fullmatch(token):
            token = secrets.token_urlsafe(32)
        conversation_id = conversation_for(token)
        # The peer address (or the one a trusted proxy forwards) for verification limits.
        client = client_key(request.ip, request.headers.get("x-forwarded-for"))
        self.hub.customers[conversation_id].add(ws)
        try:
            live = await in_db(console.live_case, conversation_id)
            events = await self._events(request.app, conversation_id)
            await ws.send(
                _dumps(
                    {
                        "type": "welcome",
                        "session": token,
                        "history": transcript(events, for_agent=False),
                        "state": live.chat_state if live else "bot",
                        "agent_name": live.agent_name if live else None,
                    }
                )
            )
            while True:
                raw = await receive(ws)
                if raw is None:
                    continue
                if len(raw) > MAX_FRAME_CHARS:
                    frame: Any = {"type": "message", "text": raw}  # precheck answers "too long"
                else:
                    try:
                        frame = json.loads(raw)
                    except ValueError:
                        continue
                if not isinstance(frame, dict):
                    continue
                if frame.get("type") == "message":
                    frame = {k: v for k, v in frame.items() if isinstance(v, str)}
                    asyncio.create_task(
                        self._customer_message(
                            request.app, on_new_message, conversation_id, frame, client
                        )
                    )
                elif frame.get("type") == "typing":
                    live = await in_db(console.live_case, conversation_id)
                    if live is not None and live.chat_state == "agent":
                        await self.hub.to_agents(
                            {
                                "type": "typing",
                                "case_number": live.case_number,
                                "on": bool(frame.get("on")),
                            }
                        )
        except (ConnectionClosed, WebsocketClosed, asyncio.CancelledError):
            pass
        except Exception:
            logger.exception("Web chat customer socket failed")
        finally:
            self.hub.customers[conversation_id].discard(ws)
            if not self.hub.customers[conversation_id]:
                self.hub.customers.pop(conversation_id, None)

    # --- agents -------------------------------------------------------------------------------

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
        except console.CaseUnavailable as error:
            return _json({"error": str(error)}, 409)
        except ValueError as error:
            return _json({"error": str(error)}, 400)

    async def _agent_socket(self, request: Request, ws: Any) -> None:
        agent = await self._agent(request) if self._same_origin(request) else None
        if agent is None:
            await ws.close(4401, "sign in as an agent")
            return
        self.hub.agents[ws] = agent
        try:  # a console closed during the first write too must end up offline
            await self.hub.set_presence(agent.id, online=True)
            await self.hub.push_queue()
            while True:
                raw = await receive(ws)
                if raw is None:
                    continue
                try:
                    frame = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(frame, dict):
                    continue
                if frame.get("type") == "ping":
                    # the session may have been signed out or expired since the handshake
                    if await self._agent(request) is None:
                        await ws.close(4401, "session ended")
                        break
                    await self.hub.set_presence(agent.id, online=True)
                    await ws.send(_dumps({"type": "pong"}))
                elif frame.get("type") == "typing" and isinstance(frame.get("case_number"), str):
                    try:
                        live = await in_db(console.check_reply, frame["case_number"], agent.id)
                    except console.CaseUnavailable:
                        continue
                    await self.hub.to_customer(
                        live.conversation_id,
                        {
                            "type": "typing",
                            "from": "agent",
                            "agent_name": agent.display_name,
                            "on": bool(frame.get("on")),
                        },
                    )
        except (ConnectionClosed, WebsocketClosed, asyncio.CancelledError):
            pass
        except Exception:
            logger.exception("Agent console socket failed")
        finally:
            self.hub.agents.pop(ws, None)
            if all(a.id != agent.id for a in self.hub.agents.values()):
                await self.hub.set_presence(agent.id, online=False)

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

    # --- routes -------------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("qc_webchat", __name__)
        channel = self

        async def static(request: Request, name: str = "") -> HTTPResponse:
            entry = STATIC_FILES.get(name)
            if entry is None:
                return _json({"error": "not found"}, 404)
            filename, content_type = entry
            headers = {
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-cache",
                "Referrer-Policy": "same-origin",
            }
            if filename == "reset.html":  # the token is in the fragment; never leak it
                headers["Referrer-Policy"] = "no-referrer"
            if filename in ("agent.html", "reset.html"):
                headers["X-Frame-Options"] = "DENY"
                headers["Content-Security-Policy"] = (
                    "default-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; "
                    "frame-ancestors 'none'"
                )
            return await response.file(WEB_DIR / filename, mime_type=content_type, headers=headers)

        bp.add_route(static, "/", methods=["GET"], name="qc_demo")

        def static_route(name: str) -> None:
            async def serve(request: Request) -> HTTPResponse:
                return await static(request, name)

            bp.add_route(serve, f"/{name}", methods=["GET"], name=f"qc_{name.replace('.', '_')}")

        for filename in (
            "widget.js", "widget.css", "agent", "agent.js", "agent.css", "reset", "reset.js"
        ):  # fmt: skip
            static_route(filename)

        @bp.route("/reset", methods=["POST"])
        async def reset_password(request: Request) -> HTTPResponse:
            """The reset page's calls: {"token"} checks the link, with "password" and
            "confirm" sets the new password (account_recovery.reset_password)."""
            if not channel._same_origin(request):
                return _json({"error": "cross-site request refused"}, 403)
            body = _json_object(request)
            if body is None or not isinstance(body.get("token"), str):
                return _json(
                    {"error": "This reset link isn't valid. Please ask for a new one."}, 400
                )
            token = body["token"][:200]
            try:
                if "password" not in body:
                    name = await in_db(recovery.check_reset_link, token)
                    return _json({"ok": True, "first_name": name})
                password, confirm = body.get("password"), body.get("confirm")
                if not isinstance(password, str) or not isinstance(confirm, str):
                    return _json({"error": "Type the new password twice."}, 400)
                await in_db(recovery.reset_password, token, password, confirm)
            except recovery.RecoveryError as error:
                return _json({"error": str(error)}, 400)
            return _json(
                {"ok": True, "message": "Your password has been changed. You can sign in now."}
            )

        @bp.websocket("/ws")
        async def customer_ws(request: Request, ws: Any) -> None:
            await channel._customer_socket(request, ws, on_new_message)

        @bp.route("/agent/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            if not channel._same_origin(request):
                return _json({"error": "cross-site request refused"}, 403)
            body = _json_object(request)
            if body is None:
                return _json({"error": "send a JSON object with username and password"}, 400)
            username, password = body.get("username"), body.get("password")
            if not isinstance(username, str) or not isinstance(password, str):
                return _json({"error": "username and password are required"}, 400)
            try:
                signed = await in_db(
                    console.sign_in,
                    username=username,
                    password=password[:200],
                    remote_addr=request.remote_addr or request.ip or "unknown",
                )
            except console.LoginRateLimited:
                return _json(
                    {"error": "Too many failed sign-ins. Try again in 15 minutes."},
                    429,
                    headers={"Retry-After": "900"},
                )
            if signed is None:
                return _json({"error": "Wrong username or password."}, 401)
            resp = _json({"agent": {"name": signed.agent.display_name, "id": signed.agent.id}})
            resp.cookies[COOKIE] = signed.token
            cookie = resp.cookies[COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = "/webhooks/webchat/agent"
            cookie["max-age"] = int(console.SESSION_TTL.total_seconds())
            if channel.secure_cookies:
                cookie["secure"] = True
            return resp

        @bp.route("/agent/logout", methods=["POST"])
        async def logout(request: Request) -> HTTPResponse:
            token = request.cookies.get(COOKIE)
            if token and channel._same_origin(request):
                await in_db(console.sign_out, token)
            resp = _json({"ok": True})
            del resp.cookies[COOKIE]
            return resp

        async def me(agent: console.AgentInfo, body: dict[str, Any]) -> Any:
            return {"id": agent.id, "name": agent.display_name, "username": agent.username}

        async def queue(agent: console.AgentInfo, body: dict[str, Any]) -> Any:
            return {"items": [i.as_json() for i in await in_db(console.queue)]}

        def case_route(path: str, method: str, handler: Callable[..., Awaitable[Any]]) -> None:
            async def route(request: Request, case_number: str) -> HTTPResponse:
                async def act(agent: console.AgentInfo, body: dict[str, Any]) -> Any:
                    return await handler(request.app, agent, case_number, body)

                return await channel._agent_action(request, act)

            bp.add_route(
                route,
                f"/agent/api/cases/<case_number:str>{path}",
                methods=[method],
                name=f"qc_agent_case_{path.strip('/') or 'view'}",
            )

        async def view(app: Any, agent: console.AgentInfo, case: str, body: dict) -> Any:
            context = await in_db(console.case_context, case)
            conversation = await in_db(console.conversation_of, case)
            events = await channel._events(app, conversation)
            context["slots"] = await channel._slots(app, conversation)
            return {"case": context, "transcript": transcript(events, for_agent=True)}

        async def take(app: Any, agent: console.AgentInfo, case: str, body: dict) -> Any:
            live = await in_db(console.take, case, agent.id)
            await channel._say_as(
                app,
                live,
                f"{agent.display_name} from our support team has joined the chat.",
                {"qc_event": "agent_joined", "agent_name": agent.display_name},
            )
            await channel.hub.to_customer(
                live.conversation_id,
                {"type": "status", "state": "agent", "agent_name": agent.display_name},
            )
            await channel.hub.push_queue()
            return await view(app, agent, case, body)

        async def reply(app: Any, agent: console.AgentInfo, case: str, body: dict) -> Any:
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ValueError("a reply needs text")
            live = await in_db(console.check_reply, case, agent.id)
            meta = {"qc_from": "agent", "agent_name": agent.display_name, "agent_id": agent.id}
            return {"message": await channel._say_as(app, live, text.strip()[:2000], meta)}

        async def note(app: Any, agent: console.AgentInfo, case: str, body: dict) -> Any:
            await in_db(console.add_note, case, agent.id, str(body.get("text") or ""))
            return {"notes": await in_db(console.notes, case)}

        async def close(app: Any, agent: console.AgentInfo, case: str, note_text: str, kind: str):
            if kind == "resolve":
                live = await in_db(console.resolve, case, agent.id, note_text)
                text = (
                    f"{agent.display_name} has resolved case {case} and left the chat. "
                    "I'm the virtual assistant again: is there anything else I can help with?"
                )
            else:
                live = await in_db(console.hand_back, case, agent.id, note_text)
                text = (
                    f"{agent.display_name} has left the chat and handed you back to me, the "
                    "virtual assistant. What else can I help with?"
                )
            await channel._say_as(
                app, live, text, {"qc_event": "agent_left", "agent_name": agent.display_name}
            )
            await channel._append(app, live.conversation_id, [ConversationResumed()])
            await channel.hub.to_customer(live.conversation_id, {"type": "status", "state": "bot"})
            await channel.hub.push_queue()
            return {"ok": True, "case_number": case}

        async def resolve(app: Any, agent: console.AgentInfo, case: str, body: dict) -> Any:
            return await close(app, agent, case, str(body.get("note") or ""), "resolve")

        async def hand_back(app: Any, agent: console.AgentInfo, case: str, body: dict) -> Any:
            return await close(app, agent, case, str(body.get("note") or ""), "hand_back")

        async def lockouts(agent: console.AgentInfo, body: dict[str, Any]) -> Any:
            return {"items": [i.as_json() for i in await in_db(identity.active_lockouts)]}

        async def clear_lockout_route(request: Request, lockout_id: int) -> HTTPResponse:
            async def act(agent: console.AgentInfo, body: dict[str, Any]) -> Any:
                note = body.get("note")
                if not isinstance(note, str) or not note.strip():
                    raise ValueError("say how you confirmed who the customer is (note)")
                try:
                    await in_db(identity.clear_lockout, lockout_id, agent.id, note)
                except LookupError as error:
                    raise console.CaseUnavailable(str(error)) from error
                return await lockouts(agent, body)

            return await channel._agent_action(request, act)

        async def lockouts_route(request: Request) -> HTTPResponse:
            return await channel._agent_action(request, lockouts)

        bp.add_route(lockouts_route, "/agent/api/lockouts", methods=["GET"], name="qc_lockouts")
        bp.add_route(
            clear_lockout_route,
            "/agent/api/lockouts/<lockout_id:int>/clear",
            methods=["POST"],
            name="qc_lockout_clear",
        )

        async def me_route(request: Request) -> HTTPResponse:
            return await channel._agent_action(request, me)

        async def queue_route(request: Request) -> HTTPResponse:
            return await channel._agent_action(request, queue)

        bp.add_route(me_route, "/agent/api/me", methods=["GET"], name="qc_me")
        bp.add_route(queue_route, "/agent/api/queue", methods=["GET"], name="qc_queue")
        case_route("", "GET", view)
        case_route("/take", "POST", take)
        case_route("/reply", "POST", reply)
        case_route("/note", "POST", note)
        case_route("/resolve", "POST", resolve)
        case_route("/handback", "POST", hand_back)

        @bp.websocket("/agent/ws")
        async def agent_ws(request: Request, ws: Any) -> None:
            await channel._agent_socket(request, ws)

        return bp


def _json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON body when it is an object; None for anything else or bad JSON."""
    try:
        body = request.json
    except Exception:  # sanic raises on undecodable JSON
        return None
    return body if isinstance(body, dict) else None


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    merged = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    merged.update(headers or {})
    return response.json(body, status=status, headers=merged)
