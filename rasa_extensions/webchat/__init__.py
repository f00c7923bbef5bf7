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

One module a part: `channel` (`WebChatInput`: the tracker, agent sessions and the routes
table), `customer_socket`, `agent_socket`, `agent_api` (sign-in and the console's JSON
endpoints), `static_pages` (the pages and the password reset page's calls), `hub` (the open
sockets, and what a customer or agent is shown), `common` (limits, database calls, helpers).
"""

from __future__ import annotations

from rasa_extensions.webchat.agent_api import add_agent_api
from rasa_extensions.webchat.agent_socket import AgentSocket
from rasa_extensions.webchat.channel import WebChatInput
from rasa_extensions.webchat.common import (
    CHANNEL,
    COOKIE,
    MAX_FRAME_CHARS,
    SESSION_TOKEN,
    STATIC_FILES,
    WEB_DIR,
    T,
    conversation_for,
    in_db,
    logger,
    receive,
)
from rasa_extensions.webchat.customer_socket import CustomerSocket
from rasa_extensions.webchat.hub import Hub, WebOutput, customer_view, transcript
from rasa_extensions.webchat.static_pages import add_static_pages

__all__ = [
    "AgentSocket",
    "CHANNEL",
    "COOKIE",
    "CustomerSocket",
    "Hub",
    "MAX_FRAME_CHARS",
    "SESSION_TOKEN",
    "STATIC_FILES",
    "T",
    "WEB_DIR",
    "WebChatInput",
    "WebOutput",
    "add_agent_api",
    "add_static_pages",
    "conversation_for",
    "customer_view",
    "in_db",
    "logger",
    "receive",
    "transcript",
]
