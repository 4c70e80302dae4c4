"""deploy/: the scheduled probe (issue 25): the CronJob has an IRSA role in both flavours,
writes only its own region's results where `rollout advance` reads them, stops before its
Job is killed, and its results are accepted only as long as the schedule allows. The Fargate
variant is gone (it could not reach the resolver safely)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from typing import Any

import pytest

from image_ops.cli import build_parser
from image_ops.gates.config import load
from image_ops.gating.probe_evidence import max_age
from image_ops.probe.cli import DEFAULT_DEADLINE_SECONDS
from tests.deploy.conftest import DEPLOY, Terraform, cfn_resources
from tests.deploy.test_linters import _tool

PROBE_TEMPLATE = DEPLOY / "cloudformation" / "image-probe.yaml"
PARAMETERS_EXAMPLE = DEPLOY / "cloudformation" / "parameters.example.json"
README = DEPLOY / "README.md"
CDN_STACK = "wishlist-image-cdn"  # the stack name the README deploys


@pytest.fixture(scope="module")
def probe_cfn() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    template: dict[str, Any] = cfn_yaml.load(str(PROBE_TEMPLATE))
    return template


def _cronjob_pod(k8s: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = k8s["CronJob/image-probe"]["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]
    return pod


def _probe_args(k8s: dict[str, Any]) -> Any:
    (container,) = _cronjob_pod(k8s)["containers"]
    return build_parser().parse_args(container["args"])


def evaluate(node: Any, params: dict[str, str]) -> Any:
    """The few intrinsics the probe's region derivation uses, on given parameter values."""
    if isinstance(node, dict) and len(node) == 1:
        ((fn, args),) = node.items()
        if fn == "Ref":
            return params[args]
        if fn == "Fn::Split":
            return evaluate(args[1], params).split(args[0])
        if fn == "Fn::Select":
            return evaluate(args[1], params)[int(args[0])]
    return node


def _sub(node: Any, params: dict[str, str]) -> str:
    """A !Sub [text, {vars}] or !Sub text, with Refs/GetAtts from `params`."""
    text, variables = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
    values = {**params, **{k: evaluate(v, params) for k, v in variables.items()}}
    return re.sub(r"\$\{([^}]+)\}", lambda m: str(values[m.group(1)]), text)


def _example_oidc() -> str:
    params = {
        p["ParameterKey"]: p["ParameterValue"] for p in json.loads(PARAMETERS_EXAMPLE.read_text())
    }
    return str(params["EksOidcProviderArn"])


# ------------------------------------------------------------------ the CronJob itself


def test_cronjob_is_hardened_and_runs_a_real_probe_command(k8s: dict[str, Any]) -> None:
    job = k8s["CronJob/image-probe"]["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    assert job["jobTemplate"]["spec"]["backoffLimit"] == 0  # a missed target is not retried
    pod = _cronjob_pod(k8s)
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    args = _probe_args(k8s)
    assert args.command == "probe" and args.keys_file == "/etc/image-probe/keys.txt"
    env = k8s["ConfigMap/image-probe-env"]["data"]
    assert env["PROBE_RESULTS_URL"].startswith("s3://") and env["keys.txt"].strip()
    assert pod["serviceAccountName"] == "image-probe"


def test_network_policy_lets_only_the_probe_pods_in_besides_the_api(k8s: dict[str, Any]) -> None:
    rules = k8s["NetworkPolicy/image-resolver"]["spec"]["ingress"]
    pod_rules = {
        r["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]: r["ports"]
        for r in rules
        if r["from"][0].get("podSelector")
    }
    grpc = [{"port": 50051, "protocol": "TCP"}]
    assert pod_rules == {"wishlist-api": grpc, "image-probe": grpc}


def test_the_resolver_stays_unexposed_to_the_vpc(k8s: dict[str, Any], tf: Terraform) -> None:
    """Item 5: CreateUploadUrl is unauthenticated and the port plaintext, so the resolver is
    not opened to the VPC for a Fargate probe; that variant is gone in both flavours."""
    rules = k8s["NetworkPolicy/image-resolver"]["spec"]["ingress"]
    assert not any("ipBlock" in peer for rule in rules for peer in rule["from"])
    assert k8s["Service/image-resolver"]["spec"]["type"] == "ClusterIP"
    for path in (DEPLOY / "cloudformation").glob("*.yaml"):
        text = path.read_text()
        assert "AWS::ECS::" not in text and "AWS::Scheduler::" not in text, path.name
    assert not [
        b for b in tf.blocks.get("resource", []) if re.match(r"aws_(ecs|scheduler)_", next(iter(b)))
    ]
    removed = tf.variables["probe"]
    assert removed["default"] is None
    assert removed["validation"][0]["condition"] == "${var.probe == null}"


# ------------------------------------------------------------------ item 1: its IAM role


def test_cloudformation_creates_the_probe_role_and_outputs_it(
    cfn: dict[str, Any], k8s: dict[str, Any]
) -> None:
    role = cfn["Resources"]["ImageProbeRole"]
    assert role["Condition"] == "UseIrsa"
    props = role["Properties"]
    trust = props["AssumeRolePolicyDocument"]["Fn::Sub"][0]
    subject = "system:serviceaccount:${ServiceAccountNamespace}:${ProbeServiceAccountName}"
    assert f'"${{Issuer}}:sub": "{subject}"' in trust
    assert '"${Issuer}:aud": "sts.amazonaws.com"' in trust
    pod = _cronjob_pod(k8s)
    assert cfn["Parameters"]["ProbeServiceAccountName"]["Default"] == pod["serviceAccountName"]
    assert (
        cfn["Parameters"]["ServiceAccountNamespace"]["Default"]
        == k8s["CronJob/image-probe"]["metadata"]["namespace"]
    )
    assert cfn["Outputs"]["ImageProbeRoleArn"]["Value"] == {"Fn::GetAtt": ["ImageProbeRole", "Arn"]}
    # The ServiceAccount annotation names the role the stack creates.
    annotation = k8s["ServiceAccount/image-probe"]["metadata"]["annotations"][
        "eks.amazonaws.com/role-arn"
    ]
    name = _sub(props["RoleName"], {"AWS::StackName": CDN_STACK})
    assert annotation.endswith(f":role/{name}")


def test_terraform_creates_the_probe_role_and_outputs_it(
    tf: Terraform, k8s: dict[str, Any]
) -> None:
    assert (
        tf.variables["probe_service_account_name"]["default"]
        == _cronjob_pod(k8s)["serviceAccountName"]
    )
    roles = tf.locals["probe_roles"]
    assert "${var.name}-image-probe" in json.dumps(roles)
    trust = tf.data("aws_iam_policy_document", "image_probe_trust")["statement"][0]
    subs = {c["variable"]: c["values"] for c in trust["condition"]}
    assert subs["${each.value.issuer}:sub"] == [
        "system:serviceaccount:${each.value.namespace}:${each.value.service_account}"
    ]
    assert tf.resource("aws_iam_role", "image_probe")["name"] == "${each.key}"
    assert "aws_iam_role.image_probe" in tf.outputs["image_probe_role_arn"]["value"]
    annotation = k8s["ServiceAccount/image-probe"]["metadata"]["annotations"][
        "eks.amazonaws.com/role-arn"
    ]
    assert annotation.endswith(f":role/{tf.variables['name']['default']}-image-probe")


# -------------------------------------- drift: each region writes its own results, and the
# -------------------------------------- CronJob writes where the README's commands read


def test_each_probe_role_writes_only_its_clusters_region(
    cfn: dict[str, Any], probe_cfn: dict[str, Any]
) -> None:
    oidc = _example_oidc()
    # The region comes from the EKS issuer; the parameters only accept EKS issuers.
    for template in (cfn, probe_cfn):
        pattern = template["Parameters"]["EksOidcProviderArn"]["AllowedPattern"]
        assert re.fullmatch(pattern, oidc)
        assert not re.fullmatch(
            pattern, "arn:aws:iam::123456789012:oidc-provider/token.example.com"
        )
    params = {"EksOidcProviderArn": oidc, "LogsBucket.Arn": "arn:aws:s3:::lego-moc-cloudfront-logs",
              "AWS::Partition": "aws", "ResultsBucket": "lego-moc-cloudfront-logs"}  # fmt: skip
    for template in (cfn, probe_cfn):
        (policy,) = template["Resources"]["ImageProbeRole"]["Properties"]["Policies"]
        (stmt,) = policy["PolicyDocument"]["Statement"]
        assert stmt["Action"] == "s3:PutObject"
        assert (
            _sub(stmt["Resource"], params)
            == "arn:aws:s3:::lego-moc-cloudfront-logs/probe/us-east-1/*"
        )
    other = {**params, "EksOidcProviderArn": oidc.replace("us-east-1", "ap-northeast-1")}
    (policy,) = probe_cfn["Resources"]["ImageProbeRole"]["Properties"]["Policies"]
    assert _sub(policy["PolicyDocument"]["Statement"][0]["Resource"], other).endswith(
        "/probe/ap-northeast-1/*"
    )
    name = probe_cfn["Resources"]["ImageProbeRole"]["Properties"]["RoleName"]
    assert _sub(name, {**other, "Name": "wishlist-image-cdn"}) == (
        "wishlist-image-cdn-image-probe-ap-northeast-1"
    )


def test_terraform_probe_roles_write_only_their_region(tf: Terraform) -> None:
    (stmt,) = tf.data("aws_iam_policy_document", "image_probe_write")["statement"]
    assert stmt["actions"] == ["s3:PutObject"]
    assert stmt["resources"] == [
        "arn:${local.partition}:s3:::${var.logs_bucket_name}/probe/${each.value.region}/*"
    ]


def test_cronjob_writes_what_its_role_allows_and_the_readme_reads(
    cfn: dict[str, Any], k8s: dict[str, Any]
) -> None:
    url = k8s["ConfigMap/image-probe-env"]["data"]["PROBE_RESULTS_URL"]
    output = cfn["Outputs"]["ProbeResultsUrl"]["Value"]
    expected = _sub(
        output, {"EksOidcProviderArn": _example_oidc(), "LogsBucket": "lego-moc-cloudfront-logs"}
    )
    assert url == expected == "s3://lego-moc-cloudfront-logs/probe/us-east-1/latest.json"
    assert k8s["ConfigMap/image-probe-env"]["data"]["PROBE_INSTANCE"].startswith("us-east-1")
    readme_reads = set(re.findall(r"--probe-results (s3://[^\s\"'`]+)", README.read_text()))
    assert readme_reads == {url}


# ------------------------------------------------------------------ item 9: timing


def _schedule_period(schedule: str) -> timedelta:
    minute, *rest = schedule.split()
    match = re.fullmatch(r"\*/(\d+)", minute)
    assert match and rest == ["*", "*", "*", "*"], schedule
    return timedelta(minutes=int(match[1]))


def test_probe_stops_before_the_job_is_killed_and_age_follows_the_schedule(
    k8s: dict[str, Any],
) -> None:
    cron = k8s["CronJob/image-probe"]["spec"]
    period = _schedule_period(cron["schedule"])
    job_limit = timedelta(seconds=cron["jobTemplate"]["spec"]["activeDeadlineSeconds"])
    assert job_limit < period  # Forbid: a run ends before the next is due
    deadline = timedelta(seconds=_probe_args(k8s).deadline)
    # Time left after the deadline: the last load's timeout is clipped to it, then one S3 put
    # and one Pushgateway PUT (10 s timeout each) must fit before the Job is killed.
    assert deadline + timedelta(seconds=30) <= job_limit
    assert timedelta(seconds=DEFAULT_DEADLINE_SECONDS) + timedelta(seconds=30) <= job_limit
    config = load()
    accepted = max_age(config)
    # A result written by each run is never older than period + one run; one missed or
    # killed run already makes it too old (not the whole hour-long window, as before).
    assert period + job_limit <= accepted <= 2 * period
    assert accepted < config.window


def test_cfn_lint_probe_template() -> None:
    result = subprocess.run(
        [_tool("cfn-lint"), str(PROBE_TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_probe_template_is_only_the_probe_identity(probe_cfn: dict[str, Any]) -> None:
    assert set(probe_cfn["Resources"]) == {"ImageProbeRole"}
    assert set(probe_cfn["Outputs"]) == {"ImageProbeRoleArn", "ProbeResultsUrl"}
    assert not cfn_resources(probe_cfn, "AWS::IAM::ManagedPolicy")
