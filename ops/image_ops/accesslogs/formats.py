"""Which of the four standard-log formats a file is, and the field names it carries.

Standard logging v2 delivers ``w3c`` (the legacy layout: ``#Version``/``#Fields``
headers, tab-separated), ``plain`` (the same records without headers), ``json`` (one
object per line, keyed by field name) or ``parquet``; legacy logging writes W3C only.
Each file is read by the names it carries itself: the W3C header, the keys of the first
JSON record, the Parquet schema (from its footer: parquet_footer.py). Plain files carry
none, so they are read as the record fields the deploy/ templates configure
(``fields.DELIVERY_FIELDS``) unless the operator names another list. Only a bounded
prefix of a text file is read here.
"""

from __future__ import annotations

import json
import os
import re
import stat
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from image_ops.accesslogs import parquet_footer
from image_ops.accesslogs.fields import BY_NORMALIZED, DELIVERY_FIELDS, normalized

FORMATS = ("w3c", "plain", "json", "parquet")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
HEADER_PROBE_LINES = 5
HEADER_BYTES = 64 * 1024  # the sniff reads at most this much (decompressed)
MAX_FIELDS = 256  # CloudFront has 33 standard fields, v2 a few dozen more
MAX_FIELD_NAME = 100
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}")


@dataclass(frozen=True)
class Sniffed:
    """A file's format, the field names it declares (in its own spelling) and compression."""

    fmt: str
    fields: tuple[str, ...]
    gzipped: bool
    rows: int | None = None  # Parquet: the footer's row count; text files are counted later


def open_regular(path: os.PathLike[str] | str) -> int:
    """An fd on ``path`` if it is a regular file (symlinks followed); OSError otherwise.
    O_NONBLOCK: opening a FIFO must not wait for a writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"not a regular file: {path}")
    return fd


def _prefix(fd: int, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes from the start of the file, decompressed if it is gzip; a
    Parquet file comes back as its first four bytes (its magic)."""
    with os.fdopen(fd, "rb", closefd=True) as raw:
        head = raw.read(4)
        if head[:2] != GZIP_MAGIC:
            return head + (b"" if head == PARQUET_MAGIC else raw.read(max(limit - 4, 0))), False
        d = zlib.decompressobj(wbits=31)
        out = bytearray()
        pending = head
        while len(out) < limit:
            if not pending:
                pending = raw.read(16 * 1024)
                if not pending:
                    break
            out += d.decompress(pending, limit - len(out))
            pending = d.unconsumed_tail
            if d.eof:
                break
        return bytes(out), True


def _check_names(names: Sequence[str], what: str) -> str | None:
    if not names:
        return f"an empty {what}"
    if len(names) > MAX_FIELDS:
        return f"a {what} of {len(names)} fields (at most {MAX_FIELDS})"
    if any(len(n) > MAX_FIELD_NAME or not n.isprintable() or not n for n in names):
        return f"a {what} name empty, longer than {MAX_FIELD_NAME} or not printable"
    if not any(normalized(n) in BY_NORMALIZED for n in names):
        return f"a {what} without any CloudFront field"
    return None


def _w3c(lines: list[bytes], gzipped: bool) -> Sniffed | str:
    for raw_line in lines[:HEADER_PROBE_LINES]:
        line = raw_line.decode("utf-8", "replace").rstrip("\r")
        if line.startswith("#Fields:"):
            fields = tuple(line[len("#Fields:") :].split())
            bad = _check_names(fields, "#Fields header")
            return bad if bad else Sniffed("w3c", fields, gzipped)
        if not line.startswith("#"):
            break
    return (
        f"no #Fields header (in the first {HEADER_PROBE_LINES} lines, {HEADER_BYTES // 1024} KiB)"
    )


def _json(first: bytes, gzipped: bool) -> Sniffed | str:
    try:
        record = json.loads(first)
    except (ValueError, UnicodeDecodeError):
        return "a first line that is not a JSON object"
    if not isinstance(record, dict):
        return "a first line that is not a JSON object"
    keys = tuple(record)
    bad = _check_names(keys, "JSON record")
    return bad if bad else Sniffed("json", keys, gzipped)


def _plain(first: bytes, gzipped: bool, plain_fields: Sequence[str]) -> Sniffed | str:
    values = first.decode("utf-8", "replace").rstrip("\r").split("\t")
    looks = len(values) >= len(plain_fields)
    for name, pattern in (("date", _DATE), ("time", _TIME)):
        if looks and name in plain_fields:
            looks = bool(pattern.fullmatch(values[plain_fields.index(name)]))
    if not looks:
        return (
            "no #Fields header, not JSON or Parquet, and not a plain record of the "
            f"{len(plain_fields)} fields --plain-fields names"
        )
    return Sniffed("plain", tuple(plain_fields), gzipped)


def _parquet(path: os.PathLike[str] | str) -> Sniffed | str:
    try:
        fd = open_regular(path)
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    try:
        footer = parquet_footer.read(fd)
    except (parquet_footer.FooterError, OSError) as exc:
        return f"unreadable Parquet: {str(exc)[:200]}"
    finally:
        os.close(fd)
    bad = _check_names(footer.columns, "Parquet schema")
    return bad if bad else Sniffed("parquet", footer.columns, False, footer.num_rows)


def sniff(
    path: os.PathLike[str] | str, plain_fields: Sequence[str] = DELIVERY_FIELDS
) -> Sniffed | str:
    """What ``path`` is, or why it is not a CloudFront standard log. Anything but a regular
    file is refused; a text file's format is told from its first complete line."""
    try:
        data, gzipped = _prefix(open_regular(path), HEADER_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        return f"unreadable: {getattr(exc, 'strerror', None) or exc}"
    if data == PARQUET_MAGIC and not gzipped:
        return _parquet(path)
    lines = data.split(b"\n")
    complete = lines[: len(lines) - 1]  # the last piece may be cut by the prefix limit
    if data.startswith(b"#"):
        return _w3c(complete, gzipped)
    if not complete:
        return f"no #Fields header, and no complete first line in {HEADER_BYTES // 1024} KiB"
    if complete[0].lstrip().startswith(b"{"):
        return _json(complete[0], gzipped)
    return _plain(complete[0], gzipped, plain_fields)
