"""Where the admin bearer token may travel: over TLS, from loopback, or where allowed.

The token is sent as call metadata; on a plaintext port anyone on the path can read it.
Admin RPCs over plaintext are therefore refused unless the peer is on this machine
(`kubectl port-forward`, a sidecar) or the operator set ADMIN_ALLOW_PLAINTEXT=true.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import grpc

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def peer_is_local(peer: str) -> bool:
    """`context.peer()` ("ipv4:127.0.0.1:5123", "ipv6:[::1]:5123", "unix:...") on this host?"""
    kind, _, rest = peer.partition(":")
    if kind in ("unix", "unix-abstract"):
        return True
    if kind == "ipv4":
        host = rest.rpartition(":")[0]
    elif kind == "ipv6":
        host = rest.rpartition(":")[0].strip("[]").partition("%")[0]
    else:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in LOOPBACK)


def is_secure(context: grpc.aio.ServicerContext[Any, Any]) -> bool:
    security: object = context.auth_context().get("transport_security_type")
    return security == [b"ssl"]


@dataclass(frozen=True)
class AdminTransport:
    """The policy for admin calls on one server."""

    allow_plaintext: bool = False

    def permits(self, context: grpc.aio.ServicerContext[Any, Any]) -> bool:
        return self.allow_plaintext or is_secure(context) or peer_is_local(context.peer())
