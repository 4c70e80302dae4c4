"""Deterministic CloudFront standard-log generator with known answers.

Tests compute expected report numbers from the returned records, independently
of the SQL; the benchmark uses it to make a large file. The cache is simulated
per edge location (a key is a Hit once that edge has fetched it, until its TTL
runs out), so the output has a real warm-up curve instead of a fixed hit rate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import itertools
import json
import random
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from image_ops.accesslogs.fields import FIELD_NAMES, normalized

# Edge locations used by the generator, with their request weights. Prefixes are
# all present in edge_locations.json, except ZZZ (an unknown code on purpose).
EDGES: tuple[tuple[str, int], ...] = (
    ("IAD89-C1", 22),
    ("JFK50-P2", 10),
    ("SFO53-C1", 10),
    ("FRA56-P1", 14),
    ("LHR61-C2", 10),
    ("NRT57-C3", 8),
    ("SIN2-C1", 7),
    ("SYD62-P1", 6),
    ("GRU3-C1", 5),
    ("BOM78-P4", 4),
    ("JNB50-C1", 3),
    ("ZZZ1-C1", 1),
)
_REGION_SLOWNESS = {"IAD": 1.0, "JFK": 1.0, "SFO": 1.3, "FRA": 1.6, "LHR": 1.5, "NRT": 2.2}
_USER_AGENTS = (
    "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36",
    "Mozilla/5.0%20(iPhone;%20CPU%20iPhone%20OS%2017_4%20like%20Mac%20OS%20X)",
    "Mozilla/5.0%20(Macintosh;%20Intel%20Mac%20OS%20X%2014_4)%20Safari/605.1.15",
)
_HOST = "d111111abcdef8.cloudfront.net"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


@dataclass(frozen=True)
class Record:
    """One generated request; ``values`` holds the 33 field strings in FIELD_NAMES order."""

    when: dt.datetime
    edge: str
    sc_bytes: int
    method: str
    uri: str
    status: int
    result_type: str
    response_result_type: str
    time_taken: float
    ttfb: float
    salt: int = 0  # drives the cosmetic fields (client IP, request id, ...)

    @property
    def values(self) -> tuple[str, ...]:
        return _values(self)


def _values(r: Record) -> tuple[str, ...]:
    # Cosmetic fields come from the record's salt, so a record always renders
    # to the same line (no str hash: that is randomised per process).
    h = r.salt
    ip = f"203.0.{(h >> 8) & 0xFF}.{h & 0xFF}"
    req_id = "".join(_B64[(h >> (i % 40)) & 63] for i in range(56))
    content_len = "-" if r.status >= 400 else str(max(r.sc_bytes - 420, 0))
    detailed = r.result_type if r.status < 400 else "Error"
    return (
        r.when.strftime("%Y-%m-%d"),
        r.when.strftime("%H:%M:%S"),
        r.edge,
        str(r.sc_bytes),
        ip,
        r.method,
        _HOST,
        r.uri,
        str(r.status),
        "https://wishlist.example.com/",
        _USER_AGENTS[h % len(_USER_AGENTS)],
        "-",
        "-",
        r.result_type,
        req_id,
        _HOST,
        "https",
        str(180 + h % 400),
        f"{r.time_taken:.3f}",
        "-",
        "TLSv1.3",
        "TLS_AES_128_GCM_SHA256",
        r.response_result_type,
        "HTTP/2.0",
        "-",
        "-",
        str(1024 + h % 60000),
        f"{r.ttfb:.3f}",
        detailed,
        "image/jpeg" if r.status < 400 else "text/html",
        content_len,
        "-",
        "-",
    )


def generate(
    n: int,
    *,
    seed: int = 2018,
    start: dt.datetime = dt.datetime(2026, 1, 28, 0, 0, 0),
    duration: dt.timedelta = dt.timedelta(hours=24),
    keys: int = 5000,
    ttl: dt.timedelta = dt.timedelta(hours=24),
) -> Iterator[Record]:
    """Yield ``n`` requests in time order over ``duration`` from ``start``.

    Keys follow a Zipf-like popularity; about 2% of requests are for missing
    images (404, result type Error) and 0.5% hit an origin failure (502).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    edge_names = [e for e, _ in EDGES]
    edge_weights = [w for _, w in EDGES]
    weights = [1.0 / (i + 1) ** 1.1 for i in range(keys)]
    cached: dict[tuple[str, int], dt.datetime] = {}
    step = duration / max(n, 1)
    batch = 4096
    edges_batch: list[str] = []
    keys_batch: list[int] = []
    for i in range(n):
        if i % batch == 0:
            edges_batch = rng.choices(edge_names, edge_weights, k=batch)
            keys_batch = rng.choices(range(keys), weights, k=batch)
        edge = edges_batch[i % batch]
        key = keys_batch[i % batch]
        when = (start + step * i).replace(microsecond=0)
        slow = _REGION_SLOWNESS.get(edge[:3], 2.5)
        uri = f"/uploads/wishlist/u{key % 97}/img{key}.jpg"
        roll = rng.random()
        method = "HEAD" if roll < 0.01 else "GET"
        if roll > 0.995:
            status, result, resp, size = 502, "Error", "Error", 610
            taken = round(rng.uniform(1.0, 3.0), 3)
        elif roll > 0.975:
            status, result, resp, size = 404, "Error", "Error", 560
            taken = round(rng.uniform(0.02, 0.08) * slow, 3)
        else:
            status = 200
            expiry = cached.get((edge, key))
            if expiry is not None and expiry > when:
                result = "RefreshHit" if roll < 0.03 else "Hit"
                taken = round(rng.uniform(0.001, 0.02) * slow, 3)
            else:
                result = "Miss"
                cached[(edge, key)] = when + ttl
                taken = round(rng.uniform(0.05, 0.4) * slow, 3)
            resp = result
            size = 0 if method == "HEAD" else 20_000 + (key * 7919) % 480_000
            size += 420  # response headers
        ttfb = round(taken * 0.8, 3)
        salt = rng.getrandbits(48)
        yield Record(when, edge, size, method, uri, status, result, resp, taken, ttfb, salt)


def render(
    records: Iterable[Record],
    *,
    fields: Sequence[str] = FIELD_NAMES,
    extra: Sequence[tuple[str, str]] = (),
) -> Iterator[str]:
    """Yield log lines (with newline), headers first.

    ``fields`` may reorder or drop standard fields; ``extra`` appends
    ``(field name, constant value)`` columns CloudFront might add in future.
    """
    index = {name: i for i, name in enumerate(FIELD_NAMES)}
    picks = [index[f] for f in fields]
    names = [*fields, *(name for name, _ in extra)]
    tail = [value for _, value in extra]
    yield "#Version: 1.0\n"
    yield "#Fields: " + " ".join(names) + "\n"
    for r in records:
        v = r.values
        yield "\t".join([*(v[p] for p in picks), *tail]) + "\n"


def write_gzip(path: Path, lines: Iterable[str], *, truncate_last_line: bool = False) -> None:
    """Write lines gzip-compressed; optionally cut the final line mid-field, no newline."""
    buf: list[str] = []
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as fh:
        prev: str | None = None
        for line in lines:
            if prev is not None:
                buf.append(prev)
                if len(buf) >= 8192:
                    fh.write("".join(buf))
                    buf.clear()
            prev = line
        if prev is not None:
            buf.append(prev[: len(prev) // 3] if truncate_last_line else prev)
        fh.write("".join(buf))


def json_lines(records: Iterable[Record], fields: Sequence[str] = FIELD_NAMES) -> Iterator[str]:
    """Standard logging v2's ``json`` format: one object per line keyed by field name,
    every value a string (``-`` where empty), as in AWS's Athena table for it."""
    index = {name: i for i, name in enumerate(FIELD_NAMES)}
    picks = [(f, index[f]) for f in fields]
    for r in records:
        v = r.values
        yield json.dumps({f: v[i] for f, i in picks}, separators=(",", ":")) + "\n"


def write_parquet(
    path: Path, records: Iterable[Record], fields: Sequence[str] = FIELD_NAMES
) -> None:
    """Standard logging v2's ``parquet`` format: one string column per field, named as
    CloudFront names them (``cs(Host)`` -> ``cs_host``), written by DuckDB's own writer."""
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "records.tsv"
        with tsv.open("w", encoding="utf-8") as fh:
            index = {name: i for i, name in enumerate(FIELD_NAMES)}
            picks = [index[f] for f in fields]
            for r in records:
                v = r.values
                fh.write("\t".join(v[p] for p in picks) + "\n")
        spec = ", ".join(f"'{normalized(f)}': 'VARCHAR'" for f in fields)
        copy = (
            f"COPY (SELECT * FROM read_csv('{tsv}', delim='\t', quote='', escape='', "  # noqa: S608
            f"header=false, auto_detect=false, columns={{{spec}}})) TO '{path}' (FORMAT parquet)"
        )  # our own temp file and the caller's path: dev-only test data
        with duckdb.connect() as con:
            con.execute(copy)


def write_format(path: Path, records: Sequence[Record], fmt: str) -> None:
    """The records as one v2 log file in ``fmt`` (w3c, plain and json gzip-compressed)."""
    if fmt == "parquet":
        write_parquet(path, records)
    elif fmt == "json":
        write_gzip(path, json_lines(records))
    elif fmt == "plain":
        write_gzip(path, (line for line in render(records) if not line.startswith("#")))
    elif fmt == "w3c":
        write_gzip(path, render(records))
    else:
        raise ValueError(f"unknown format {fmt!r}")


def split_gzip(src: Path, folder: Path, parts: int) -> list[Path]:
    """Split a gzip log into ``parts`` gzip files of consecutive lines, each with the headers.

    CloudFront delivers many small files per hour; this makes such a folder from one
    generated log (two passes over ``src``: count, then copy), without holding it in memory.
    """
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        headers = list(itertools.takewhile(lambda line: line.startswith("#"), fh))
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        total = sum(1 for line in fh if not line.startswith("#"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = src.name.removesuffix(".gz")
    out: list[Path] = []
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        body = (line for line in fh if not line.startswith("#"))
        for i in range(parts):
            count = total // parts + (1 if i < total % parts else 0)
            path = folder / f"{stem}.part{i:03d}.gz"
            write_gzip(path, itertools.chain(headers, itertools.islice(body, count)))
            out.append(path)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Write a synthetic log file: ``python -m wishlist_dev.synth_logs OUT.gz``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--format", choices=("w3c", "plain", "json", "parquet"), default="w3c")
    args = parser.parse_args(argv)
    write_format(args.out, list(generate(args.lines, seed=args.seed)), args.format)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
