"""The access-log report on hostile inputs (issue #21): peak RSS, wall time, exit code, message.

    python benchmarks/hostile_access_logs.py [--only NAME ...] [--big] [--keep DIR]

Builds each hostile input (a gzip holding one huge line, a symlink to /dev/zero, a FIFO,
a truncated gzip bomb, a file named ``*``, an S3 key with a 300-byte basename, ANSI
escapes in the fields, ...) and runs ``python -m image_ops.accesslogs.cli report`` on it
in a child process. Peak RSS is the child's own (``wait4``'s rusage); a watchdog kills a
child that passes ``--kill-rss-mb`` (default 2500) or ``--timeout`` (default 60 s), so a
regression cannot take the machine down. ``--big`` adds the 4.5M-line legitimate log
(about 2.5 minutes to generate, kept in ``--keep`` for reruns). S3 cases run against a
``moto_server`` started here on a loopback port. Never fails on a figure; prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wishlist_dev import synth_logs as synth

HEADER = "#Version: 1.0\n#Fields: " + " ".join(synth.FIELD_NAMES) + "\n"


@dataclass
class Case:
    name: str
    what: str
    build: Callable[[Path, dict[str, str]], list[str]]  # -> CLI arguments after `report`
    s3: bool = False
    text: bool = False  # the terminal output (else --json)
    big: bool = False


def _good(path: Path, n: int = 30, seed: int = 3) -> Path:
    synth.write_gzip(path, synth.render(synth.generate(n, seed=seed)))
    return path


def _huge_line_gzip(path: Path, *, header: bool, target_gzip_bytes: int = 1 << 20) -> Path:
    """A gzip of about ``target_gzip_bytes`` holding one line without a newline (~1 GB)."""
    chunk = b"a" * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        if header:
            out.write(comp.compress(HEADER.encode()))
        written = 0
        while written < target_gzip_bytes:
            data = comp.compress(chunk)
            out.write(data)
            written += len(data)
            if not data:  # deflate buffers a lot: count what it will emit
                written += 1024
        out.write(comp.flush())
    return path


def b_noheader(work: Path, env: dict[str, str]) -> list[str]:
    return [str(_huge_line_gzip(work / "huge.gz", header=False))]


def b_header_huge(work: Path, env: dict[str, str]) -> list[str]:
    return [str(_huge_line_gzip(work / "huge-with-header.gz", header=True))]


def b_bomb_truncated(work: Path, env: dict[str, str]) -> list[str]:
    whole = _huge_line_gzip(work / "bomb-whole.gz", header=True)
    data = whole.read_bytes()
    cut = work / "bomb-cut.gz"
    cut.write_bytes(data[: len(data) - 4096])
    whole.unlink()
    return [str(cut)]


def b_devzero(work: Path, env: dict[str, str]) -> list[str]:
    folder = work / "logs"
    folder.mkdir()
    _good(folder / "a.gz")
    (folder / "zero.gz").symlink_to("/dev/zero")
    return [str(folder)]


def b_fifo(work: Path, env: dict[str, str]) -> list[str]:
    folder = work / "logs"
    folder.mkdir()
    _good(folder / "a.gz")
    os.mkfifo(folder / "pipe.gz")
    return [str(folder)]


def b_star(work: Path, env: dict[str, str]) -> list[str]:
    folder = work / "logs"
    folder.mkdir()
    _good(folder / "*", 30)
    _good(folder / "b.gz", 10, seed=4)
    _good(folder / "c.gz", 10, seed=5)
    return [str(folder / "*")]


def b_header_only(work: Path, env: dict[str, str]) -> list[str]:
    (work / "h.log").write_text(HEADER)
    return [str(work / "h.log")]


def b_all_malformed(work: Path, env: dict[str, str]) -> list[str]:
    (work / "m.log").write_text(HEADER + "garbage\n" * 1000)
    return [str(work / "m.log")]


def b_hostile_fields(work: Path, env: dict[str, str]) -> list[str]:
    fields = "date date ' \" ; DROP TABLE x; -- time time " + " ".join(f"f{i}" for i in range(200))
    (work / "f.log").write_text(f"#Version: 1.0\n#Fields: {fields}\n2026-01-28\t00:00:00\n")
    return [str(work / "f.log")]


def b_many_fields(work: Path, env: dict[str, str]) -> list[str]:
    fields = " ".join(f"f{i}" for i in range(5000))
    (work / "f.log").write_text(f"#Version: 1.0\n#Fields: {fields}\n2026-01-28\t00:00:00\n")
    return [str(work / "f.log")]


def b_bare_cr(work: Path, env: dict[str, str]) -> list[str]:
    lines = list(synth.render(synth.generate(50, seed=9)))
    lines[10] = lines[10].replace("\t", "\r\t", 1)  # one forged line with a bare CR
    synth.write_gzip(work / "cr.gz", lines)
    return [str(work / "cr.gz")]


def b_ansi(work: Path, env: dict[str, str]) -> list[str]:
    records = list(synth.generate(50, seed=9))
    lines = list(synth.render(records))
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31m/evil\x1b[0m\u202e"
    for i in range(2, len(lines)):
        parts = lines[i].split("\t")
        parts[7] = evil  # cs-uri-stem, shown in "Top missed keys"
        parts[2] = "\x1b[5mXX" + parts[2]  # x-edge-location, shown as the edge
        parts[13] = parts[22] = "Miss\x1b[8m"
        lines[i] = "\t".join(parts)
    synth.write_gzip(work / "ansi.gz", lines)
    return [str(work / "ansi.gz")]


def b_scratch_missing(work: Path, env: dict[str, str]) -> list[str]:
    return [str(_good(work / "a.gz")), "--scratch-dir", str(work / "no" / "such")]


def b_scratch_file(work: Path, env: dict[str, str]) -> list[str]:
    (work / "afile").write_text("x")
    return [str(_good(work / "a.gz")), "--scratch-dir", str(work / "afile")]


def _s3(env: dict[str, str]) -> object:
    import boto3

    return boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name="us-east-1")


def b_s3_noheader(work: Path, env: dict[str, str]) -> list[str]:
    s3 = _s3(env)
    s3.create_bucket(Bucket="hostile-a")  # type: ignore[attr-defined]
    body = _huge_line_gzip(work / "huge.gz", header=False).read_bytes()
    s3.put_object(Bucket="hostile-a", Key="cf/huge.gz", Body=body)  # type: ignore[attr-defined]
    return ["s3://hostile-a/cf/"]


def b_s3_long_key(work: Path, env: dict[str, str]) -> list[str]:
    s3 = _s3(env)
    s3.create_bucket(Bucket="hostile-b")  # type: ignore[attr-defined]
    body = _good(work / "a.gz").read_bytes()
    key = "cf/" + "k" * 300 + ".gz"
    s3.put_object(Bucket="hostile-b", Key=key, Body=body)  # type: ignore[attr-defined]
    return ["s3://hostile-b/cf/"]


def b_big(work: Path, env: dict[str, str]) -> list[str]:
    path = work.parent / "big-4500000.gz"
    if not path.exists():
        t0 = time.perf_counter()
        synth.write_gzip(path, synth.render(synth.generate(4_500_000, seed=2018)))
        print(f"  (generated 4.5M lines in {time.perf_counter() - t0:.0f} s)", flush=True)
    return [str(path)]


CASES = (
    Case("noheader-huge-line", "1 MB gzip, no header, one huge line", b_noheader),
    Case("header-huge-line", "1 MB gzip, #Fields header then one huge line", b_header_huge),
    Case("s3-noheader-huge-line", "the same as an s3:// object", b_s3_noheader, s3=True),
    Case("folder-devzero", "folder: a log + symlink to /dev/zero", b_devzero),
    Case("folder-fifo", "folder: a log + a FIFO", b_fifo),
    Case("truncated-bomb", "truncated 1 MB gzip bomb (header + huge line)", b_bomb_truncated),
    Case("file-named-star", "a file named `*` (30 lines) beside 2 logs (20)", b_star),
    Case("s3-long-key", "S3 key with a 300-byte basename", b_s3_long_key, s3=True),
    Case("header-only", "header-only log", b_header_only),
    Case("all-malformed", "every line malformed (1000)", b_all_malformed),
    Case("hostile-fields", "#Fields with quotes, SQL, repeats, 200 names", b_hostile_fields),
    Case("many-fields", "#Fields with 5000 names", b_many_fields),
    Case("bare-cr", "one forged line with a bare CR among 50", b_bare_cr),
    Case("ansi", "ANSI/OSC escapes in uri, edge, result type (text output)", b_ansi, text=True),
    Case("scratch-missing", "--scratch-dir that does not exist", b_scratch_missing),
    Case("scratch-file", "--scratch-dir that is a file", b_scratch_file),
    Case("legit-4.5M", "legitimate 4.5M-line log, default memory limit", b_big, big=True),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_case(argv: list[str], env: dict[str, str], kill_rss: float, timeout: float) -> dict:
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        return _run(argv, env, kill_rss, timeout, out_f, err_f)


def _run(argv: list[str], env: dict[str, str], kill_rss: float, timeout: float, out_f, err_f):
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=out_f, stderr=err_f, env=env, stdin=subprocess.DEVNULL, start_new_session=True
    )
    killed = ""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        elapsed = time.perf_counter() - start
        rss = _rss_mb(proc.pid)
        if rss > kill_rss or elapsed > timeout:
            killed = f"KILLED by the watchdog ({rss:.0f} MB RSS after {elapsed:.1f} s)"
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out_f.seek(0)
    err_f.seek(0)
    return {
        "rss_mb": usage.ru_maxrss / 1024,
        "wall_s": wall,
        "code": proc.returncode,
        "stdout": out_f.read().decode("utf-8", "replace"),
        "stderr": err_f.read().decode("utf-8", "replace"),
        "killed": killed,
    }


def message(case: Case, res: dict) -> str:
    if res["killed"]:
        return res["killed"]
    err = res["stderr"].strip()
    if "Traceback" in err:
        return "TRACEBACK: " + err.splitlines()[-1][:160]
    if res["code"] != 0:
        return err.splitlines()[0][:200] if err else "(no message)"
    if case.text:
        out = res["stdout"]
        raw = sum(out.count(c) for c in ("\x1b", "\x07", "\r", "\u202e"))
        line = out.splitlines()[1] if len(out.splitlines()) > 1 else ""
        return f"{line}; raw control chars on stdout: {raw}"
    try:
        rep = json.loads(res["stdout"])
    except ValueError:
        return "stdout is not JSON: " + res["stdout"][:100]
    i = rep["input"]
    extra = f"; stderr: {err.splitlines()[0][:120]}" if err else ""
    return (
        f"files {i['files']}, rows {i['rows']}, malformed {i['malformed_lines']}, "
        f"truncated {len(i['truncated_files'])}, skipped {len(i['skipped_files'])}"
        f", not regular {len(i.get('not_regular_files', []))}"
        f", requests {rep['summary']['requests']}{extra}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="case names")
    parser.add_argument("--big", action="store_true", help="also the 4.5M-line log")
    parser.add_argument("--keep", type=Path, help="build inputs here (the big log is reused)")
    parser.add_argument("--kill-rss-mb", type=float, default=2500)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--json-out", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    cases = [
        c
        for c in CASES
        if (args.only and c.name in args.only) or (not args.only and (args.big or not c.big))
    ]
    root = args.keep or Path(tempfile.mkdtemp(prefix="hostile-logs-"))
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    moto = None
    if any(c.s3 for c in cases):
        port = _free_port()
        moto_bin = Path(sys.executable).parent / "moto_server"
        moto = subprocess.Popen(
            [str(moto_bin), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        env["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
    rows = []
    try:
        for case in cases:
            work = root / case.name
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            os.environ.update({k: v for k, v in env.items() if k.startswith(("AWS_", "S3_"))})
            report_args = case.build(work, env)
            argv = [sys.executable, "-m", "image_ops.accesslogs.cli", "report", *report_args]
            if not case.text:
                argv.append("--json")
            res = run_case(argv, env, args.kill_rss_mb, args.timeout)
            row = {
                "case": case.name,
                "input": case.what,
                "peak_rss_mb": round(res["rss_mb"]),
                "wall_s": round(res["wall_s"], 2),
                "exit": res["code"],
                "message": message(case, res),
            }
            rows.append(row)
            print(
                f"{row['case']:<22} {row['peak_rss_mb']:>6} MB {row['wall_s']:>7.2f} s "
                f"exit {row['exit']:>3}  {row['message']}",
                flush=True,
            )
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(10)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print("| input | peak RSS | wall | exit | message |")
    print("|---|---|---|---|---|")
    for r in rows:
        msg = r["message"].replace("|", "\\|")
        print(f"| {r['input']} | {r['peak_rss_mb']} MB | {r['wall_s']} s | {r['exit']} | {msg} |")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
