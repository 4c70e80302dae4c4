"""The report on hostile files (issue #21): bounded memory whatever the input, only regular
files, a name is never a pattern, any S3 key, escaped terminal output, never a traceback.

Cases that could exhaust memory or hang before the fix run the CLI in a child process
(``run_child``: its own peak RSS, killed after a timeout)."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import boto3
import pytest

from image_ops.accesslogs.fields import FIELD_NAMES
from wishlist_dev import synth_logs as synth

from .conftest import report_json, run_child, run_cli

HEADER = "#Version: 1.0\n#Fields: " + " ".join(FIELD_NAMES) + "\n"
# What the child costs with nothing to do (interpreter, DuckDB, boto3 imports) is ~90 MB;
# a bounded report on these inputs stays well under this.
RSS_BOUND_MB = 300


def huge_line_gzip(path: Path, *, header: bool, megabytes: int = 256, tail: str = "") -> Path:
    """A small gzip holding one line of ``megabytes`` MB without a newline (~1000:1)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"a" * (1 << 20)
    with path.open("wb") as out:
        if header:
            out.write(comp.compress(HEADER.encode()))
        for _ in range(megabytes):
            out.write(comp.compress(block))
        out.write(comp.compress(tail.encode()))
        out.write(comp.flush())
    return path


def good_log(path: Path, n: int = 30, seed: int = 3) -> Path:
    synth.write_gzip(path, synth.render(synth.generate(n, seed=seed)))
    return path


def test_gzip_of_one_huge_line_without_header_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """Before: the header sniff read the whole 256 MB line (568 MB RSS)."""
    path = huge_line_gzip(tmp_path / "huge.gz", header=False)
    assert path.stat().st_size < 400_000
    run = run_child(str(path))
    assert run.code == 2, run.err
    assert run.err.count("\n") == 1 and "no #Fields header" in run.err
    assert run.rss_mb < RSS_BOUND_MB, run


def test_the_same_as_an_s3_object(moto_s3: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="hostile")
    body = huge_line_gzip(tmp_path / "huge.gz", header=False).read_bytes()
    s3.put_object(Bucket="hostile", Key="cf/huge.gz", Body=body)
    run = run_child("s3://hostile/cf/", "--endpoint-url", moto_s3)
    assert run.code == 2, run.err
    assert "no CloudFront log files" in run.err and "1 without a #Fields header" in run.err
    assert run.rss_mb < RSS_BOUND_MB, run


def test_over_long_lines_are_malformed_skipped_and_counted(tmp_path: Path) -> None:
    """A 40 MB line (beyond DuckDB's read buffer, which used to drop it without a count)
    and a 100 KB one, between good lines: both counted, the good lines all read."""
    records = list(synth.generate(20, seed=5))
    lines = list(synth.render(records))
    lines.insert(5, "x" * 100_000 + "\n")
    lines.insert(12, "y" * 40_000_000 + "\n")
    path = tmp_path / "long-lines.gz"
    synth.write_gzip(path, lines)
    rep = report_json(str(path))
    assert rep["summary"]["requests"] == 20
    assert rep["input"]["malformed_lines"] == 2
    assert rep["input"]["over_long_lines"] == 2
    assert rep["input"]["max_line_bytes"] == 65536
    small = report_json(str(path), "--max-line-bytes", "200000")
    assert small["input"]["over_long_lines"] == 1  # 100 KB now fits (and is malformed)
    assert small["input"]["malformed_lines"] == 2


def test_header_then_one_huge_line_in_bounded_memory(tmp_path: Path) -> None:
    path = huge_line_gzip(tmp_path / "h.gz", header=True, tail="\n")
    run = run_child(str(path), "--json")
    assert run.code == 0, run.err
    rep = json.loads(run.out)
    assert rep["input"]["malformed_lines"] == 1 and rep["input"]["over_long_lines"] == 1
    assert rep["summary"]["requests"] == 0
    assert run.rss_mb < RSS_BOUND_MB, run


def test_truncated_gzip_bomb_in_bounded_memory(tmp_path: Path) -> None:
    """Before: recovering the cut-off stream inflated all of it in memory (1.4 GB)."""
    whole = huge_line_gzip(tmp_path / "bomb.gz", header=True)
    data = whole.read_bytes()
    cut = tmp_path / "bomb-cut.gz"
    cut.write_bytes(data[: len(data) - 4096])
    run = run_child(str(cut), "--json")
    assert run.code == 0, run.err
    rep = json.loads(run.out)
    assert rep["input"]["truncated_files"] == [str(cut)]
    assert rep["input"]["malformed_lines"] == 1 and rep["summary"]["requests"] == 0
    assert run.rss_mb < RSS_BOUND_MB, run


def test_folder_with_a_symlink_to_dev_zero(tmp_path: Path) -> None:
    """Before: the header sniff read /dev/zero until memory ran out (3 GB in 9 s)."""
    folder = tmp_path / "logs"
    folder.mkdir()
    good_log(folder / "a.gz")
    (folder / "zero.gz").symlink_to("/dev/zero")
    run = run_child(str(folder), "--json", timeout=60)
    assert run.code == 0, run.err
    rep = json.loads(run.out)
    assert rep["summary"]["requests"] == 30
    assert rep["input"]["not_regular_files"] == [
        f"{folder / 'zero.gz'} (symlink to a character device)"
    ]
    assert run.rss_mb < RSS_BOUND_MB, run


def test_folder_with_a_fifo_does_not_hang(tmp_path: Path) -> None:
    """Before: opening the FIFO waited for a writer forever."""
    folder = tmp_path / "logs"
    folder.mkdir()
    good_log(folder / "a.gz")
    os.mkfifo(folder / "pipe.gz")
    run = run_child(str(folder), "--json", timeout=60)
    assert run.code == 0, run
    rep = json.loads(run.out)
    assert rep["summary"]["requests"] == 30
    assert rep["input"]["not_regular_files"] == [f"{folder / 'pipe.gz'} (FIFO)"]


def test_symlinks_are_followed_only_to_regular_files(tmp_path: Path) -> None:
    real = good_log(tmp_path / "real.gz")
    folder = tmp_path / "logs"
    (folder / "sub").mkdir(parents=True)
    (folder / "link.gz").symlink_to(real)  # to a regular file: read
    (folder / "dangling.gz").symlink_to(tmp_path / "nothing")
    (folder / "loop").symlink_to(folder)  # to a folder: not followed
    rep = report_json(str(folder))
    assert rep["summary"]["requests"] == 30
    assert sorted(rep["input"]["not_regular_files"]) == [
        f"{folder / 'dangling.gz'} (broken symlink)",
        f"{folder / 'loop'} (symlink to a folder, not followed)",
    ]


def test_a_named_fifo_or_device_is_refused_in_one_line(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    code, _, err = run_cli(str(tmp_path / "pipe"))
    assert code == 2 and err.count("\n") == 1 and "not a regular file (FIFO)" in err
    code, _, err = run_cli("/dev/zero")
    assert code == 2 and "not a regular file (character device)" in err


@pytest.mark.parametrize("name", ["*", "?.gz", "[ab].gz"])
def test_a_file_name_is_never_a_pattern(tmp_path: Path, name: str) -> None:
    """Before: `*` was a glob to DuckDB, reading the whole folder (50 lines, not 30)."""
    folder = tmp_path / "logs"
    folder.mkdir()
    good_log(folder / name, 30)
    good_log(folder / "a.gz", 10, seed=4)
    good_log(folder / "b.gz", 10, seed=5)
    rep = report_json(str(folder / name))
    assert rep["summary"]["requests"] == 30
    assert rep["input"]["files"] == 1
    whole = report_json(str(folder))
    assert whole["summary"]["requests"] == 50 and whole["input"]["files"] == 3


def test_any_s3_key_is_fine(moto_s3: str, tmp_path: Path) -> None:
    """Before: the key's basename became a local file name: OSError File name too long."""
    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="keys")
    body = good_log(tmp_path / "a.gz").read_bytes()
    for key in ("cf/" + "k" * 300 + ".gz", "cf/../../etc/passwd", "cf/*", "cf/\x1b[31m.gz"):
        s3.put_object(Bucket="keys", Key=key, Body=body)
    rep = report_json("s3://keys/cf/", "--endpoint-url", moto_s3)
    assert rep["input"]["files"] == 4 and rep["summary"]["requests"] == 120


@pytest.mark.parametrize(
    ("body", "malformed"),
    [
        (HEADER, 0),  # header only
        (HEADER + "garbage\n" * 1000, 1000),  # every line malformed
        ("#Version: 1.0\n#Fields: date ' \"; DROP TABLE x; -- date time\n1\t2\n", 1),
    ],
    ids=["header-only", "all-malformed", "hostile-fields"],
)
def test_logs_that_load_no_row_report_zeros(tmp_path: Path, body: str, malformed: int) -> None:
    """Before: TypeError int() ... NoneType in duckdb_engine.load."""
    path = tmp_path / "x.log"
    path.write_text(body)
    rep = report_json(str(path))
    assert rep["summary"]["requests"] == 0 and rep["input"]["rows"] == 0
    assert rep["input"]["malformed_lines"] == malformed
    code, out, err = run_cli(str(path))
    assert code == 0 and err == "" and "requests      0" in out


def test_a_header_of_too_many_fields_is_not_a_log(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("#Fields: " + " ".join(f"f{i}" for i in range(5000)) + "\n1\n")
    code, _, err = run_cli(str(path))
    assert code == 2 and "a #Fields header of 5000 fields (at most 256)" in err


def test_a_bare_carriage_return_costs_its_line_not_the_report(tmp_path: Path) -> None:
    """Before: one forged CR failed the whole scan ("CSV Parser state machine ...")."""
    lines = list(synth.render(synth.generate(50, seed=9)))
    lines[10] = lines[10].replace("\t", "\r\t", 1)
    path = tmp_path / "cr.gz"
    synth.write_gzip(path, lines)
    rep = report_json(str(path))
    assert rep["summary"]["requests"] == 49 and rep["input"]["malformed_lines"] == 1
    crlf = tmp_path / "crlf.log"
    crlf.write_text("".join(line.replace("\n", "\r\n") for line in lines[:30]))
    assert report_json(str(crlf))["summary"]["requests"] == 27  # 28 lines, one with a CR


def test_forged_escapes_reach_the_terminal_escaped(tmp_path: Path) -> None:
    records = list(synth.generate(50, seed=9))
    lines = list(synth.render(records))
    for i in range(2, len(lines)):
        parts = lines[i].split("\t")
        parts[7] = "\x1b]0;pwned\x07\x1b[2J\x1b[31m/evil\x1b[0m\u202e"  # cs-uri-stem
        parts[2] = "\x1b[5m" + parts[2]  # x-edge-location
        if i % 3 == 0:
            parts[13] = parts[22] = "Miss\x9b8m"  # result types, a C1 CSI
        else:
            parts[13] = parts[22] = "Miss"
        lines[i] = "\t".join(parts)
    path = tmp_path / "\x1b[31mansi.gz"
    synth.write_gzip(path, lines)
    code, out, err = run_cli(str(path))
    assert code == 0, err
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in out
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31m/evil\\x1b[0m\\u202e" in out
    assert "Miss\\x9b8m" in out
    code, _, err = run_cli(str(path), "--since", "nonsense")
    assert code == 2 and "\x1b" not in err


def test_scratch_dir_missing_a_file_or_a_pattern_is_one_line(tmp_path: Path) -> None:
    """Before: a FileNotFoundError / NotADirectoryError traceback."""
    log = good_log(tmp_path / "a.gz")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dir*").mkdir()
    for scratch, needle in (
        (tmp_path / "no" / "such", "no such folder"),
        (tmp_path / "afile", "not a folder"),
        (tmp_path / "dir*", "DuckDB reads as a file pattern"),
    ):
        code, out, err = run_cli(str(log), "--scratch-dir", str(scratch))
        assert (code, out) == (2, ""), err
        assert err.count("\n") == 1 and needle in err and "--scratch-dir" in err


def test_large_input_spills_under_a_small_memory_limit(tmp_path: Path) -> None:
    """300k lines under a 24MB limit: the exact percentiles used to hold every value in
    memory (quantile_cont) and ran out; the histogram spills. Same numbers as unlimited."""
    path = tmp_path / "big.gz"
    synth.write_gzip(path, synth.render(synth.generate(300_000, seed=1)))
    small = report_json(str(path), "--memory-limit", "24MB", "--threads", "1")
    big = report_json(str(path), "--memory-limit", "1GB")
    small.pop("input")
    big.pop("input")
    assert small == big
    assert small["summary"]["requests"] == 300_000


def test_running_out_of_memory_names_the_setting(tmp_path: Path) -> None:
    path = good_log(tmp_path / "a.gz", 1000)
    code, _, err = run_cli(str(path), "--memory-limit", "300KB", "--threads", "1")
    assert code == 2 and err.count("\n") == 1, err
    assert "ran out of memory at --memory-limit 300KB" in err and "raise --memory-limit" in err
