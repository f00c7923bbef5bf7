"""Which address verification limits count a message under (quickconnect/client_address.py):
the TCP peer, or what a trusted proxy forwards, never a header from anyone else."""

from __future__ import annotations

import pytest

from actions.client_context import latest_client
from quickconnect.client_address import client_key


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.7", None, "", "ip:203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "", "ip:203.0.113.7"),  # untrusted peer: header ignored
        ("10.0.0.5", "198.51.100.1", "10.0.0.0/8", "ip:198.51.100.1"),
        # the client may prepend made-up hops; the right-most untrusted one counts
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", "10.0.0.0/8", "ip:198.51.100.1"),
        ("10.0.0.5", "198.51.100.1, 10.0.0.9", "10.0.0.0/8", "ip:198.51.100.1"),
        ("10.0.0.5", "not-an-address", "10.0.0.0/8", "ip:10.0.0.5"),
        ("::1", "2001:db8::1", "::1", "ip:2001:db8::1"),
        ("10.0.0.5", "198.51.100.1", "garbage, 10.0.0.0/8", "ip:198.51.100.1"),
        (None, None, "", None),
        ("", "198.51.100.1", "10.0.0.0/8", None),
    ],
)
def test_client_key(
    peer: str | None, forwarded: str | None, proxies: str, expected: str | None
) -> None:
    assert client_key(peer, forwarded, proxies) == expected


def test_the_latest_customer_message_names_the_client() -> None:
    events = [
        {"event": "user", "metadata": {"qc_client": "ip:203.0.113.7"}},
        {"event": "bot", "metadata": {"qc_client": "ip:198.51.100.1"}},
        {"event": "user", "metadata": {"qc_client": "ip:198.51.100.2"}},
        {"event": "action", "name": "action_listen"},
    ]
    assert latest_client({"events": events}) == "ip:198.51.100.2"
    assert latest_client({"events": [{"event": "user", "metadata": None}]}) is None
    assert latest_client(None) is None
