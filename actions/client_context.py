"""Which client the action server is serving now: set for every action call.

Patched: `rasa_sdk.executor.ActionExecutor.run` (rasa-sdk 3.6), the one function that runs
every action. It reads the client address the channel recorded on the conversation's latest
customer message (`latest_client`) into `client_address.current_client`, where
`identity.verified_customer` finds it however deep in a service the check is made (the
worker threads of `asyncio.to_thread` inherit it). Installed by `actions/__init__.py`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import ActionExecutor

from quickconnect.client_address import CLIENT_METADATA_KEY, current_client


def latest_client(tracker_state: dict[str, Any] | None) -> str | None:
    """The client key on the latest customer message of a tracker as the SDK receives it."""
    for event in reversed((tracker_state or {}).get("events") or []):
        if isinstance(event, dict) and event.get("event") == "user":
            metadata = event.get("metadata")
            key = metadata.get(CLIENT_METADATA_KEY) if isinstance(metadata, dict) else None
            return str(key)[:80] if key else None
    return None


def install() -> None:
    """Set the current client around every action call (idempotent)."""
    inner = ActionExecutor.run
    if getattr(inner, "_qc_client_context", False):
        return

    async def run(self: ActionExecutor, action_call: dict[str, Any]) -> dict[str, Any] | None:
        token = current_client.set(latest_client(action_call.get("tracker")))
        try:
            return await inner(self, action_call)
        finally:
            current_client.reset(token)

    run._qc_client_context = True  # type: ignore[attr-defined]
    run.__wrapped__ = inner  # type: ignore[attr-defined]  # the chain stays inspectable
    ActionExecutor.run = run  # type: ignore[method-assign]
