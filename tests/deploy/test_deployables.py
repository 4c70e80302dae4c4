"""Each deployable installs from uv.lock with only its own dependencies.

The install runs what its Dockerfile runs (`uv sync --frozen --no-dev --no-editable
--package X`) on a copy of exactly what the Dockerfile copies, into a fresh venv, offline
(uv's cache from scripts/setup.sh): a Dockerfile that forgets a folder, or a package that
pulls in the other service's stack, fails here before any image is built.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO

UV = Path(sys.executable).parent / "uv"

# package, its Dockerfile, its command, what must be there, what must not, data files it reads.
DEPLOYABLES = [
    (
        "image-resolver",
        "Dockerfile",
        "image-resolver",
        {"grpcio", "boto3", "wishlist-images-client"},
        {
            "fastapi",
            "starlette",
            "sqlalchemy",
            "alembic",
            "psycopg",
            "jinja2",
            "uvicorn",
            "moto",
            "duckdb",
            "image-ops",
            "wishlist-api",
            "wishlist-dev",
            "pytest",
        },
        ["wishlist/images/v1/image_url_service_pb2.py"],
    ),
    (
        "wishlist-api",
        "Dockerfile",
        "wishlist-api",
        {"fastapi", "sqlalchemy", "psycopg", "grpcio", "wishlist-images-client"},
        {
            "duckdb",
            "boto3",
            "botocore",
            "mmh3",
            "moto",
            "image-resolver",
            "image-ops",
            "wishlist-dev",
            "pytest",
        },
        [
            "wishlist_api/templates/gallery.html",
            "wishlist_api/static/gallery.js",
            "wishlist_api/migrations/script.py.mako",
            "wishlist_api/migrations/versions/0001_wishlist_items.py",
        ],
    ),
    (
        "image-ops",
        "Dockerfile",
        "image-ops",
        {"duckdb", "boto3", "grpcio", "pydantic", "jinja2", "rich", "wishlist-images-client"},
        {
            "image-resolver",
            "mmh3",
            "prometheus-client",
            "fastapi",
            "sqlalchemy",
            "psycopg",
            "moto",
            "wishlist-api",
            "wishlist-dev",
            "pytest",
        },
        [
            "image_ops/accesslogs/prices.json",
            "image_ops/accesslogs/edge_locations.json",
            "image_ops/accesslogs/report_page.html.j2",
            "image_ops/gates/defaults.toml",
        ],
    ),
]


def _copy_build_context(dockerfile: Path, into: Path) -> None:
    """Reproduce the build stage's COPY lines (sources relative to the repository root)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", dockerfile.read_text(), flags=re.M):
        *sources, dest = line.split()
        for source in sources:
            target = into / dest
            if dest.endswith("/") or len(sources) > 1:
                target = target / Path(source).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, target, ignore=ignore)
            else:
                shutil.copy2(REPO / source, target)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("package", "dockerfile", "command", "needed", "forbidden", "data"),
    DEPLOYABLES,
    ids=[d[0] for d in DEPLOYABLES],
)
def test_deployable_installs_alone_from_the_lock(
    tmp_path: Path,
    package: str,
    dockerfile: str,
    command: str,
    needed: set[str],
    forbidden: set[str],
    data: list[str],
) -> None:
    if not UV.exists():
        pytest.skip("uv is not in this venv (bash scripts/setup.sh installs it)")
    context = tmp_path / "src"
    context.mkdir()
    _copy_build_context(REPO / dockerfile, context)
    venv = tmp_path / "venv"
    env = {
        **os.environ,
        **_uv_settings(REPO / dockerfile),
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_OFFLINE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    sync = subprocess.run(
        [
            str(UV),
            "sync",
            "--quiet",
            "--frozen",
            "--no-dev",
            "--no-editable",
            "--package",
            package,
            "--python",
            sys.executable,
        ],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    listed = subprocess.run(
        [str(UV), "pip", "list", "--format", "json", "--python", str(venv / "bin" / "python")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    installed = {d["name"].lower() for d in json.loads(listed.stdout)}
    assert needed <= installed, needed - installed
    assert not (forbidden & installed), forbidden & installed
    (site,) = venv.glob("lib/python3*/site-packages")
    # The runtime user cannot write .pyc files, so the image must ship them, ours included
    # (checked before anything here imports a module and could write one).
    found = re.search(r"^from ([\w.]+) import", (venv / "bin" / command).read_text(), re.M)
    assert found, f"no entry module in bin/{command}"
    module = site.joinpath(*found.group(1).split("."))
    source = (
        module.with_suffix(".py") if module.with_suffix(".py").exists() else module / "__init__.py"
    )
    assert list((source.parent / "__pycache__").glob(f"{source.stem}.*.pyc")), source
    # The image's entry point starts from the installed (non-editable) copy.
    run = subprocess.run(
        [str(venv / "bin" / command), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert command in run.stdout
    missing = [name for name in data if not (site / name).is_file()]
    assert not missing, f"not in the installed package: {missing}"


def _uv_settings(dockerfile: Path) -> dict[str, str]:
    """The ``UV_*`` settings the Dockerfile's ENV lines give ``uv sync``."""
    return dict(re.findall(r"\b(UV_[A-Z_]+)=(\S+)", dockerfile.read_text()))
