"""Item 2 of issue 25: on EKS the IRSA webhook injects AWS_REGION / AWS_DEFAULT_REGION with
the cluster's region into every container it gives the role to, unless the container sets
them under `env:` (envFrom does not count). Every such container sets both to the stacks'
region, and no ConfigMap pretends to set them."""

from __future__ import annotations

from typing import Any

Docs = dict[str, dict[str, Any]]
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    spec = doc.get("spec", {})
    template = spec.get("jobTemplate", {}).get("spec", spec).get("template")
    return None if template is None else {"meta": template.get("metadata", {}), **template["spec"]}


def aws_containers(k8s: Docs) -> dict[str, dict[str, Any]]:
    """Every container the IRSA webhook gives a role to: the pod's service account has
    eks.amazonaws.com/role-arn and the container is not in skip-containers."""
    found = {}
    for name, doc in k8s.items():
        pod = _pod_spec(doc)
        if pod is None:
            continue
        account = k8s.get(f"ServiceAccount/{pod.get('serviceAccountName', 'default')}", {})
        if "eks.amazonaws.com/role-arn" not in account.get("metadata", {}).get("annotations", {}):
            continue
        skipped = pod["meta"].get("annotations", {}).get("eks.amazonaws.com/skip-containers", "")
        skip = {s.strip() for s in skipped.split(",") if s.strip()}
        for container in pod.get("initContainers", []) + pod["containers"]:
            if container["name"] not in skip:
                found[f"{name}/{container['name']}"] = container
    return found


def test_every_aws_workload_is_found(k8s: Docs) -> None:
    assert set(aws_containers(k8s)) == {
        "Deployment/image-resolver/image-resolver",
        "Deployment/wishlist-api-sidecar/image-resolver",
        "CronJob/image-probe/probe",
    }


def test_each_sets_the_stacks_region_under_env(k8s: Docs, cfn: dict[str, Any]) -> None:
    # The stacks deploy in us-east-1 (a Rule / a precondition): the rollout table and the
    # logs bucket live there; the uploads bucket is the stack's too.
    assert cfn["Rules"]["CloudFrontResourcesLiveInUsEast1"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]
    }
    for where, container in aws_containers(k8s).items():
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        for variable in REGION_VARIABLES:
            assert env.get(variable) == "us-east-1", f"{where}: {variable} not under env:"


def test_no_configmap_sets_the_region(k8s: Docs) -> None:
    """A ConfigMap value would lose to the webhook's and mislead whoever reads it."""
    for name, doc in k8s.items():
        if doc["kind"] == "ConfigMap":
            assert not set(doc.get("data", {})) & set(REGION_VARIABLES), name
