"""``s3://`` input through boto3 against moto's real HTTP S3 server."""

from __future__ import annotations

from pathlib import Path

import boto3

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
    assert len(rep["input"]["skipped_files"]) == 1

    local = report_json(str(log_file))
    assert rep["summary"]["hits"] == 2 * local["summary"]["hits"]


def test_missing_bucket_is_one_line_exit_2(moto_s3: str) -> None:
    code, _, err = run_cli("s3://no-such-bucket/x/", "--endpoint-url", moto_s3)
    assert code == 2
    assert err.count("\n") == 1 and "no-such-bucket" in err
