"""The customers' socket (widget, app): hello, session token, messages, handoff pauses."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import (
    ConversationPaused,
    ConversationResumed,
    UserUttered,
)
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from websockets.exceptions import ConnectionClosed

from quickconnect.client_address import CLIENT_METADATA_KEY, client_key
from quickconnect.services import agent_console as console
from rasa_extensions.guards import NO_REPLY_APOLOGY, precheck
from rasa_extensions.webchat.common import (
    CHANNEL,
    MAX_FRAME_CHARS,
    SESSION_TOKEN,
    _dumps,
    conversation_for,
    in_db,
    json_object,
    logger,
    receive,
)
from rasa_extensions.webchat.hub import WebOutput, customer_view, transcript


class CustomerSocket:
    """`WebChatInput`'s customer side: one socket per open widget or app."""

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
        answered: list[bool] = [False]  # set once the customer has had a bot line this turn
        try:
            await self._customer_turn(
                app, on_new_message, conversation_id, text, shown, client, answered
            )
        except Exception:  # the account DB or the tracker store away: never leave silence
            logger.exception("Handling a web chat message failed before or after the turn")
            if not answered[0]:
                await self.hub.to_customer(
                    conversation_id, customer_view({"text": NO_REPLY_APOLOGY}, "bot")
                )

    async def _customer_turn(
        self,
        app: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        conversation_id: str,
        text: str,
        shown: str | None,
        client: str | None,
        answered: list[bool],
    ) -> None:
        """One customer message: to the agent if a person has the chat, else to the bot."""
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
            answered[0] = True
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
                    frame = json_object(raw)
                if frame is None:
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
