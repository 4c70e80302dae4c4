"""The local edge's access logs, read by the real report: what the edge served over real
sockets (varnishncsa over its VSL, rolled into CloudFront-named gzip files) is what
`image-ops logs report` counts, and no viewer input can break a line."""

from __future__ import annotations

import gzip
import re
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from image_ops.accesslogs.cli import build_report
from image_ops.accesslogs.duckdb_engine import Window
from image_ops.accesslogs.fields import FIELD_NAMES
from tests.support.edge import LOCAL_CDN, TEST_TTLS
from wishlist_dev.edge import LocalEdge
from wishlist_dev.edge.log_delivery import HEADER, AccessLogs

DELIVERED = re.compile(
    r"^cloudfront/w3c/E2EXAMPLE0DIST/(\d{4})/(\d{2})/(\d{2})/"
    r"E2EXAMPLE0DIST\.(\d{4})-(\d{2})-(\d{2})-\d{2}\.[0-9a-f]{8}\.gz$"
)


@pytest.fixture
def logged_edge(start_edge: Callable[..., LocalEdge], tmp_path: Path) -> LocalEdge:
    return start_edge(
        access_logs=AccessLogs(tmp_path / "logs"),
        ttl_overrides=TEST_TTLS,
        origin_lists_bucket=True,  # a missing key is a 404
    )


def report(folder: Path) -> dict[str, Any]:
    rep, _ = build_report([str(folder)], Window())
    return rep


def delivered_lines(folder: Path) -> list[dict[str, str]]:
    """Every data line of every delivered file, by field name; checks each file's shape."""
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        m = DELIVERED.match(relative)
        assert m, f"not a CloudFront-named file: {relative}"
        assert m.group(1, 2, 3) == m.group(4, 5, 6), "filed under its own day"
        text = gzip.decompress(path.read_bytes()).decode("ascii")
        assert text.startswith(HEADER)
        for line in text.removeprefix(HEADER).split("\n")[:-1]:
            values = line.split("\t")
            assert len(values) == len(FIELD_NAMES), line
            rows.append(dict(zip(FIELD_NAMES, values, strict=True)))
    return rows


def test_the_report_counts_what_the_edge_served(logged_edge: LocalEdge, put_object) -> None:
    image = put_object(b"\x89PNG\r\n\x1a\n" + b"i" * 5000)
    other = put_object(b"\x89PNG\r\n\x1a\n" + b"o" * 3000)
    missing = f"uploads/wishlist/logs-{uuid.uuid4().hex[:8]}/none.png"
    sent = [
        logged_edge.request("GET", f"/{image}?v=1&utm_source=mail"),
        logged_edge.request("GET", f"/{image}?v=1"),
        logged_edge.request("GET", f"/{missing}"),
        logged_edge.request("GET", f"/{other}", tls=False, host=LOCAL_CDN),
    ]
    assert [(r.status_code, r.headers["x-cache"]) for r in sent] == [
        (200, "Miss from cloudfront"),
        (200, "Hit from cloudfront"),
        (404, "Error from cloudfront"),
        (200, "Miss from cloudfront"),
    ]
    folder = logged_edge.access_log_folder
    assert folder is not None
    assert logged_edge.roll_access_logs()

    rep = report(folder)
    assert rep["input"]["malformed_lines"] == 0
    assert rep["input"]["rows"] == len(sent)
    summary = rep["summary"]
    assert (summary["requests"], summary["hits"], summary["misses"]) == (4, 1, 2)
    assert summary["bytes"] > 5000 + 5000 + 3000
    assert summary["time_taken_p50"] is not None and summary["ttfb_p50"] is not None
    assert rep["errors"]["by_status"] == [{"status": 404, "requests": 1}]
    assert sorted(r["uri"] for r in rep["top_missed"]) == sorted([f"/{image}", f"/{other}"])
    assert {r["result_type"]: r["requests"] for r in rep["result_types"]} == {
        "Miss": 2,
        "Hit": 1,
        "Error": 1,
    }
    (edge,) = rep["by_edge"]
    assert (edge["edge_code"], edge["city"]) == ("FRA", "Frankfurt")

    # Line by line: each response's X-Amz-Cf-Id is its x-edge-request-id, X-Cache its type.
    rows = {row["x-edge-request-id"]: row for row in delivered_lines(folder)}
    assert len(rows) == len(sent)
    for resp in sent:
        row = rows[resp.headers["x-amz-cf-id"]]
        assert row["x-edge-result-type"] == resp.headers["x-cache"].split()[0]
        assert int(row["sc-status"]) == resp.status_code
        assert int(row["sc-bytes"]) > len(resp.content)
        assert row["sc-content-len"] == resp.headers["content-length"]
        assert re.fullmatch(r"\d+\.\d{3}", row["time-taken"])
        assert row["c-ip"] == "127.0.0.1" and 0 < int(row["c-port"]) < 65536
    first = rows[sent[0].headers["x-amz-cf-id"]]
    assert (first["cs-uri-stem"], first["cs-uri-query"]) == (f"/{image}", "v=1&utm_source=mail")
    assert first["cs-protocol"] == "https" and first["ssl-protocol"].startswith("TLSv1.")
    assert first["ssl-cipher"] != "-" and first["x-host-header"] == logged_edge.cdn_host
    plain = rows[sent[3].headers["x-amz-cf-id"]]
    assert (plain["cs-protocol"], plain["ssl-protocol"]) == ("http", "-")
    assert plain["cs-uri-query"] == "-"
    assert plain["x-host-header"] == LOCAL_CDN


def _raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        return sock.recv(100).split(b"\r\n", 1)[0]


def test_hostile_viewer_input_gives_one_well_formed_line_each(logged_edge, put_object) -> None:
    key = put_object()
    host = f"{LOCAL_CDN}:{logged_edge.http_port}".encode()
    agent = b'evil\t"quoted" \\back %09 \xc3\xa9\xff' + b"\r\n  folded onto a second line"
    accepted = [
        b"GET /" + key.encode() + b"?q=%22\x22\\ HTTP/1.1\r\nHost: " + host
        + b"\r\nUser-Agent: " + agent + b"\r\nReferer: a\tb\r\nConnection: close\r\n\r\n",
    ]  # fmt: skip
    refused = [  # Varnish answers 400 before any VCL runs; still one line each
        b"GET /x HTTP/1.1\r\nHost: " + host + b"\r\nUser-Agent: esc\x1b[31m\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: " + host + b"\r\nUser-Agent: bare\rcr\r\n\r\n",
        b"GET /x\tHTTP/1.1 HTTP/1.1\r\nHost: " + host + b"\r\n\r\n",
    ]
    for raw in accepted:
        assert _raw_request(logged_edge.http_port, raw) == b"HTTP/1.1 200 OK"
    for raw in refused:
        assert _raw_request(logged_edge.http_port, raw) == b"HTTP/1.1 400 Bad Request"
    folder = logged_edge.access_log_folder
    assert folder is not None
    logged_edge.roll_access_logs()

    rows = delivered_lines(folder)  # 33 tab-separated fields each, or it fails
    assert len(rows) == len(accepted) + len(refused)
    evil = next(r for r in rows if r["sc-status"] == "200")
    for name in ("cs(User-Agent)", "cs(Referer)", "cs-uri-query"):
        assert re.fullmatch(r"[\x21-\x7e]+", evil[name]) and '"' not in evil[name], evil[name]
    agent_back = unquote_to_bytes(evil["cs(User-Agent)"])
    assert agent_back.startswith(b'evil\t"quoted" \\back %09 \xc3\xa9\xff')  # decodes back
    assert agent_back.endswith(b"folded onto a second line")
    assert unquote_to_bytes(evil["cs(Referer)"]) == b"a\tb"
    assert sorted(r["sc-status"] for r in rows) == ["200", "400", "400", "400"]
    assert {r["x-edge-result-type"] for r in rows if r["sc-status"] == "400"} == {"Error"}

    rep = report(folder)
    assert rep["input"]["malformed_lines"] == 0
    assert rep["summary"]["requests"] == len(rows)


def test_stop_delivers_the_rest_and_a_restart_keeps_logging(logged_edge, put_object) -> None:
    key = put_object()
    assert logged_edge.request("GET", f"/{key}").status_code == 200
    folder = logged_edge.access_log_folder
    assert folder is not None
    logged_edge.stop()  # no roll asked for: stopping delivers
    assert report(folder)["summary"]["requests"] == 1
    logged_edge.start()
    assert logged_edge.request("GET", f"/{key}").headers["x-cache"] == "Miss from cloudfront"
    logged_edge.purge(f"/{key}")  # an invalidation is not a viewer request: not logged
    logged_edge.roll_access_logs()
    assert report(folder)["summary"]["requests"] == 2
    assert not [p for p in folder.rglob(".*")], "no partial file is left behind"
