"""deploy/kubernetes: hardening, gRPC probes, graceful shutdown budget, secrets by reference."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, K8S_DIR, Terraform

Docs = dict[str, dict[str, Any]]
# Alternatives applied on top of the base by choice, so the root kustomization leaves them out.
OPTIONAL_LAYOUTS = {"sidecar", "tls"}
README = DEPLOY / "README.md"


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


def test_configmap_carries_the_rollout_settings(k8s: Docs) -> None:
    data = k8s["ConfigMap/image-resolver-env"]["data"]
    assert "ROLLOUT_STORE" in data  # which store: test_every_rollout_store_is_writable_never_ssm
    assert data["CDN_ROLLOUT_PERCENT"] == "0"
    assert data["GRPC_PORT"] == "50051"
    assert all(isinstance(v, str) for v in data.values())


def _env_values(k8s: Docs, name: str) -> dict[str, str]:
    """Every value a manifest gives the variable `name`: ConfigMap data and container env
    (init containers, CronJobs and the sidecar layout included), by where it is set."""
    found: dict[str, str] = {}
    for doc_name, doc in k8s.items():
        if doc["kind"] == "ConfigMap" and name in doc.get("data", {}):
            found[doc_name] = str(doc["data"][name])
        spec = doc.get("spec", {})
        pod = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            for env in container.get("env", []):
                if env["name"] == name and "value" in env:
                    found[f"{doc_name}/{container['name']}"] = str(env["value"])
    return found


def test_every_rollout_store_is_writable_never_ssm(k8s: Docs) -> None:
    """SSM is read-only to the service (SetRollout answers FAILED_PRECONDITION, the kill
    switch included): a manifest must point at the DynamoDB table the stacks create."""
    stores = _env_values(k8s, "ROLLOUT_STORE")
    assert stores, "no manifest sets ROLLOUT_STORE: replicas would each keep their own flag"
    for where, store in stores.items():
        assert not store.lower().startswith("ssm:"), f"{where}: {store} is read-only"
        assert store == "dynamodb://wishlist-image-cdn-rollout/rollout", where


def test_hpa_targets_the_deployment(k8s: Docs) -> None:
    ref = k8s["HorizontalPodAutoscaler/image-resolver"]["spec"]["scaleTargetRef"]
    assert (ref["kind"], ref["name"]) == ("Deployment", "image-resolver")
    assert k8s["HorizontalPodAutoscaler/image-resolver"]["spec"]["minReplicas"] >= 2


def test_no_fixed_replicas_where_an_hpa_owns_the_count(k8s: Docs) -> None:
    """Issue 25 item 7: `kubectl apply -k` would reset an autoscaled Deployment to it."""
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]
        for d in k8s.values()
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    assert scaled
    for name in scaled:
        assert "replicas" not in k8s[f"Deployment/{name}"]["spec"], name
    # The HPA reads CPU from the metrics API, which EKS does not ship.
    assert "metrics-server" in README.read_text()


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


def test_every_manifest_is_valid_against_the_kubernetes_schema(k8s: Docs) -> None:
    """Offline: kubernetes-validate ships the schemas; strict refuses unknown fields (typos)."""
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    version = kubernetes_validate.latest_version()
    for name, doc in k8s.items():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {exc.message}")


def test_each_kustomization_lists_exactly_its_folder() -> None:
    """`kubectl apply -k deploy/kubernetes` takes both services; no manifest is left out."""
    for kustomization in sorted(K8S_DIR.rglob("kustomization.yaml")):
        folder = kustomization.parent
        listed = {r for r in yaml.safe_load(kustomization.read_text())["resources"] if "/" not in r}
        present = {p.name for p in folder.iterdir() if p.name != "kustomization.yaml"}
        present -= OPTIONAL_LAYOUTS if folder == K8S_DIR else set()
        assert listed == present, folder


@pytest.fixture
def api_container(k8s: Docs) -> dict[str, Any]:
    (only,) = k8s["Deployment/wishlist-api"]["spec"]["template"]["spec"]["containers"]
    return only


def test_api_probes_liveness_without_the_database_readiness_with_it(
    api_container: dict[str, Any],
) -> None:
    assert api_container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api_container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    port = api_container["ports"][0]
    assert (port["name"], port["containerPort"]) == ("http", 8080)


def test_api_secrets_by_reference_and_resolver_by_its_service(
    k8s: Docs, api_container: dict[str, Any]
) -> None:
    env = {e["name"]: e for e in api_container["env"]}
    for name in ("DATABASE_URL", "JWT_SECRET"):
        assert "secretKeyRef" in env[name]["valueFrom"], name
        assert name not in k8s["ConfigMap/wishlist-api-env"]["data"], name
    data = k8s["ConfigMap/wishlist-api-env"]["data"]
    headless = k8s["Service/image-resolver-headless"]
    grpc_port = next(p["port"] for p in headless["spec"]["ports"] if p["name"] == "grpc")
    fqdn = f"{headless['metadata']['name']}.{headless['metadata']['namespace']}.svc.cluster.local"
    # dns:/// of the headless name: every ready pod, balanced per call by the client.
    assert data["RESOLVER_TARGET"] == f"dns:///{fqdn}:{grpc_port}"
    assert data["RESOLVER_LOAD_BALANCING"] == "round_robin"


def test_the_apis_target_is_headless_and_selects_the_resolver_pods(k8s: Docs) -> None:
    """Through a ClusterIP, kube-proxy balances connections: one per API pod, so replicas
    the HPA added got no calls (issue 23). Headless: DNS answers with every ready pod."""
    spec = k8s["Service/image-resolver-headless"]["spec"]
    labels = k8s["Deployment/image-resolver"]["spec"]["template"]["metadata"]["labels"]
    assert spec["clusterIP"] == "None"
    assert spec.get("publishNotReadyAddresses", False) is False  # draining pods drop out
    assert spec["selector"].items() <= labels.items()
    assert k8s["Service/image-resolver"]["spec"]["type"] == "ClusterIP"  # kept for the rest


def test_connections_age_out_inside_the_drain(k8s: Docs) -> None:
    data = k8s["ConfigMap/image-resolver-env"]["data"]
    age = float(data["GRPC_MAX_CONNECTION_AGE_SECONDS"])
    grace = float(data["GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS"])
    pod = k8s["Deployment/image-resolver"]["spec"]["template"]["spec"]
    assert 0 < age <= 600, "new replicas must be reached within minutes"
    assert grace < float(data["SHUTDOWN_GRACE_SECONDS"]) < pod["terminationGracePeriodSeconds"]


def test_the_api_scales_and_is_budgeted_like_the_resolver(k8s: Docs) -> None:
    hpa = k8s["HorizontalPodAutoscaler/wishlist-api"]["spec"]
    assert (hpa["scaleTargetRef"]["kind"], hpa["scaleTargetRef"]["name"]) == (
        "Deployment",
        "wishlist-api",
    )
    assert hpa["minReplicas"] >= 2
    assert "replicas" not in k8s["Deployment/wishlist-api"]["spec"]
    labels = k8s["Deployment/wishlist-api"]["spec"]["template"]["metadata"]["labels"]
    pdb = k8s["PodDisruptionBudget/wishlist-api"]["spec"]["selector"]["matchLabels"]
    assert pdb.items() <= labels.items()


def test_api_is_hardened_and_selected_by_its_service_pdb_and_policy(
    k8s: Docs, api_container: dict[str, Any]
) -> None:
    pod = k8s["Deployment/wishlist-api"]["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    sc = api_container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"]["drop"] == ["ALL"]
    for selector in (
        k8s["Service/wishlist-api"]["spec"]["selector"],
        k8s["PodDisruptionBudget/wishlist-api"]["spec"]["selector"]["matchLabels"],
        k8s["NetworkPolicy/wishlist-api"]["spec"]["podSelector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    # The resolver's NetworkPolicy lets exactly these pods reach its gRPC port.
    ingress = k8s["NetworkPolicy/image-resolver"]["spec"]["ingress"]
    grpc_from = next(r["from"] for r in ingress if r["ports"][0]["port"] == 50051)
    assert grpc_from[0]["podSelector"]["matchLabels"].items() <= labels.items()


def _sidecar_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = spec.get("initContainers", []) + spec["containers"]
    return found


def test_sidecar_layout_shares_the_resolver_socket_on_an_emptydir(k8s: Docs) -> None:
    spec = k8s["Deployment/wishlist-api-sidecar"]["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in _sidecar_containers(spec)}
    env = {n: {e["name"]: e.get("value") for e in c["env"]} for n, c in containers.items()}
    socket = env["image-resolver"]["GRPC_UNIX_SOCKET"]
    assert env["wishlist-api"]["RESOLVER_TARGET"] == f"unix://{socket}"
    (volume,) = [v for v in spec["volumes"] if v["name"] == "resolver-socket"]
    assert volume["emptyDir"]["medium"] == "Memory"
    for container in containers.values():
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert socket.startswith(mounts["resolver-socket"] + "/")


def test_sidecar_pod_runs_as_the_account_the_irsa_role_trusts(
    k8s: Docs, cfn: dict[str, Any], tf: Terraform
) -> None:
    """One service account per pod: the resolver's, the one the stacks' role trusts."""
    spec = k8s["Deployment/wishlist-api-sidecar"]["spec"]["template"]["spec"]
    name = spec["serviceAccountName"]
    account = k8s[f"ServiceAccount/{name}"]
    assert "eks.amazonaws.com/role-arn" in account["metadata"]["annotations"]
    assert name == cfn["Parameters"]["ServiceAccountName"]["Default"]
    assert name == tf.variables["service_account_name"]["default"]
    assert (
        account["metadata"]["namespace"] == cfn["Parameters"]["ServiceAccountNamespace"]["Default"]
    )
    assert spec["automountServiceAccountToken"] is False


def test_sidecar_keeps_the_resolvers_role_out_of_the_api_container(k8s: Docs) -> None:
    """IRSA's webhook injects the role into every container not listed in skip-containers;
    the API needs no AWS, so every container but the resolver is listed."""
    template = k8s["Deployment/wishlist-api-sidecar"]["spec"]["template"]
    names = {c["name"] for c in _sidecar_containers(template["spec"])}
    skipped = template["metadata"]["annotations"]["eks.amazonaws.com/skip-containers"]
    assert {n.strip() for n in skipped.split(",")} == names - {"image-resolver"}
    assert "image-resolver" in names


def test_sidecar_network_policy_selects_its_pods_and_opens_only_http_and_metrics(
    k8s: Docs,
) -> None:
    template = k8s["Deployment/wishlist-api-sidecar"]["spec"]["template"]
    policy = k8s["NetworkPolicy/wishlist-api-sidecar"]["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    opened = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    declared = {
        p["containerPort"]
        for c in _sidecar_containers(template["spec"])
        for p in c.get("ports", [])
    }
    assert opened == declared == {8080, 9464}
    # The base policies select other pods: none of them applies to the sidecar layout.
    for base in ("NetworkPolicy/image-resolver", "NetworkPolicy/wishlist-api"):
        selector = k8s[base]["spec"]["podSelector"]["matchLabels"]
        assert not selector.items() <= template["metadata"]["labels"].items(), base


# ------------------------------------------------------------------ issue 25, item 10


def test_sidecar_resolver_is_a_native_sidecar_stopped_after_the_api(k8s: Docs) -> None:
    """An init container with restartPolicy Always (Kubernetes >= 1.29) starts before the API
    and gets SIGTERM only after the API has exited: it serves the API's last requests."""
    spec = k8s["Deployment/wishlist-api-sidecar"]["spec"]["template"]["spec"]
    (resolver,) = spec["initContainers"]
    assert resolver["name"] == "image-resolver" and resolver["restartPolicy"] == "Always"
    assert resolver["startupProbe"]  # the API starts once the resolver is up
    assert "lifecycle" not in resolver  # no preStop of its own: it is stopped last
    (api,) = spec["containers"]
    assert api["name"] == "wishlist-api" and "restartPolicy" not in api
    pre_stop = float(api["lifecycle"]["preStop"]["exec"]["command"][1])
    api_grace, resolver_grace = (
        20.0,
        float(k8s["ConfigMap/image-resolver-env"]["data"]["SHUTDOWN_GRACE_SECONDS"]),
    )
    assert spec["terminationGracePeriodSeconds"] > pre_stop + api_grace + resolver_grace


def test_sidecar_layout_has_a_disruption_budget(k8s: Docs) -> None:
    labels = k8s["Deployment/wishlist-api-sidecar"]["spec"]["template"]["metadata"]["labels"]
    pdb = k8s["PodDisruptionBudget/wishlist-api-sidecar"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["maxUnavailable"] == 1
    listed = yaml.safe_load((K8S_DIR / "sidecar" / "kustomization.yaml").read_text())["resources"]
    assert "pdb.yaml" in listed


# ------------------------------------------------------------------ TLS: exec probes


def _kustomize(folder: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl (kustomize) is not installed")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S_DIR / folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_base_resolver_probes_are_grpc_so_tls_needs_the_tls_layout(
    k8s: Docs, container: dict[str, Any]
) -> None:
    """The kubelet's gRPC probes speak plaintext: the base must not turn TLS on."""
    env = {e["name"] for e in container.get("env", [])}
    assert not {n for n in env if n.startswith("GRPC_TLS_")}
    assert not {n for n in k8s["ConfigMap/image-resolver-env"]["data"] if n.startswith("GRPC_TLS_")}


def test_tls_layout_uses_exec_health_probes_and_verifying_clients() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    docs = {f"{d['kind']}/{d['metadata']['name']}": d for d in _kustomize("tls")}
    for name, doc in docs.items():
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
        assert doc["metadata"]["namespace"] == "wishlist-image-cdn", name
    pod = docs["Deployment/image-resolver"]["spec"]["template"]["spec"]
    (resolver,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in resolver["env"]}
    assert env["GRPC_TLS_CERT_FILE"] and env["GRPC_TLS_KEY_FILE"]
    mounts = {m["mountPath"] for m in resolver["volumeMounts"]}
    assert any(env["GRPC_TLS_CERT_FILE"].startswith(m + "/") for m in mounts)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "grpc" not in resolver[probe], probe
        command = resolver[probe]["exec"]["command"]
        assert command[:2] == ["image-resolver", "health"], probe
        assert any(a.startswith("--tls-ca=") for a in command), probe
        assert resolver[probe]["timeoutSeconds"] >= 5  # a Python process, not a kubelet call
    assert (
        "--service=wishlist.images.v1.ImageUrlService"
        in resolver["readinessProbe"]["exec"]["command"]
    )
    (api,) = docs["Deployment/wishlist-api"]["spec"]["template"]["spec"]["containers"]
    assert {e["name"]: e.get("value") for e in api["env"]}["RESOLVER_TLS_CA"]
    cron = docs["CronJob/image-probe"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert any(a.startswith("--tls-ca=") for a in cron["containers"][0]["args"])


def test_the_health_command_has_the_tls_flags_the_exec_probes_use() -> None:
    import argparse

    from wishlist_runtime.grpc_cli import register_health

    parser = argparse.ArgumentParser()
    register_health(parser.add_subparsers(dest="command"), "image-resolver")
    args = parser.parse_args(
        ["health", "--target=localhost:50051", "--tls-ca=/ca.crt", "--service=x"]
    )
    assert (args.target, args.tls_ca, args.service) == ("localhost:50051", "/ca.crt", "x")


# ------------------------------------------------------------------ secrets and examples


def _deploy_texts() -> dict[str, str]:
    paths = [README, *K8S_DIR.rglob("*.yaml")]
    return {str(p.relative_to(DEPLOY)): p.read_text() for p in paths}


def test_no_secret_is_ever_put_on_a_command_line() -> None:
    """A literal on the command line lands in shell history and the process list: --from-file."""
    for name, text in _deploy_texts().items():
        assert "--from-literal" not in text, name
    assert "--from-file=ADMIN_TOKEN=" in README.read_text()


def test_database_url_examples_require_tls() -> None:
    found = 0
    for name, text in _deploy_texts().items():
        for url in re.findall(r"postgresql\+psycopg://[^\s'\"`]+", text):
            found += 1
            assert "sslmode=" in url, f"{name}: {url}"
    assert found


def test_hs256_example_names_issuer_and_audience(k8s: Docs) -> None:
    data = k8s["ConfigMap/wishlist-api-env"]["data"]
    assert data["JWT_ISSUER"].strip() and data["JWT_AUDIENCE"].strip()


def test_readme_does_not_promise_admin_calls_from_a_pod() -> None:
    """Plaintext admin RPCs are refused unless local (port-forward), and the NetworkPolicy
    admits only the API and probe pods."""
    text = README.read_text()
    assert "from a pod" not in text
    assert "port-forward" in text
