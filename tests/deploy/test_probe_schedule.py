"""deploy/: the scheduled probe (CronJob, EventBridge Scheduler in CloudFormation and
Terraform) and the gated rollout's IAM: hardened, least privilege, the same command."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from image_ops.cli import build_parser
from tests.deploy.conftest import DEPLOY, Terraform, cfn_statements
from tests.deploy.test_linters import _tool

PROBE_TEMPLATE = DEPLOY / "cloudformation" / "image-probe.yaml"


@pytest.fixture(scope="module")
def probe_cfn() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    template: dict[str, Any] = cfn_yaml.load(str(PROBE_TEMPLATE))
    return template


def test_cronjob_is_hardened_and_runs_a_real_probe_command(k8s: dict[str, Any]) -> None:
    job = k8s["CronJob/image-probe"]["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    assert job["jobTemplate"]["spec"]["backoffLimit"] == 0  # a missed target is not retried
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    args = build_parser().parse_args(container["args"])
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


def test_cfn_lint_probe_template() -> None:
    result = subprocess.run(
        [_tool("cfn-lint"), str(PROBE_TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_probe_iam_is_least_privilege(probe_cfn: dict[str, Any]) -> None:
    writes = cfn_statements(probe_cfn, "ProbeResultsPolicy")
    assert writes["WriteProbeResults"]["Action"] == "s3:PutObject"
    resource = writes["WriteProbeResults"]["Resource"]
    assert resource == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ResultsBucket}/probe/*"}
    gates = cfn_statements(probe_cfn, "RolloutGatePolicy")
    assert gates["ReadCdnAlarms"]["Action"] == "cloudwatch:DescribeAlarms"
    assert ":alarm:${AlarmPrefix}*" in str(gates["ReadCdnAlarms"]["Resource"])
    role = probe_cfn["Resources"]["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    actions = sorted(s["Action"] for s in role["Statement"])
    assert actions == ["ecs:RunTask", "iam:PassRole"]


def test_cfn_probe_command_parses_and_image_must_be_a_digest(probe_cfn: dict[str, Any]) -> None:
    pattern = probe_cfn["Parameters"]["Image"]["AllowedPattern"]
    assert re.fullmatch(pattern, "r.example.com/w@sha256:" + "0" * 64)
    assert not re.fullmatch(pattern, "r.example.com/w:latest")
    container = probe_cfn["Resources"]["ProbeTask"]["Properties"]["ContainerDefinitions"][0]
    assert container["ReadonlyRootFilesystem"] is True


def test_terraform_probe_policies_are_scoped(tf: Terraform) -> None:
    writes = tf.statements("probe_results")["WriteProbeResults"]
    assert writes["actions"] == ["s3:PutObject"]
    assert tf.resolve_locals(writes["resources"][0]).endswith("/probe/*")
    gates = tf.statements("rollout_gates")
    assert gates["ReadCdnAlarms"]["actions"] == ["cloudwatch:DescribeAlarms"]
    assert gates["ReadCdnAlarms"]["resources"][0].endswith(":alarm:${var.name}-cloudfront-*")
    assert tf.variables["probe"]["default"] is None  # off unless asked for
