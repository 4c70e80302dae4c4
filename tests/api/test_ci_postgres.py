"""`.ci/run` stops its PostgreSQL cluster when it exits, whatever the outcome (issue 12).

The cluster lines of `.ci/run` live in tests/api/ci_postgres.sh, which `.ci/run` sources;
this test sources it the same way from a shell that then ends well or badly."""

from __future__ import annotations

import glob
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
CI_POSTGRES = "tests/api/ci_postgres.sh"

pytestmark = pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
    reason="no PostgreSQL server binaries (apt-get install postgresql)",
)


def test_ci_run_sources_the_cluster_lines() -> None:
    assert f"source {CI_POSTGRES}" in (ROOT / ".ci/run").read_text()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize(("ending", "code"), [("exit 0", 0), ("false", 1), ("exit 3", 3)])
def test_the_cluster_is_stopped_when_the_ci_shell_exits(
    tmp_path: Path, ending: str, code: int
) -> None:
    seen = tmp_path / "seen"
    script = (
        f"set -euo pipefail; source {CI_POSTGRES}; "
        'port="${DATABASE_URL##*:}"; port="${port%%/*}"; '
        'exec 3<>"/dev/tcp/127.0.0.1/$port"; exec 3>&-; '  # up while the CI shell runs
        f'echo "$DATABASE_URL" > {seen}; {ending}'
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == code, done.stderr
    url = make_url(seen.read_text().strip())
    assert url.host == "127.0.0.1" and url.port
    assert not _accepts(url.port), "the cluster still accepts connections after the CI shell"
    data_dirs = [line for line in done.stderr.splitlines() if "data in " in line]
    assert len(data_dirs) == 1
    data_dir = data_dirs[0].split("data in ")[1].split(")")[0]
    assert not Path(data_dir).exists(), "the cluster's files were left behind"
