"""`make run`: start the action server, the Rasa server and the outbox worker (emails, SMS,
scheduled jobs), print the URLs and the demo agent.

Ctrl-C stops all three.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from ops.stack import Stack
from quickconnect.config import load_settings
from quickconnect.seed import DEMO_AGENT_PASSWORD, DEMO_AGENT_USERNAME


def main() -> int:
    settings = load_settings()
    stack = Stack(settings)
    print("Starting the action server and the Rasa server (first start takes ~30 s)...")

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.start()
        stack.start_worker()
        outbox = (
            os.environ.get("SMTP_HOST")
            or f"files in {os.environ.get('OUTBOX_DIR') or 'var/outbox/'}"
        )
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        web = f"{stack.rasa_url}/webhooks/webchat"
        print(
            f"""
QuickConnect assistant is running.
  Demo website + chat widget: {web}/
  Agent console:              {web}/agent
      demo agent: {DEMO_AGENT_USERNAME} / {DEMO_AGENT_PASSWORD}  (demo data only, from `make seed`)
  Rasa server (REST channel): {url}
  Action server:              {stack.action_url}/webhook
  Outbox worker:              emails and SMS the bot sends go to {outbox}
  Logs:                       {stack.log_dir}/

Talk to it (a demo customer, see README "Demo customers"):
  curl -s -X POST {url} -H 'Content-Type: application/json' \\
       -d '{{"sender": "demo-1", "message": "which plan am I on?"}}'
  curl -s -X POST {url} -H 'Content-Type: application/json' \\
       -d '{{"sender": "demo-1", "message": "QC-100001"}}'
  curl -s -X POST {url} -H 'Content-Type: application/json' \\
       -d '{{"sender": "demo-1", "message": "alice.martin@example.com"}}'

Press Ctrl-C to stop everything."""
        )
        sys.stdout.flush()
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(1)
        dead = [n for n, p in stack.processes.items() if p.poll() is not None]
        print(f"A server stopped unexpectedly: {dead}. Last log lines:")
        for name in dead:
            print(stack.log_tail(name))
        return 1
    except KeyboardInterrupt:
        print("\nStopping...")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
