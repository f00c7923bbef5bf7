"""Who sent a chat message, as far as the server can tell: the client's network address.

Verification limits failures per client as well as per conversation and account
(`quickconnect.services.identity`), so a guesser cannot start afresh with every new chat.
The channels put the address in each message's metadata under CLIENT_METADATA_KEY, where the
action server reads it. Behind a load balancer or reverse proxy every connection comes from
the proxy, so the address it forwards (`X-Forwarded-For`) is used, but only when the
connection itself comes from an address listed in TRUSTED_PROXIES: anyone else could send
that header to pose as a new client at every message.
"""

from __future__ import annotations

import ipaddress
import os
from contextvars import ContextVar
from functools import cache

CLIENT_METADATA_KEY = "qc_client"

# The client of the message the action server is handling now (set per action call by
# `actions/client_context.py`; None outside one). Verification made over the REST channel,
# whose conversation id the client chooses, is only honoured for the same client
# (`identity.verified_customer`).
current_client: ContextVar[str | None] = ContextVar("qc_current_client", default=None)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def trusted_proxies(spec: str) -> tuple[IPNetwork, ...]:
    """'127.0.0.1, 10.0.0.0/8' -> networks; entries that are not addresses are ignored."""
    networks: list[IPNetwork] = []
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip().strip("[]"))
    except ValueError:
        return None


def client_key(
    peer: str | None, forwarded_for: str | None = None, proxies: str | None = None
) -> str | None:
    """The key failures are counted under: 'ip:<address>' (None when nothing is known).

    `proxies` defaults to the TRUSTED_PROXIES environment variable (empty: trust nobody).
    With a trusted peer, the right-most address in X-Forwarded-For that is not itself a
    trusted proxy is the client (entries further left could be made up by the client).
    """
    spec = os.environ.get("TRUSTED_PROXIES", "") if proxies is None else proxies
    networks = trusted_proxies(spec)
    address = _address(peer)

    def trusted(candidate: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(candidate in network for network in networks)

    if address is not None and forwarded_for and trusted(address):
        for hop in reversed(forwarded_for.split(",")):
            forwarded = _address(hop)
            if forwarded is None:
                break
            address = forwarded
            if not trusted(forwarded):
                break
    if address is None:
        return f"ip:{peer.strip()[:60]}" if peer and peer.strip() else None
    return f"ip:{address.compressed}"
