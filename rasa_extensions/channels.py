"""The REST channel the website, the app and the test suites talk to.

It keeps Rasa's `/webhooks/rest/webhook` contract (POST `{"sender", "message"}`, answer a JSON
list of bot messages) and adds the guarantees of `guards`: malformed requests get a 400 with
a reason, odd input gets a clear reply, and a turn never ends in silence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from quickconnect.client_address import CLIENT_METADATA_KEY, client_key
from rasa_extensions.guards import NO_REPLY_APOLOGY, precheck

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128


def _bad_request(reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=400)


class GuardedRestInput(RestInput):
    """Rasa's REST input with input checks and a no-silence guarantee."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """The body's `metadata` object, plus the client's address for verification limits.

        The address is the server's own finding (`client_address`): a client cannot set it.
        """
        body = request.json if isinstance(request.json, dict) else {}
        given = body.get("metadata")
        metadata = (
            {k: v for k, v in given.items() if k != CLIENT_METADATA_KEY}
            if isinstance(given, dict)
            else {}
        )
        client = client_key(request.ip, request.headers.get("x-forwarded-for"))
        if client:
            metadata[CLIENT_METADATA_KEY] = client
        return metadata or None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises on undecodable JSON
                body = None
            if not isinstance(body, dict):
                return _bad_request('Send a JSON object: {"sender": "...", "message": "..."}')
            sender = body.get("sender")
            if not isinstance(sender, str) or not sender.strip():
                return _bad_request('"sender" must be a non-empty string (the conversation id)')
            if len(sender) > MAX_SENDER_CHARS:
                return _bad_request(f'"sender" must be at most {MAX_SENDER_CHARS} characters')
            text = body.get("message")
            if text is not None and not isinstance(text, str):
                return _bad_request('"message" must be a string')
            early_reply = precheck(text)
            if early_reply:
                return response.json([{"recipient_id": sender, "text": early_reply}])

            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=self.get_metadata(request),
                    )
                )
            except Exception:
                logger.exception("Handling a REST message failed")
            if not collector.messages:
                collector.messages.append({"recipient_id": sender, "text": NO_REPLY_APOLOGY})
            return response.json(collector.messages)

        return webhook
