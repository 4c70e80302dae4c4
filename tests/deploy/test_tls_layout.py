"""The tls/ layout's exec probes, run as the kubelet would run them, against a resolver that
serves TLS (issue 25): they pass, where a plaintext gRPC health check (what the kubelet's
`grpc:` probe does) fails on the same port and would leave every pod unready."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.deploy.test_kubernetes_manifests import _kustomize
from tests.support.tls_certs import make_tls_files

BIN = Path(sys.executable).parent


def _resolver_probes() -> dict[str, list[str]]:
    docs = {f"{d['kind']}/{d['metadata']['name']}": d for d in _kustomize("tls")}
    (container,) = docs["Deployment/image-resolver"]["spec"]["template"]["spec"]["containers"]
    return {
        p: container[p]["exec"]["command"]
        for p in ("startupProbe", "readinessProbe", "livenessProbe")
    }


def test_exec_probes_pass_over_tls_where_a_plaintext_grpc_probe_fails(
    start_resolver: Any, tmp_path: Path
) -> None:
    exe = BIN / "image-resolver"
    if not exe.exists():
        pytest.skip("image-resolver entry point is not installed in this environment")
    tls = make_tls_files(tmp_path)
    server = start_resolver(
        grpc_tls_cert_file=str(tls.server_cert), grpc_tls_key_file=str(tls.server_key)
    )
    port = server.target.rsplit(":", 1)[1]
    for probe, command in _resolver_probes().items():
        assert command[0] == "image-resolver"
        # The layout's paths and port, pointed at this test's files and server.
        ca = "/etc/image-resolver/tls/ca.crt"
        args = [a.replace(ca, str(tls.ca)).replace(":50051", f":{port}") for a in command[1:]]
        result = subprocess.run(
            [str(exe), *args], env={**os.environ, "GRPC_PORT": port}, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{probe}: {result.stdout}{result.stderr}"
        assert result.stdout.strip() == "SERVING", probe
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:  # the kubelet's grpc: probe
        with pytest.raises(grpc.RpcError):
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
