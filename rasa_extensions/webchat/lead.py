"""The support lead's pages in the agent console (issue #31): overview, funnels, conversation
review, NLU inbox, CSV exports.

Why here and not in `agent_api`: these routes are for the 'lead' role only and read the
insights service (quickconnect/insights), never the live chat; every one goes through
`_lead`, which refuses other origins (403), a missing session (401) and an agent (403).
Everything lives under `/agent/` because the console cookie's path is `/agent`:

- `GET /agent/lead` the page; `/agent/lead/lead.js`, `lead.css` and the vendored chart library
  (`web/vendor/uplot/`, see web/vendor/README.md);
- `GET /agent/api/lead/overview|funnels|conversations|conversations/<id>`, `POST
  .../conversations/<id>/tags` (and `/tags/delete`), `GET /agent/api/lead/inbox`, `POST
  /agent/api/lead/inbox/<id>`; exports `GET /agent/api/lead/export/overview.csv`,
  `conversations.csv`, `inbox.yml`, each written to `export_log` before it is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from quickconnect.insights import exports, inbox, indexer, report, review
from quickconnect.insights.flows import FLOWS, STEPS
from quickconnect.insights.period import Period
from quickconnect.services import agent_console as console
from rasa_extensions.webchat.common import WEB_DIR, _json, _json_object, in_db, logger

if TYPE_CHECKING:  # the channel imports this module
    from rasa_extensions.webchat.channel import WebChatInput

Handler = Callable[[Request, console.AgentInfo], Awaitable[HTTPResponse]]
ASSETS = {
    "lead.js": ("lead.js", "application/javascript; charset=utf-8"),
    "lead.css": ("lead.css", "text/css; charset=utf-8"),
    "vendor/uPlot.iife.min.js": ("vendor/uplot/uPlot.iife.min.js", "application/javascript"),
    "vendor/uPlot.min.css": ("vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
}
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # uPlot sizes its canvas through element.style (CSSOM, allowed); no inline script at all
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
    ),
}


def _args(request: Request) -> dict[str, str | None]:
    return {key: request.args.get(key) for key in request.args}


def _download(body: str, filename: str, content_type: str) -> HTTPResponse:
    return response.text(
        body,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def add_lead_pages(bp: Blueprint, channel: WebChatInput) -> None:
    """The lead's page, its assets and its API."""

    async def _lead(request: Request, handler: Handler) -> HTTPResponse:
        if not channel._same_origin(request):
            return _json({"error": "cross-site request refused"}, 403)
        agent = await channel._agent(request)
        if agent is None:
            return _json({"error": "sign in as an agent"}, 401)
        if request.method == "POST" and "application/json" not in (
            request.headers.get("content-type") or ""
        ):
            return _json({"error": "send JSON"}, 415)  # no form-like cross-site posts
        try:
            console.require_lead(agent)
            return await handler(request, agent)
        except console.Forbidden as error:
            return _json({"error": str(error)}, 403)
        except KeyError:
            raise  # a bug, not an unknown conversation or item
        except LookupError as error:
            return _json({"error": str(error)}, 404)
        except ValueError as error:
            return _json({"error": str(error)}, 400)

    def route(path: str, handler: Handler, method: str = "GET", name: str = "") -> None:
        async def serve(request: Request, **params: Any) -> HTTPResponse:
            async def bound(req: Request, agent: console.AgentInfo) -> HTTPResponse:
                return await handler(req, agent, **params)  # type: ignore[call-arg]

            return await _lead(request, bound)

        bp.add_route(serve, path, methods=[method], name=f"qc_lead_{name}")

    # --- the page and its files ----------------------------------------------------------------

    async def page(request: Request) -> HTTPResponse:
        agent = await channel._agent(request) if channel._same_origin(request) else None
        if agent is None:
            return response.html(
                '<p>Sign in first: <a href="../agent">agent console</a>.</p>', status=401
            )
        if not agent.is_lead:
            return response.html(
                '<p>This page is for the support lead. <a href="../agent">Back to the console</a>'
                ".</p>",
                status=403,
            )
        return await response.file(
            WEB_DIR / "lead.html", mime_type="text/html; charset=utf-8", headers=PAGE_HEADERS
        )

    bp.add_route(page, "/agent/lead", methods=["GET"], name="qc_lead_page")

    def asset(name: str) -> None:
        filename, content_type = ASSETS[name]

        async def serve(request: Request) -> HTTPResponse:
            return await response.file(
                WEB_DIR / filename,
                mime_type=content_type,
                headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
            )

        safe = name.replace(".", "_").replace("/", "_")
        bp.add_route(serve, f"/agent/lead/{name}", methods=["GET"], name=f"qc_lead_{safe}")

    for name in ASSETS:
        asset(name)

    # --- figures ---------------------------------------------------------------------------

    def figures(session: Any, period: Period) -> dict[str, Any]:
        indexer.refresh(session)
        return {
            "overview": report.overview(session, period),
            "funnels": report.funnels(session, period),
        }

    async def overview(request: Request, agent: console.AgentInfo) -> HTTPResponse:
        period = Period.parse(request.args.get("from"), request.args.get("to"))
        return _json(await in_db(figures, period))

    def listing(session: Any, filters: report.Filters) -> dict[str, Any]:
        indexer.refresh(session)
        return report.conversations(session, filters)

    async def conversations(request: Request, agent: console.AgentInfo) -> HTTPResponse:
        return _json(await in_db(listing, report.Filters.from_query(_args(request))))

    async def conversation(
        request: Request, agent: console.AgentInfo, conversation_id: str
    ) -> HTTPResponse:
        return _json(await in_db(review.transcript, conversation_id[:255], agent))

    async def tag(request: Request, agent: console.AgentInfo, conversation_id: str) -> HTTPResponse:
        body = _json_object(request) or {}
        text = body.get("tag")
        if not isinstance(text, str):
            raise ValueError('send {"tag": "..."}')
        tags = await in_db(review.add_tag, conversation_id[:255], text, agent.id)
        return _json({"tags": tags})

    async def untag(
        request: Request, agent: console.AgentInfo, conversation_id: str
    ) -> HTTPResponse:
        body = _json_object(request) or {}
        tags = await in_db(review.remove_tag, conversation_id[:255], str(body.get("tag") or ""))
        return _json({"tags": tags})

    # --- exports (each logged before it is sent) ---------------------------------------------

    def overview_file(session: Any, period: Period, agent: console.AgentInfo) -> str:
        indexer.refresh(session)
        text, rows = exports.overview_csv(report.overview(session, period))
        exports.log_export(
            session,
            agent_id=agent.id,
            actor=agent.username,
            what="overview_csv",
            filters=period.as_json(),
            rows=rows,
        )
        return text

    async def overview_csv(request: Request, agent: console.AgentInfo) -> HTTPResponse:
        period = Period.parse(request.args.get("from"), request.args.get("to"))
        text = await in_db(overview_file, period, agent)
        logger.info("lead export: overview csv by %s", agent.username)
        return _download(text, "overview.csv", "text/csv; charset=utf-8")

    def list_file(session: Any, filters: report.Filters, agent: console.AgentInfo) -> str:
        indexer.refresh(session)
        items = report.conversations(session, filters)["items"]
        exports.log_export(
            session,
            agent_id=agent.id,
            actor=agent.username,
            what="conversations_csv",
            filters=filters.as_json(),
            rows=len(items),
        )
        return exports.conversations_csv(items)

    async def conversations_csv(request: Request, agent: console.AgentInfo) -> HTTPResponse:
        args = _args(request)
        args.setdefault("limit", "10000")
        text = await in_db(list_file, report.Filters.from_query(args), agent)
        logger.info("lead export: conversations csv by %s", agent.username)
        return _download(text, "conversations.csv", "text/csv; charset=utf-8")

    async def flows(request: Request, agent: console.AgentInfo) -> HTTPResponse:
        return _json(
            {
                "flows": [{"name": f.name, "label": f.label} for f in FLOWS],
                "steps": list(STEPS),
            }
        )

    # --- NLU inbox -------------------------------------------------------------------------

    def inbox_list(session: Any, status: str | None) -> dict[str, Any]:
        indexer.refresh(session)  # the latest fallbacks are collected by the indexer
        return inbox.items(session, status)

    async def inbox_items(request: Request, agent: console.AgentInfo) -> HTTPResponse:
        status = request.args.get("status") or None
        if status is not None and status not in ("new", "accepted", "dismissed", "held_out"):
            raise ValueError("status is new, accepted, dismissed or held_out")
        return _json(await in_db(inbox_list, status))

    async def inbox_label(request: Request, agent: console.AgentInfo, item_id: int) -> HTTPResponse:
        body = _json_object(request) or {}
        intent = body.get("intent")
        if body.get("dismiss") is not True and not isinstance(intent, str):
            raise ValueError('send {"intent": "..."} or {"dismiss": true}')

        def decide(session: Any) -> dict[str, Any]:  # read the row before the session ends
            if body.get("dismiss") is True:
                item = inbox.dismiss(session, item_id, agent.id)
            else:
                item = inbox.label(session, item_id, str(intent), agent.id)
            return {"id": item.id, "status": item.status, "label_intent": item.label_intent}

        return _json(await in_db(decide))

    def inbox_file(session: Any, agent: console.AgentInfo) -> inbox.Export:
        return inbox.export(session, actor=agent.username, agent_id=agent.id)

    async def inbox_yml(request: Request, agent: console.AgentInfo) -> HTTPResponse:
        result = await in_db(inbox_file, agent)
        logger.info(
            "lead export: NLU inbox by %s, %d line(s), %d held out",
            agent.username,
            result.exported,
            result.held_out,
        )
        return _download(result.text, "inbox.yml", "application/yaml; charset=utf-8")

    route("/agent/api/lead/inbox", inbox_items, name="inbox")
    route("/agent/api/lead/inbox/<item_id:int>", inbox_label, "POST", name="inbox_label")
    route("/agent/api/lead/export/inbox.yml", inbox_yml, name="inbox_yml")

    # "Bot misunderstood" on a customer line of a case's transcript: any agent, not only the
    # lead (agents see the misreadings first); the line goes to the lead's inbox.
    async def misunderstood(request: Request, case_number: str) -> HTTPResponse:
        async def act(agent: console.AgentInfo, body: dict[str, Any]) -> Any:
            ts = body.get("ts")
            if not isinstance(ts, int | float):
                raise ValueError('send {"ts": <the message\'s timestamp>}')
            conversation = await in_db(console.conversation_of, case_number)

            def mark(session: Any) -> int:
                return int(inbox.mark_misunderstood(session, conversation, float(ts), agent.id).id)

            try:
                inbox_id = await in_db(mark)
            except LookupError as error:
                raise console.CaseUnavailable(str(error)) from error
            return {"ok": True, "inbox_id": inbox_id}

        return await channel._agent_action(request, act)

    bp.add_route(
        misunderstood,
        "/agent/api/cases/<case_number:str>/misunderstood",
        methods=["POST"],
        name="qc_agent_case_misunderstood",
    )

    route("/agent/api/lead/flows", flows, name="flows")
    route("/agent/api/lead/overview", overview, name="overview")
    route("/agent/api/lead/conversations", conversations, name="conversations")
    route("/agent/api/lead/conversations/<conversation_id:str>", conversation, name="conversation")
    route("/agent/api/lead/conversations/<conversation_id:str>/tags", tag, "POST", name="tag")
    route(
        "/agent/api/lead/conversations/<conversation_id:str>/tags/delete",
        untag,
        "POST",
        name="untag",
    )
    route("/agent/api/lead/export/overview.csv", overview_csv, name="overview_csv")
    route("/agent/api/lead/export/conversations.csv", conversations_csv, name="list_csv")
