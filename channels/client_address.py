"""Which client address a request comes from, for the per-address limits (throttle/).

The address is the connection's peer. Only when the peer is one of IOM_TRUSTED_PROXIES (comma-
separated addresses or networks: `127.0.0.1`, `10.0.0.0/8`, `::1`) is the `X-Forwarded-For`
header believed: its addresses are read from the right (the one the last proxy saw) and the
first one that is not a trusted proxy is the client. A client can put anything at the left of
that header; it can never choose what a trusted proxy appends. Without IOM_TRUSTED_PROXIES the
header is ignored, whoever sends it. Behind nginx (`make run-scaled`, deploy/) set it to nginx's
address, or every client looks like nginx and they all share one limit.

For the limits an IPv6 address counts as its /64 (a household or an office gets a /64 or more,
and can pick any address in it). IOM_ADDRESS_LIMIT_EXEMPT (same syntax) lists clients the
per-address limits do not apply to, such as an integrator's back end calling the REST channel
for all its users: `limited_address` returns None for them.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
from typing import Iterable, List, Optional, Union

logger = logging.getLogger(__name__)

TRUSTED_ENV = "IOM_TRUSTED_PROXIES"
EXEMPT_ENV = "IOM_ADDRESS_LIMIT_EXEMPT"
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def parse_networks(value: str, name: str = TRUSTED_ENV) -> List[Network]:
    networks = []
    for item in (value or "").replace(" ", ",").split(","):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            logger.error("%s: %r is not an address or network; ignored", name, item)
    return networks


@functools.lru_cache(maxsize=None)
def _networks(name: str) -> tuple:
    return tuple(parse_networks(os.environ.get(name, ""), name))


def _address(text: Optional[str]) -> Optional[Address]:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _within(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(peer: Optional[str], forwarded_for: Optional[str] = None,
                   trusted: Optional[Iterable[Network]] = None) -> Optional[str]:
    """The client's address: `peer`, or from `forwarded_for` when `peer` is a trusted proxy."""
    proxies = tuple(trusted) if trusted is not None else _networks(TRUSTED_ENV)
    address = _address(peer)
    if address is None:
        return None
    if forwarded_for and proxies and _within(address, proxies):
        for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
            forwarded = _address(hop)
            if forwarded is None:
                break  # junk where a trusted proxy would have written: keep the last good one
            address = forwarded
            if not _within(address, proxies):
                break
    return str(address)


def limit_key(address: str) -> str:
    """What the limits count: the IPv4 address, or the IPv6 /64."""
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def limited_address(peer: Optional[str], forwarded_for: Optional[str] = None) -> Optional[str]:
    """The key the per-address limits count this request under, None if it is not limited
    (no address known, or exempt)."""
    address = client_address(peer, forwarded_for)
    if address is None:
        return None
    if _within(ipaddress.ip_address(address), _networks(EXEMPT_ENV)):
        return None
    return limit_key(address)


def of_request(request) -> Optional[str]:
    """`limited_address` of a Sanic request (the socket's peer, and X-Forwarded-For)."""
    forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
    return limited_address(request.ip, forwarded or None)
