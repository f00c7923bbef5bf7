"""Agent sign-in and sign-out, and the console's JSON endpoints (queue, cases, lockouts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rasa.shared.core.events import (
    ConversationResumed,
)
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from quickconnect.services import agent_console as console
from quickconnect.services import identity
from rasa_extensions.webchat.common import COOKIE, _json, _json_object, in_db
from rasa_extensions.webchat.hub import transcript

if TYPE_CHECKING:  # the channel imports this module
    from rasa_extensions.webchat.channel import WebChatInput


def add_agent_api(bp: Blueprint, channel: WebChatInput) -> None:
    """POST /agent/login, /agent/logout and /agent/api/..."""

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
        resp = _json(
            {
                "agent": {
                    "name": signed.agent.display_name,
                    "id": signed.agent.id,
                    "role": signed.agent.role,
                }
            }
        )
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
        return {
            "id": agent.id,
            "name": agent.display_name,
            "username": agent.username,
            "role": agent.role,
        }

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
