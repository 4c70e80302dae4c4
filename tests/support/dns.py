"""A DNS server on loopback whose A records a test changes while clients run.

gRPC's c-ares resolver takes a DNS authority (`dns://127.0.0.1:PORT/name:port`), so a
client can resolve a made-up name through this server alone: no system resolver, no
/etc/hosts, no network.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from dnslib import QTYPE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _Records(BaseResolver):  # type: ignore[misc]
    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self.lock = threading.Lock()
        self.a: dict[str, list[str]] = {}
        self.queries = 0

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self.lock:
            self.queries += 1
            addresses = list(self.a.get(name, ())) if request.q.qtype == QTYPE.A else []
        for address in addresses:
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(address), ttl=self.ttl))
        return reply


class LoopbackDns:
    """`with LoopbackDns() as dns: dns.set("resolver.test", ["127.0.0.1"])`."""

    def __init__(self, ttl: int = 1) -> None:
        self._records = _Records(ttl)
        quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        for _ in range(20):  # a port free for both UDP and TCP
            udp = DNSServer(self._records, address="127.0.0.1", port=0, logger=quiet)
            port = int(udp.server.server_address[1])
            try:
                tcp = DNSServer(
                    self._records, address="127.0.0.1", port=port, tcp=True, logger=quiet
                )
            except OSError:
                udp.server.server_close()
                continue
            self._udp, self._tcp, self.port = udp, tcp, port
            break
        else:
            raise OSError("no loopback port free for both UDP and TCP")

    def set(self, name: str, addresses: Iterable[str]) -> None:
        with self._records.lock:
            self._records.a[name.lower()] = list(addresses)

    @property
    def queries(self) -> int:
        return self._records.queries

    def target(self, name: str, port: int) -> str:
        """A gRPC target that resolves `name` through this server only."""
        return f"dns://127.0.0.1:{self.port}/{name}:{port}"

    def __enter__(self) -> LoopbackDns:
        self._udp.start_thread()
        self._tcp.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self._udp.stop()
        self._tcp.stop()
