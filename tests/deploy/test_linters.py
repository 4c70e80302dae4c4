"""Run the real linters on the Dockerfile and the template, and check what the image runs."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.conftest import CFN_TEMPLATE, REPO

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    """The venv's copy of a tool if it has one, else whatever is on PATH."""
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install the project's dev extra)")
    return found


# The root Dockerfile's final stages: each deployable's target, its folder and its command.
TARGETS = {"image-resolver": "server", "wishlist-api": "api", "image-ops": "ops"}
DOCKERFILE = REPO / "Dockerfile"


def stages(text: str) -> dict[str, str]:
    """Each `FROM ... AS name` stage's name and body (up to the next FROM)."""
    found = re.split(r"^FROM\s+", text, flags=re.M)[1:]
    named = {}
    for chunk in found:
        head, _, body = chunk.partition("\n")
        match = re.search(r"\bAS\s+(\S+)\s*$", head, flags=re.I)
        assert match, f"unnamed stage: FROM {head}"
        named[match.group(1)] = head + "\n" + body
    return named


def test_hadolint_dockerfile() -> None:
    result = subprocess.run(
        [_tool("hadolint"), "Dockerfile"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_template() -> None:
    result = subprocess.run(
        [_tool("cfn-lint"), str(CFN_TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_dockerfile_at_the_root() -> None:
    strays = [p.relative_to(REPO) for p in REPO.glob("*/Dockerfile")]
    assert not strays, f"a target in the root Dockerfile instead: {strays}"
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, flags=re.M)
    external = [b for b in bases if ":" in b or "@" in b]
    assert external and all(b.startswith("python:3.11") and "slim" in b for b in external)
    assert all(re.search(r"@sha256:[0-9a-f]{64}$", b) for b in external), "pinned by digest"
    for src in re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", text, flags=re.M):
        for path in src.split():
            assert (REPO / path).exists(), f"Dockerfile copies missing {path}"
            ignore = (REPO / ".dockerignore").read_text().splitlines()
            kept = [f"!{path}", f"!{path}/", *(f"!{p}/" for p in Path(path).parents)]
            assert any(k in ignore for k in kept), f".dockerignore drops {path}"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_dockerfile_target_contract(target: str) -> None:
    named = stages(DOCKERFILE.read_text())
    assert target in named, f"no `--target {target}`"
    final = named[target]
    assert re.search(r"^USER\s+(?!0\b|root\b)\S+", final, flags=re.M), "runs as root"
    assert "HEALTHCHECK" in final and f'ENTRYPOINT ["{target}"]' in final
    # Its venv comes from its own build stage, which installs exactly its member from the lock.
    (source,) = re.findall(r"^COPY --from=(\S+) /opt/venv /opt/venv$", final, flags=re.M)
    assert f"uv sync --frozen --no-dev --no-editable --package {target}" in named[source]
    pyproject = tomllib.loads((REPO / TARGETS[target] / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == target
    assert target in pyproject["project"]["scripts"]


def test_health_command_fails_when_nothing_serves() -> None:
    """The HEALTHCHECK command, run outside a container: non-zero when no server answers."""
    exe = BIN / "image-resolver"
    if not exe.exists():
        pytest.skip("image-resolver entry point is not installed in this environment")
    probe = subprocess.run([str(exe), "health", "--help"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("`image-resolver health` is not implemented yet")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"GRPC_PORT": str(port), "PATH": str(BIN)}
    result = subprocess.run(
        [str(exe), "health"], env=env, capture_output=True, timeout=60, check=False
    )
    assert result.returncode != 0
