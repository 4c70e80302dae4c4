"""A local CloudFront-like edge (Varnish + hitch + a SigV4 signing origin) for demos and
tests, configured from deploy/'s template. See docs/local-edge.md."""

from wishlist_dev.edge.local_edge import (
    DEFAULT_CDN_HOST,
    DEFAULT_POP,
    EdgeUnavailable,
    LocalEdge,
    missing_binaries,
)
from wishlist_dev.edge.log_delivery import AccessLogs
from wishlist_dev.edge.model import EdgeConfig
from wishlist_dev.edge.origin import OriginFaults, OriginRequest, SigningOrigin
from wishlist_dev.edge.processes import EdgeStartError
from wishlist_dev.edge.purge import LocalEdgePurger, check_purge_url
from wishlist_dev.edge.template import TemplateError, edge_config_from_template, find_template

__all__ = [
    "DEFAULT_CDN_HOST",
    "DEFAULT_POP",
    "AccessLogs",
    "EdgeConfig",
    "EdgeStartError",
    "EdgeUnavailable",
    "LocalEdge",
    "LocalEdgePurger",
    "OriginFaults",
    "OriginRequest",
    "SigningOrigin",
    "TemplateError",
    "check_purge_url",
    "edge_config_from_template",
    "find_template",
    "missing_binaries",
]
