"""Settings from environment variables, loaded from `.env` with python-dotenv.

Every variable is documented in `.env.example`. Defaults give the embedded setup
(SQLite files under `var/`, in-memory lock store) so nothing needs installing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_sqlite(name: str) -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / name}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    tracker_store_url: str
    lock_store_url: str
    rasa_host: str
    rasa_port: int
    action_server_port: int
    verification_ttl_minutes: int
    db_statement_timeout_ms: int
    log_level: str
    tracker_cache_size: int = 500
    # Reverse proxies / load balancers whose X-Forwarded-For names the client (comma list of
    # addresses or networks); empty trusts none (quickconnect/client_address.py).
    trusted_proxies: str = ""
    # Where customers reach this server (links in emails and SMS: the password reset page).
    # Empty: http://<RASA_HOST>:<RASA_PORT>.
    public_base_url: str = ""
    # Live pushes of the web chat between Rasa replicas (rasa_extensions/webchat/relay.py):
    # a Redis URL, `memory` (this process only), or empty: Redis when LOCK_STORE_URL is set.
    live_relay_url: str = ""
    # The Redis pub/sub channel of those pushes: one per deployment sharing a Redis server
    # (pub/sub channels are not per database number).
    live_relay_channel: str = "quickconnect:webchat"

    @property
    def public_url(self) -> str:
        return (self.public_base_url or f"http://{self.rasa_host}:{self.rasa_port}").rstrip("/")

    @property
    def action_endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.action_server_port}/webhook"


def load_settings(env_file: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings; real environment variables win over `.env` values."""
    load_dotenv(env_file or PROJECT_ROOT / ".env", override=False)
    env = os.environ
    return Settings(
        database_url=env.get("DATABASE_URL") or _default_sqlite("quickconnect.db"),
        tracker_store_url=env.get("TRACKER_STORE_URL") or _default_sqlite("tracker.db"),
        lock_store_url=env.get("LOCK_STORE_URL", ""),
        rasa_host=env.get("RASA_HOST", "127.0.0.1"),
        rasa_port=int(env.get("RASA_PORT", "5005")),
        action_server_port=int(env.get("ACTION_SERVER_PORT", "5055")),
        verification_ttl_minutes=int(env.get("VERIFICATION_TTL_MINUTES", "60")),
        db_statement_timeout_ms=int(env.get("DB_STATEMENT_TIMEOUT_MS", "5000")),
        log_level=env.get("LOG_LEVEL", "INFO"),
        tracker_cache_size=int(env.get("TRACKER_CACHE_SIZE", "500")),
        trusted_proxies=env.get("TRUSTED_PROXIES", ""),
        public_base_url=env.get("PUBLIC_BASE_URL", ""),
        live_relay_url=env.get("LIVE_RELAY_URL", ""),
        live_relay_channel=env.get("LIVE_RELAY_CHANNEL") or "quickconnect:webchat",
    )
