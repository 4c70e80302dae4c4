"""Purges the local edge (Varnish, docs/local-edge.md) after a CloudFront invalidation.

A `Purger` (the resolver's extension point, `image_resolver.invalidation`) that the dev
tooling hands to the resolver it starts:

    EmbeddedResolver(settings, purgers=[LocalEdgePurger(edge.purge_url)])

The URL must be a loopback `http://host:port`, and each invalidation path becomes one
`BAN` (a trailing `*` is a prefix, as in CloudFront). A failed purge is logged, not
raised: CloudFront already accepted the invalidation.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


def check_purge_url(value: str) -> str:
    """`http://<loopback>:<port>` with nothing else; anything else is a config error."""
    try:
        url = urlsplit(value.strip())
        port = url.port
    except ValueError:
        raise ValueError("must look like http://127.0.0.1:PORT") from None
    host = url.hostname or ""
    if (
        url.scheme != "http"
        or port is None
        or url.path not in ("", "/")
        or url.query
        or url.username
        or not _is_loopback(host)
    ):
        raise ValueError("must look like http://127.0.0.1:PORT (a loopback edge, no path)")
    return f"http://{url.netloc}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalEdgePurger:
    """Sends one BAN per invalidation path to the local edge."""

    def __init__(self, base_url: str, timeout: float = 2.0) -> None:
        url = urlsplit(check_purge_url(base_url))
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.timeout = timeout

    def __call__(self, paths: Sequence[str]) -> None:
        for path in paths:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request("BAN", path)
                status = conn.getresponse().status
                if status != 200:
                    log.warning("local edge refused the purge of %s: HTTP %s", path, status)
            except OSError as exc:
                log.warning("local edge purge of %s failed: %s", path, exc)
            finally:
                conn.close()
