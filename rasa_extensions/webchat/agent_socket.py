"""The agent console's socket: presence, pings and typing indicators."""

from __future__ import annotations

import asyncio
from typing import Any

from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from websockets.exceptions import ConnectionClosed

from quickconnect.services import agent_console as console
from rasa_extensions.webchat.common import _dumps, in_db, json_object, logger, receive


class AgentSocket:
    """`WebChatInput`'s agent console socket."""

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
                frame = json_object(raw)
                if frame is None:
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
