"""Renders the edge's VCL from an `EdgeConfig` (itself read from deploy/'s template)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from wishlist_dev.edge.model import (
    CACHED_ERROR_CODES,
    ERRORS_HONOURING_NO_STORE,
    CachePolicy,
    Cors,
    EdgeConfig,
)

# The main types of CloudFront's "file types that CloudFront compresses" list.
COMPRESSIBLE_TYPES = (
    r"(?i)^(text/(css|csv|html|javascript|plain|xml|tab-separated-values)|image/svg\+xml"
    r"|application/(json|javascript|x-javascript|xml|xhtml\+xml|rss\+xml|wasm|pdf)|font/)"
)
_HOST = re.compile(r"^[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_VCL_UNSAFE = re.compile(r'["\n\r{}]')


@dataclass(frozen=True)
class VclParams:
    """What the VCL needs besides the template's rules: ports, names and ids."""

    origin_port: int
    https_port: int
    cdn_hosts: Sequence[str]
    pop: str
    via_id: str
    source: str = "deploy/cloudformation/image-cdn.yaml"


def _vcl_safe(value: str) -> str:
    """Template values land inside VCL string literals, which cannot hold quotes/newlines."""
    if _VCL_UNSAFE.search(value):
        raise ValueError(f"cannot put {value!r} into the VCL")
    return value


def path_regex(pattern: str) -> str:
    """A CloudFront path pattern (`*` any characters, `?` one) as an anchored regex."""
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return _vcl_safe("^" + "".join(parts) + "$")


def query_filter_regex(cache: CachePolicy) -> str:
    """Matches the `&name=value` pieces the policy drops (run on '&' + query string)."""
    names = "|".join(re.escape(n) for n in cache.query_strings) or "(?!)"
    if cache.query_string_behavior == "whitelist":
        return _vcl_safe(f"&(?!(?:{names})(?:=|&|$))[^&]*")
    return _vcl_safe(f"&(?:{names})(?:=[^&]*)?(?=&|$)")


def origins_regex(cors: Cors) -> str:
    if "*" in cors.allow_origins:
        return "."
    return _vcl_safe("^(" + "|".join(re.escape(o) for o in cors.allow_origins) + ")$")


def hosts_regex(hosts: Sequence[str]) -> str:
    for host in hosts:
        if not _HOST.match(host):
            raise ValueError(f"not a host name: {host!r}")
    alts = [re.escape(h).replace(r"\*", "[a-z0-9-]+") for h in hosts]
    return "^(" + "|".join(alts) + ")$"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wishlist_dev.edge", "."),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - VCL, not HTML; values are checked by _vcl_safe
    )
    env.filters.update(
        path_regex=path_regex, query_filter_regex=query_filter_regex, origins_regex=origins_regex
    )
    return env


def render_vcl(config: EdgeConfig, params: VclParams) -> str:
    """The whole VCL program for this config, ports and host names."""
    for b in config.behaviors:
        for value in [
            *b.allowed_methods,
            *(b.headers.cors.allow_headers if b.headers and b.headers.cors else ()),
        ]:
            _vcl_safe(value)
    return (
        _environment()
        .get_template("edge.vcl.j2")
        .render(
            source=params.source,
            behaviors=config.behaviors,
            error_ttls=config.error_ttls,
            default_error_ttl=config.default_error_ttl,
            error_ttl_502=config.error_ttl(502),
            compressible_types=COMPRESSIBLE_TYPES,
            cached_error_codes=CACHED_ERROR_CODES,
            no_store_error_codes=ERRORS_HONOURING_NO_STORE,
            hosts_regex=hosts_regex(params.cdn_hosts),
            origin_port=params.origin_port,
            https_port=params.https_port,
            pop=_vcl_safe(params.pop),
            via_id=_vcl_safe(params.via_id),
        )
    )
