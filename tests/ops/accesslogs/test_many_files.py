"""A folder of many small gzip files (CloudFront's delivery) reports exactly like one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wishlist_dev import synth_logs as synth

from .conftest import report_json


def without_input(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rep.items() if k != "input"}


def test_many_files_equal_one_file(
    tmp_path: Path, log_file: Path, records: list[synth.Record]
) -> None:
    parts = synth.split_gzip(log_file, tmp_path / "hourly", 24)
    assert len(parts) == 24
    one = report_json(str(log_file))
    many = report_json(str(tmp_path / "hourly"), "--threads", "2")
    assert many["input"]["files"] == 24
    assert many["input"]["rows"] == one["input"]["rows"] == len(records)
    assert many["input"]["malformed_lines"] == 0
    # Percentiles are exact (quantile_cont over every row), so they match to the bit.
    assert many["summary"]["time_taken_p95"] == one["summary"]["time_taken_p95"]
    assert without_input(many) == without_input(one)
