"""Which URLs the probe may load: http(s) on the CDN host and the S3 fallback hosts it
was configured for, nothing else.

The probe loads whatever the resolver hands out, so a resolver that is misconfigured or
compromised could point it at anything: an internal service, a metadata endpoint, a
`gopher://` or `ftp://` URL that a naive client would still speak HTTP to, credentials in
`user:pass@` that would end up in a Host header. Every URL is checked before any
connection: the scheme is http or https, there is no userinfo, and the host (and port)
is one of the configured ones for the URL's origin (`cdn` or `s3`). A refused URL is a
failed sample naming why (it counts as a 5xx: the resolver handing out such a URL is a
failure), never a request.

A host entry is `HOST` (the scheme's default port: 80 or 443) or `HOST:PORT`; names
compare case-insensitively, IPv6 literals are written `[::1]:9000`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = {"http": 80, "https": 443}
CDN_HOSTS_ENV = "PROBE_CDN_HOSTS"
S3_HOSTS_ENV = "PROBE_S3_HOSTS"


def _parse_entry(entry: str) -> tuple[str, int | None]:
    text = entry.strip().lower()
    if not text or "/" in text or "@" in text:
        raise ValueError(f"not a HOST or HOST:PORT: {entry!r}")
    parts = urlsplit(f"//{text}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in {entry!r}") from None
    if not parts.hostname:
        raise ValueError(f"not a HOST or HOST:PORT: {entry!r}")
    return parts.hostname, port


def env_hosts(name: str) -> list[str]:
    """Comma-separated host entries from the environment variable ``name``."""
    return [h for h in os.environ.get(name, "").split(",") if h.strip()]


@dataclass(frozen=True)
class UrlPolicy:
    """Allowed (host, port) pairs per origin; port None = the scheme's default port."""

    cdn: frozenset[tuple[str, int | None]]
    s3: frozenset[tuple[str, int | None]]

    @classmethod
    def from_hosts(cls, cdn: Iterable[str], s3: Iterable[str]) -> UrlPolicy:
        """ValueError for an entry that is not HOST or HOST:PORT."""
        return cls(frozenset(map(_parse_entry, cdn)), frozenset(map(_parse_entry, s3)))

    def refuse(self, url: str, origin: str) -> str | None:
        """None if the probe may load ``url`` for ``origin``; else why not."""
        return refuse_url(url, self.cdn if origin == "cdn" else self.s3, origin)


def refuse_url(
    url: str, allowed: Iterable[tuple[str, int | None]] | None, origin: str
) -> str | None:
    """The checks of UrlPolicy; ``allowed`` None checks only scheme and userinfo (what
    timing.fetch enforces on any URL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"refused: not a URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return f"refused: scheme {scheme or '(none)'!r} is not http or https"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "refused: credentials (userinfo) in the URL"
    host = (parts.hostname or "").lower()
    if not host:
        return "refused: no host"
    if allowed is None:
        return None
    effective = port if port is not None else SCHEMES[scheme]
    for name, want in allowed:
        if name == host and (want if want is not None else SCHEMES[scheme]) == effective:
            return None
    shown = f"{host}:{effective}"
    return f"refused: {shown} is not a configured {origin} host"


def add_host_args(p: argparse.ArgumentParser) -> None:
    """`probe --cdn-host/--s3-host` (repeatable, else the environment)."""
    p.add_argument(
        "--cdn-host",
        action="append",
        metavar="HOST[:PORT]",
        help=f"the CDN host the resolver's CDN URLs must be on (repeatable; default: "
        f"{CDN_HOSTS_ENV}, comma-separated); required",
    )
    p.add_argument(
        "--s3-host",
        action="append",
        metavar="HOST[:PORT]",
        help=f"an S3 host the fallback URLs may be on (repeatable; default: {S3_HOSTS_ENV}); "
        "without one, S3 fallback URLs are refused samples",
    )


def policy_from_args(args: argparse.Namespace) -> UrlPolicy:
    """The policy the command line (or the environment) configures; ValueError without a
    CDN host or for a malformed entry."""
    cdn = list(args.cdn_host or env_hosts(CDN_HOSTS_ENV))
    s3 = list(args.s3_host or env_hosts(S3_HOSTS_ENV))
    if not cdn:
        raise ValueError(
            f"name the CDN host the probe may load: --cdn-host HOST[:PORT] (or {CDN_HOSTS_ENV})"
        )
    return UrlPolicy.from_hosts(cdn, s3)
