"""The edge's access-log line: what varnishncsa prints for each request, and how that line
becomes a CloudFront standard-log line (the 33 fields of image_ops' fields.py, in order).

varnishncsa formats every value from the request's VSL records (`ncsa_format`); this
module only changes units and encoding where varnishncsa cannot (microseconds to seconds,
"?q" to "q", C-style escapes to CloudFront's URL-encoding) and drops what the VCL marked
as not a viewer request (`edge-log` VCL_Log key: the readiness/sync probes, BAN/PURGE,
hosts of no distribution). Fidelity per field: docs/local-edge.md, "Access logs".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from image_ops.accesslogs.fields import FIELD_NAMES

# A real edge code, so the report places and prices the traffic (edge_locations.json has FRA).
DEFAULT_LOG_LOCATION = "FRA56-P1"
_LOCATION = re.compile(r"^[A-Z]{3}[0-9]{1,3}-[A-Z0-9]{1,4}$")
_HOST = re.compile(r"^[a-z0-9.-]+$")
SKIP_KEY = "edge-log"  # VCL: std.log("edge-log:skip") for what is not a viewer request
_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|.)", re.DOTALL)
_C_ESCAPES = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"f": b"\f", b"v": b"\v"}
_RANGE = re.compile(r"^bytes ([0-9]+)-([0-9]+)/")


def unescape(value: str) -> bytes:
    """The bytes behind varnishncsa's escapes (\\t, \\n, \\", \\\\, \\xHH; 7.1's set)."""

    def one(m: re.Match[bytes]) -> bytes:
        code = m.group(1)
        if code[:1] == b"x" and len(code) == 3:
            return bytes([int(code[1:], 16)])
        return _C_ESCAPES.get(code, code)

    return _ESCAPE.sub(one, value.encode("ascii", "backslashreplace"))


# Written as they are: printable ASCII but for `"` and `\\`, and `%` in URLs only.
HEADER_SAFE = frozenset(range(0x21, 0x7F)) - frozenset(b'"\\%')
URL_SAFE = HEADER_SAFE | {ord("%")}


def url_encode(raw: bytes, safe: frozenset[int] = HEADER_SAFE) -> str:
    """CloudFront-style: every byte not in `safe` (space, control bytes, non-ASCII, ...) as
    %XX. No tab or newline survives."""
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in raw)


def _dash(value: str) -> str:
    return value if value else "-"


def _text(value: str) -> str:
    """A header's value: every `%` encoded too, so the field decodes to the value."""
    return "-" if value in ("", "-") else url_encode(unescape(value))


def _url(value: str) -> str:
    """A URL part as the viewer sent it: its own %XX escapes stay as they are."""
    return "-" if value in ("", "-") else url_encode(unescape(value), URL_SAFE)


def _query(value: str) -> str:
    return _url(value.removeprefix("?"))


def _seconds_from_us(value: str) -> str:
    return f"{int(value) / 1e6:.3f}" if value.isdigit() else "-"


def _seconds(value: str) -> str:
    try:
        return f"{float(value):.3f}"
    except ValueError:
        return "-"


def _result(value: str) -> str:
    # No VCL_Log record: Varnish answered before any VCL ran (a malformed request, 400).
    return value or "Error"


def _range(part: int) -> Callable[[str], str]:
    def pick(content_range: str) -> str:
        m = _RANGE.match(content_range)
        return m.group(part) if m else "-"

    return pick


@dataclass(frozen=True)
class Column:
    """One CloudFront field: the varnishncsa formatter that reads it, and its finishing."""

    field: str
    ncsa: str
    finish: Callable[[str], str] = _dash


def _vcl(key: str) -> str:
    return f"%{{VCL_Log:{key}}}x"


def columns(location: str, distribution_host: str) -> tuple[Column, ...]:
    """The 33 columns, in FIELD_NAMES order (checked), for one edge location and host."""
    if not _LOCATION.match(location):
        raise ValueError(f"not an edge location code like IAD89-C1: {location!r}")
    if not _HOST.match(distribution_host):
        raise ValueError(f"not a host name: {distribution_host!r}")
    result = _vcl("x-edge-result-type")
    cols = (
        Column("date", "%{%Y-%m-%d}t"),  # TZ=UTC in varnishncsa's environment
        Column("time", "%{%H:%M:%S}t"),
        Column("x-edge-location", location),
        Column("sc-bytes", "%O"),
        Column("c-ip", "%h"),
        Column("cs-method", "%m"),
        Column("cs(Host)", distribution_host),
        Column("cs-uri-stem", "%U", _url),
        Column("sc-status", "%s"),
        Column("cs(Referer)", "%{Referer}i", _text),
        Column("cs(User-Agent)", "%{User-Agent}i", _text),
        Column("cs-uri-query", "%q", _query),
        Column("cs(Cookie)", "-"),  # the template's Logging: IncludeCookies false
        Column("x-edge-result-type", result, _result),
        Column("x-edge-request-id", "%{X-Amz-Cf-Id}o"),
        Column("x-host-header", "%{Host}i", _text),
        Column("cs-protocol", _vcl("cs-protocol")),
        Column("cs-bytes", "%I"),
        Column("time-taken", "%D", _seconds_from_us),
        Column("x-forwarded-for", _vcl("x-forwarded-for"), _text),
        Column("ssl-protocol", _vcl("ssl-protocol")),
        Column("ssl-cipher", _vcl("ssl-cipher")),
        Column("x-edge-response-result-type", result, _result),
        Column("cs-protocol-version", "%H"),
        Column("fle-status", "-"),
        Column("fle-encrypted-fields", "-"),
        Column("c-port", "%{VSL:ReqStart[2]}x"),
        Column("time-to-first-byte", "%{Varnish:time_firstbyte}x", _seconds),
        Column("x-edge-detailed-result-type", result, _result),
        Column("sc-content-type", "%{Content-Type}o", _text),
        Column("sc-content-len", "%{Content-Length}o"),
        Column("sc-range-start", "%{Content-Range}o", _range(1)),
        Column("sc-range-end", "%{Content-Range}o", _range(2)),
    )
    assert tuple(c.field for c in cols) == FIELD_NAMES, "columns drifted from fields.py"
    return cols


class LineFormat:
    """The varnishncsa `-F` format for one edge, and its output turned into CloudFront lines.

    The format has one column more than CloudFront's: the `edge-log` VCL_Log value, empty
    for viewer requests. varnishncsa escapes tabs, newlines, quotes, backslashes and
    non-ASCII bytes in every value, so a raw tab only ever separates columns."""

    def __init__(self, location: str, distribution_host: str) -> None:
        self.columns = columns(location, distribution_host)

    @property
    def ncsa_format(self) -> str:
        return "\\t".join([*(c.ncsa for c in self.columns), _vcl(SKIP_KEY)])

    def finish(self, raw: str) -> str | None:
        """The CloudFront line (no newline) for one varnishncsa line; None when it is not a
        viewer request. ValueError for a line not of the format's shape, which varnishncsa's
        escaping rules out: the caller drops it rather than deliver it broken."""
        values = raw.split("\t")
        if len(values) != len(self.columns) + 1:
            raise ValueError(f"{len(values)} columns, not {len(self.columns) + 1}")
        if values[-1]:
            return None
        return "\t".join(c.finish(v) for c, v in zip(self.columns, values[:-1], strict=True))

    @staticmethod
    def hour(line: str) -> str:
        """`YYYY-MM-DD-HH` of a finished line: the hour its file is named after."""
        return f"{line[:10]}-{line[11:13]}"
