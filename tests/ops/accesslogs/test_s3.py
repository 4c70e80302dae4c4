"""``s3://`` input through boto3 against moto's real HTTP S3 server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from image_ops.accesslogs import duckdb_engine, s3stream
from wishlist_dev import synth_logs as synth

from .conftest import report_json, run_cli


def test_s3_prefix_matches_local(
    moto_s3: str, tmp_path: Path, log_file: Path, records: list[synth.Record]
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="lego-moc-cloudfront-logs")
    body = log_file.read_bytes()
    for key in (
        "cloudfront/E2EXAMPLE0DIST/2026/01/28/a.gz",
        "cloudfront/E2EXAMPLE0DIST/2026/01/28/b.gz",
        "other/ignored.gz",
    ):
        s3.put_object(Bucket="lego-moc-cloudfront-logs", Key=key, Body=body)
    s3.put_object(Bucket="lego-moc-cloudfront-logs", Key="cloudfront/README", Body=b"hi\n")

    rep = report_json("s3://lego-moc-cloudfront-logs/cloudfront/", "--endpoint-url", moto_s3)
    assert rep["summary"]["requests"] == 2 * len(records)
    assert rep["summary"]["bytes"] == 2 * sum(r.sc_bytes for r in records)
    assert rep["input"]["files"] == 2
    assert rep["input"]["skipped_files"] == ["s3://lego-moc-cloudfront-logs/cloudfront/README"]

    local = report_json(str(log_file))
    assert rep["summary"]["hits"] == 2 * local["summary"]["hits"]


def test_missing_bucket_is_one_line_exit_2(moto_s3: str) -> None:
    code, _, err = run_cli("s3://no-such-bucket/x/", "--endpoint-url", moto_s3)
    assert code == 2
    assert err.count("\n") == 1 and "no-such-bucket" in err


def _files_on_disk(scratch: Path) -> int:
    return sum(1 for p in scratch.glob("*/s3-*/*") if p.is_file())


def test_s3_prefix_streams_with_a_bound_on_files_held(
    moto_s3: str,
    tmp_path: Path,
    log_file: Path,
    records: list[synth.Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """13 objects, batches of 2: never more than 4 objects on disk, and every one is read."""
    parts = synth.split_gzip(log_file, tmp_path / "parts", 12)
    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="logs")
    for p in parts:
        s3.put_object(Bucket="logs", Key=f"cf/{p.name}", Body=p.read_bytes())
    s3.put_object(Bucket="logs", Key="cf/README", Body=b"not a log\n")

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    on_disk: list[int] = []
    batch_sizes: list[int] = []
    real_read_header = s3stream.read_header
    real_load_batch = duckdb_engine._load_batch

    def read_header_counting(path: Path, *args: Any) -> Any:  # runs right after each download
        on_disk.append(_files_on_disk(scratch))
        return real_read_header(path, *args)

    def load_batch_counting(*args: Any, **kwargs: Any) -> None:
        on_disk.append(_files_on_disk(scratch))
        batch_sizes.append(len(args[1]))
        real_load_batch(*args, **kwargs)

    monkeypatch.setattr(s3stream, "read_header", read_header_counting)
    monkeypatch.setattr(duckdb_engine, "_load_batch", load_batch_counting)
    rep = report_json(
        "s3://logs/cf/",
        "--endpoint-url",
        moto_s3,
        "--s3-batch-files",
        "2",
        "--scratch-dir",
        str(scratch),
    )
    assert batch_sizes == [2] * 6
    assert len(on_disk) == 13 + 6
    assert max(on_disk) <= 4
    assert min(on_disk) >= 1
    assert rep["input"]["files"] == 12
    assert rep["input"]["skipped_files"] == ["s3://logs/cf/README"]
    assert list(scratch.iterdir()) == []  # downloads and the database are gone

    local = report_json(str(log_file))
    rep.pop("input")
    local.pop("input")
    assert rep == local


def test_bad_batch_size_is_one_line_exit_2(log_file: Path) -> None:
    code, out, err = run_cli(str(log_file), "--s3-batch-files", "0")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "--s3-batch-files" in err
