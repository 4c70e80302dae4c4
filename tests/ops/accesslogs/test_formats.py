"""Every format standard logging offers, and the layouts AWS has published, read by name."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from image_ops.accesslogs.fields import FIELD_NAMES, normalized
from tests.ops.accesslogs.conftest import report_json, run_cli
from wishlist_dev import synth_logs as synth

DATA = Path(__file__).parent / "data"
FORMATS = ("w3c", "plain", "json", "parquet")


def _without_input(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rep.items() if k != "input"}


@pytest.fixture(scope="module")
def same_requests(
    tmp_path_factory: pytest.TempPathFactory, records: list[synth.Record]
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    paths = {}
    for fmt in FORMATS:
        path = folder / f"E2EXAMPLE0DIST.2026-01-28-00.{fmt}0001.{fmt}"
        synth.write_format(path, records, fmt)
        paths[fmt] = path
    return paths


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_gives_the_same_report(
    same_requests: dict[str, Path], records: list[synth.Record], fmt: str
) -> None:
    reference = report_json(str(same_requests["w3c"]))
    rep = report_json(str(same_requests[fmt]))
    assert rep["input"]["formats"] == {fmt: 1}
    assert rep["input"]["rows"] == len(records) and rep["input"]["malformed_lines"] == 0
    assert rep["input"]["data_lines"] == len(records)  # Parquet: the footer's count
    assert rep["input"]["missing_fields"] == {}
    assert _without_input(rep) == _without_input(reference)
    assert rep["summary"]["bytes"] == sum(r.sc_bytes for r in records)


def test_a_folder_of_all_four_formats_adds_up(
    tmp_path: Path, same_requests: dict[str, Path], records: list[synth.Record]
) -> None:
    for path in same_requests.values():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    rep = report_json(str(tmp_path))
    assert rep["input"]["formats"] == {f: 1 for f in FORMATS}
    assert rep["summary"]["requests"] == 4 * len(records)
    assert rep["summary"]["hits"] == 4 * sum(
        r.response_result_type == "Hit" for r in records
    ) + 4 * sum(r.response_result_type == "RefreshHit" for r in records)


def test_the_published_example_is_read_in_full_with_its_extra_tab() -> None:
    """AWS's own example: its third record has one field more than the header names."""
    rep = report_json(str(DATA / "aws-example-2019-33-fields.log"))
    assert rep["input"]["rows"] == 6 and rep["input"]["malformed_lines"] == 0
    s = rep["summary"]
    assert (s["requests"], s["hits"], s["misses"], s["status_5xx"]) == (6, 3, 0, 3)
    assert s["bytes"] == 3 * 392 + 3 * 900
    assert {e["edge_code"]: e["requests"] for e in rep["by_edge"]} == {"LAX": 3, "SEA": 3}
    assert rep["errors"]["by_status"] == [{"status": 502, "requests": 3}]


def test_fields_added_at_the_end_are_kept_and_ignored() -> None:
    """The guide's current list appends distribution-tenant-id and connection-id."""
    rep = report_json(str(DATA / "aws-example-2025-35-fields.log"))
    older = report_json(str(DATA / "aws-example-2019-33-fields.log"))
    assert rep["input"]["rows"] == 6 and rep["input"]["malformed_lines"] == 0
    assert _without_input(rep) == _without_input(older)


def test_lines_with_more_fields_than_the_header_keep_the_named_ones(
    tmp_path: Path, records: list[synth.Record]
) -> None:
    path = tmp_path / "future.gz"
    header = ["#Version: 1.0\n", "#Fields: " + " ".join(FIELD_NAMES) + "\n"]
    body = [
        line.rstrip("\n") + "\tnew-a\tnew-b\n" for line in synth.render(records) if line[0] != "#"
    ]
    synth.write_gzip(path, [*header, *body])
    rep = report_json(str(path))
    assert rep["input"]["rows"] == len(records) and rep["input"]["malformed_lines"] == 0
    assert rep["summary"]["bytes"] == sum(r.sc_bytes for r in records)


def test_a_line_with_fewer_fields_than_its_header_is_malformed(tmp_path: Path) -> None:
    lines = (DATA / "aws-example-2019-33-fields.log").read_text().splitlines(keepends=True)
    short = lines[2].split("\t")[:20]
    path = tmp_path / "short.log"
    path.write_text("".join([*lines, "\t".join(short) + "\n"]))
    rep = report_json(str(path))
    assert rep["input"]["rows"] == 6 and rep["input"]["malformed_lines"] == 1


def test_the_26_field_layout_is_read_and_says_what_it_cannot_fill() -> None:
    path = DATA / "aws-example-2014-26-fields.log"
    rep = report_json(str(path))
    assert rep["input"]["rows"] == 2 and rep["input"]["malformed_lines"] == 0
    assert rep["summary"]["requests"] == 2 and rep["summary"]["hits"] == 2  # RefreshHit, Hit
    assert rep["summary"]["bytes"] == 182 + 2390282
    assert rep["summary"]["time_taken_p50"] == pytest.approx(0.0015)
    assert rep["summary"]["ttfb_p50"] is None
    assert rep["input"]["missing_fields"] == {"time_to_first_byte": 1}
    code, out, _ = run_cli(str(path))
    assert code == 0
    assert "field time-to-first-byte missing in 1 of 1 files" in out
    assert "TTFB percentiles" in out


def test_json_keys_in_any_case_and_numbers_as_numbers(
    tmp_path: Path, records: list[synth.Record], same_requests: dict[str, Path]
) -> None:
    """The Athena table AWS documents for JSON spells keys in lower case (`cs(host)`); a
    writer may emit numbers as JSON numbers. Neither changes the report."""
    numeric = {"sc-bytes", "sc-status", "time-taken", "time-to-first-byte", "cs-bytes", "c-port"}
    path = tmp_path / "lower.json.gz"
    with gzip.open(path, "wt") as fh:
        for r in records:
            obj: dict[str, object] = {}
            for name, value in zip(FIELD_NAMES, r.values, strict=True):
                obj[name.lower()] = float(value) if name in numeric and value != "-" else value
            fh.write(json.dumps(obj) + "\n")
    rep = report_json(str(path))
    assert _without_input(rep) == _without_input(report_json(str(same_requests["w3c"])))


def test_a_bad_json_line_is_counted_not_fatal(tmp_path: Path, records: list[synth.Record]) -> None:
    lines = list(synth.json_lines(records[:50]))
    lines.insert(10, "{not json\n")
    lines.insert(20, '["a", "list"]\n')
    path = tmp_path / "bad.json"
    path.write_text("".join(lines))
    rep = report_json(str(path))
    assert rep["summary"]["requests"] == 50
    assert rep["input"]["malformed_lines"] == 2


def test_a_cut_off_json_gzip_keeps_its_readable_records(
    tmp_path: Path, same_requests: dict[str, Path]
) -> None:
    data = same_requests["json"].read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) // 2])
    rep = report_json(str(cut))
    assert rep["input"]["truncated_files"] == [str(cut)]
    assert 0 < rep["summary"]["requests"] < 3000


def test_parquet_columns_are_matched_by_cloudfront_s_names(
    tmp_path: Path, records: list[synth.Record]
) -> None:
    """CloudFront names Parquet columns cs_host, cs_user_agent, ... (AWS's Athena DDL);
    a file with columns in another order and without TTFB still reads by name."""
    fields = [f for f in reversed(FIELD_NAMES) if f != "time-to-first-byte"]
    path = tmp_path / "custom.parquet"
    synth.write_parquet(path, records, fields)
    with duckdb.connect() as con:
        names = [
            r[0] for r in con.execute("SELECT name FROM parquet_schema(?)", [str(path)]).fetchall()
        ]
    assert "cs_user_agent" in names and "x_edge_location" in names
    rep = report_json(str(path))
    assert rep["summary"]["requests"] == len(records)
    assert rep["input"]["missing_fields"] == {"time_to_first_byte": 1}
    assert rep["summary"]["ttfb_p50"] is None and rep["summary"]["time_taken_p50"] is not None


def test_a_broken_parquet_file_is_refused_by_name_and_skipped_in_a_folder(
    tmp_path: Path, same_requests: dict[str, Path], records: list[synth.Record]
) -> None:
    broken = tmp_path / "logs" / "broken.parquet"
    broken.parent.mkdir()
    broken.write_bytes(b"PAR1" + b"\0" * 100)
    code, out, err = run_cli(str(broken))
    assert code == 2 and out == "" and "unreadable Parquet" in err and err.count("\n") == 1
    (tmp_path / "logs" / "good.parquet").write_bytes(same_requests["parquet"].read_bytes())
    rep = report_json(str(tmp_path / "logs"))
    assert rep["summary"]["requests"] == len(records)
    assert rep["input"]["skipped_files"] == [str(broken)]


def test_plain_files_read_the_configured_fields(
    tmp_path: Path, records: list[synth.Record]
) -> None:
    fields = ["time", "date", "sc-status", "x-edge-location", "sc-bytes", "x-edge-result-type"]
    path = tmp_path / "plain.log"
    index = {n: i for i, n in enumerate(FIELD_NAMES)}
    path.write_text("".join("\t".join(r.values[index[f]] for f in fields) + "\n" for r in records))
    code, _, err = run_cli(str(path))
    assert code == 2 and "--plain-fields" in err  # not the templates' 33 fields
    rep = report_json(str(path), "--plain-fields", ",".join(fields))
    assert rep["input"]["formats"] == {"plain": 1}
    assert rep["summary"]["requests"] == len(records)
    assert rep["summary"]["bytes"] == sum(r.sc_bytes for r in records)
    assert rep["input"]["missing_fields"]["time_taken"] == 1


def test_bad_plain_fields_is_a_usage_error(log_file: Path) -> None:
    code, out, err = run_cli(str(log_file), "--plain-fields", "date,,time")
    assert code == 2 and out == "" and "--plain-fields" in err and err.count("\n") == 1


def test_normalized_names_match_aws_parquet_columns() -> None:
    assert normalized("cs(User-Agent)") == "cs_user_agent"
    assert normalized("cs(Host)") == "cs_host"
    assert normalized("cs(Referer)") == "cs_referer"
    assert normalized("x-edge-response-result-type") == "x_edge_response_result_type"
