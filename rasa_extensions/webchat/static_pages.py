"""The pages the channel serves (demo, widget, agent console, reset page) and the reset
page's calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from quickconnect.services import account_recovery as recovery
from rasa_extensions.webchat.common import STATIC_FILES, WEB_DIR, _json, _json_object, in_db

if TYPE_CHECKING:  # the channel imports this module
    from rasa_extensions.webchat.channel import WebChatInput


def add_static_pages(bp: Blueprint, channel: WebChatInput) -> None:
    """The static files, and POST /reset."""

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
            return _json({"error": "This reset link isn't valid. Please ask for a new one."}, 400)
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
