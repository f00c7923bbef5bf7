"""Drive real conversations through a running assistant, for the lead's insights (issue #31).

    python -m qa.insights_drive --rasa-url http://127.0.0.1:5005 --count 200

Why: the insights are only as right as what the indexer makes of real tracker events, so the
browser test drives chats through the real stack (REST channel, the trained model, the
action server and the databases) and then checks the lead's figures against SQL counts on
the same stores. Seven kinds of chat in turn: small talk, a message the bot cannot read, a
plan change quoted and declined, one quoted and accepted, a password reset link, a request
for a person, and a verification that fails. Each conversation comes from its own client
address (X-Forwarded-For, which the test stacks trust from loopback), so the per-client
verification limits do not mix them up.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

PLAN_ACCOUNTS = (  # (account, e-mail on file) of demo customers a plan change is tried for
    ("QC-100005", "elif.yilmaz@example.com"),
    ("QC-100002", "bruno.silva@example.com"),
    ("QC-100007", "grace.kim@example.com"),
    ("QC-100010", "jonas.berg@example.com"),
)
KINDS = ("small_talk", "fallback", "plan_declined", "plan_accepted", "reset", "human", "bad_verify")


@dataclass(frozen=True)
class Chat:
    sender: str
    kind: str
    turns: tuple[str, ...]


def chats(count: int, prefix: str = "drive") -> list[Chat]:
    """`count` scripted chats, the kinds in turn."""
    result = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        account, email = PLAN_ACCOUNTS[(n // len(KINDS)) % len(PLAN_ACCOUNTS)]
        turns = {
            "small_talk": ("hi there", "thanks, that's all, bye"),
            "fallback": ("hello", "zxqv blorp wint flurb", "bye"),
            "plan_declined": ("I want to switch to Unlimited Plus", account, email, "no thanks"),
            "plan_accepted": ("I want to switch to Basic 5GB", account, email, "yes please"),
            "reset": ("I forgot my password", "QC-100001", "alice.martin@example.com", "by email"),
            "human": ("I want to talk to a person", "no thanks"),
            "bad_verify": ("which plan am I on?", "QC-100003", "not-chen@example.com", "stop"),
        }[kind]
        result.append(Chat(f"{prefix}-{n:04d}-{kind}", kind, turns))
    return result


def say(rasa_url: str, sender: str, text: str, client: str, timeout: float = 90) -> list[dict]:
    """One customer message over the REST channel; the bot's answers."""
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": client},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (local URL)
        return json.loads(resp.read() or b"[]")


def drive(rasa_url: str, count: int, prefix: str = "drive") -> list[Chat]:
    """Run the chats one after the other (two cores: no point in more at once)."""
    done = []
    for n, chat in enumerate(chats(count, prefix)):
        client = f"10.31.{n // 250}.{n % 250 + 1}"
        for text in chat.turns:
            say(rasa_url, chat.sender, text, client)
        done.append(chat)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.insights_drive")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--prefix", default="drive")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    done = drive(args.rasa_url.rstrip("/"), args.count, args.prefix)
    turns = sum(len(c.turns) for c in done)
    print(f"{len(done)} conversations, {turns} turns in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
