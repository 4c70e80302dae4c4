"""deploy/kubernetes: hardening, gRPC probes, graceful shutdown budget, secrets by reference."""

from __future__ import annotations

from typing import Any

import pytest

Docs = dict[str, dict[str, Any]]


@pytest.fixture
def pod(k8s: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = k8s["Deployment/image-resolver"]["spec"]["template"]["spec"]
    return spec


@pytest.fixture
def container(pod: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod["containers"]
    return only


def test_runs_as_non_root_with_read_only_root_fs(
    pod: dict[str, Any], container: dict[str, Any]
) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_probes_use_native_grpc_on_50051(container: dict[str, Any]) -> None:
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == 50051, probe
        assert "exec" not in container[probe] and "httpGet" not in container[probe]
    assert container["readinessProbe"]["grpc"]["service"] == "wishlist.images.v1.ImageUrlService"


def test_termination_grace_exceeds_shutdown_grace(
    k8s: Docs, pod: dict[str, Any], container: dict[str, Any]
) -> None:
    shutdown = float(k8s["ConfigMap/image-resolver-env"]["data"]["SHUTDOWN_GRACE_SECONDS"])
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > shutdown + float(pre_stop[1])


def test_admin_token_comes_from_a_secret(k8s: Docs, container: dict[str, Any]) -> None:
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["ADMIN_TOKEN"]["valueFrom"]
    assert "ADMIN_TOKEN" not in k8s["ConfigMap/image-resolver-env"]["data"]
    assert not any(d["kind"] == "Secret" for d in k8s.values()), "secrets are created out of band"
    refs = [r["configMapRef"]["name"] for r in container["envFrom"]]
    assert refs == ["image-resolver-env"]


def test_configmap_carries_the_rollout_store(k8s: Docs) -> None:
    data = k8s["ConfigMap/image-resolver-env"]["data"]
    assert data["ROLLOUT_STORE"] == "dynamodb://wishlist-image-cdn-rollout/rollout"
    assert data["CDN_ROLLOUT_PERCENT"] == "0"
    assert data["GRPC_PORT"] == "50051"
    assert all(isinstance(v, str) for v in data.values())


def test_hpa_targets_the_deployment(k8s: Docs) -> None:
    ref = k8s["HorizontalPodAutoscaler/image-resolver"]["spec"]["scaleTargetRef"]
    assert (ref["kind"], ref["name"]) == ("Deployment", "image-resolver")
    assert k8s["HorizontalPodAutoscaler/image-resolver"]["spec"]["minReplicas"] >= 2


def test_pdb_and_service_select_the_pods(k8s: Docs) -> None:
    labels = k8s["Deployment/image-resolver"]["spec"]["template"]["metadata"]["labels"]
    pdb = k8s["PodDisruptionBudget/image-resolver"]["spec"]["selector"]["matchLabels"]
    svc = k8s["Service/image-resolver"]["spec"]
    assert pdb.items() <= labels.items()
    assert svc["selector"].items() <= labels.items()
    assert {p["port"] for p in svc["ports"]} == {50051, 9464}


def test_service_account_is_irsa_ready(k8s: Docs, pod: dict[str, Any]) -> None:
    sa = k8s["ServiceAccount/image-resolver"]
    assert "eks.amazonaws.com/role-arn" in sa["metadata"]["annotations"]
    assert pod["serviceAccountName"] == "image-resolver"
    assert pod["automountServiceAccountToken"] is False
