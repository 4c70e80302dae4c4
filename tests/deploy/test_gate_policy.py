"""What `image-ops rollout advance|auto` may read, and what the resolver may do (issue 25):
alarms by prefix (authorised against alarm:*), only the access logs and probe results of the
logs bucket, the alarm prefix the gates must use from both flavours; no grant nobody calls."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import hcl2

from image_ops.gates.config import load
from tests.deploy.conftest import (
    DEPLOY,
    REPO,
    Terraform,
    _unquote,
    cfn_resources,
    cfn_statements,
)

README = DEPLOY / "README.md"
CDN_STACK = "wishlist-image-cdn"
LOGS_ARN = "arn:aws:s3:::lego-moc-cloudfront-logs"


def _cfn_arns(resource: Any) -> list[str]:
    items = resource if isinstance(resource, list) else [resource]
    out = []
    for item in items:
        text = item["Fn::Sub"] if isinstance(item, dict) and "Fn::Sub" in item else item
        out.append(str(text).replace("${LogsBucket.Arn}", LOGS_ARN))
    return out


def test_cloudformation_gate_policy(cfn: dict[str, Any]) -> None:
    stmts = cfn_statements(cfn, "RolloutGatePolicy")
    assert set(stmts) == {
        "ReadAlarms",
        "ReadAccessLogsAndProbeResults",
        "ListAccessLogsAndProbeResults",
    }
    assert (stmts["ReadAlarms"]["Action"], stmts["ReadAlarms"]["Resource"]) == (
        "cloudwatch:DescribeAlarms",
        "*",
    )
    reads = stmts["ReadAccessLogsAndProbeResults"]
    assert reads["Action"] == "s3:GetObject"
    assert _cfn_arns(reads["Resource"]) == [f"{LOGS_ARN}/cloudfront/*", f"{LOGS_ARN}/probe/*"]
    lists = stmts["ListAccessLogsAndProbeResults"]
    assert lists["Resource"] == {"Fn::GetAtt": ["LogsBucket", "Arn"]}
    assert lists["Condition"] == {"StringLike": {"s3:prefix": ["cloudfront/*", "probe/*"]}}
    assert cfn["Outputs"]["RolloutGatePolicyArn"]["Value"] == {"Ref": "RolloutGatePolicy"}


def test_terraform_gate_policy(tf: Terraform) -> None:
    stmts = tf.statements("rollout_gates")
    assert stmts["ReadAlarms"]["actions"] == ["cloudwatch:DescribeAlarms"]
    assert stmts["ReadAlarms"]["resources"] == ["*"]
    reads = [tf.resolve_locals(r) for r in stmts["ReadAccessLogsAndProbeResults"]["resources"]]
    assert [r.split(":::", 1)[1] for r in reads] == [
        "${var.logs_bucket_name}/cloudfront/*",
        "${var.logs_bucket_name}/probe/*",
    ]
    (cond,) = stmts["ListAccessLogsAndProbeResults"]["condition"]
    assert (cond["test"], cond["variable"]) == ("StringLike", "s3:prefix")
    assert [tf.resolve_locals(v) for v in cond["values"]] == ["cloudfront/*", "probe/*"]


def test_the_gates_can_read_what_the_readme_passes_them(cfn: dict[str, Any]) -> None:
    """Every s3:// source in the README's rollout commands is inside the GetObject grant."""
    granted = _cfn_arns(
        cfn_statements(cfn, "RolloutGatePolicy")["ReadAccessLogsAndProbeResults"]["Resource"]
    )
    text = README.read_text()
    sources = re.findall(r"--(?:logs|probe-results) (s3://[^\s\"'`]+)", text)
    assert sources
    for source in sources:
        key = source.replace("s3://", "arn:aws:s3:::").replace("$DISTRIBUTION_ID", "E2EX")
        key = re.sub(r"\$\(date[^)]*\)", "2026/12/03", key)
        assert any(fnmatchcase(key + ("x" if key.endswith("/") else ""), g) for g in granted), (
            source
        )


def test_alarm_prefix_is_output_and_matches_the_gates_default(
    cfn: dict[str, Any], tf: Terraform
) -> None:
    prefix = load().gates.alarm_prefix
    assert cfn["Outputs"]["AlarmPrefix"]["Value"] == {"Fn::Sub": "${AWS::StackName}-cloudfront-"}
    for alarm in cfn_resources(cfn, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmName"]["Fn::Sub"].startswith(
            "${AWS::StackName}-cloudfront-"
        )
    assert f"{CDN_STACK}-cloudfront-" == prefix
    assert f"--stack-name {CDN_STACK}" in README.read_text()
    assert tf.outputs["alarm_prefix"]["value"] == "${var.name}-cloudfront-"
    assert tf.resource("aws_cloudwatch_metric_alarm", "cloudfront")["alarm_name"].startswith(
        "${var.name}-cloudfront-"
    )
    example = _unquote(hcl2.loads((DEPLOY / "terraform" / "terraform.tfvars.example").read_text()))
    assert (
        f"{example['name']}-cloudfront-"
        == f"{tf.variables['name']['default']}-cloudfront-"
        == prefix
    )


def test_resolver_may_only_create_invalidations(cfn: dict[str, Any], tf: Terraform) -> None:
    """GetInvalidation was granted but never called."""
    stmt = cfn_statements(cfn, "ImageResolverPolicy")["InvalidateThisDistribution"]
    assert stmt["Action"] == "cloudfront:CreateInvalidation"
    assert tf.statements("image_resolver")["InvalidateThisDistribution"]["actions"] == [
        "cloudfront:CreateInvalidation"
    ]
    called = set()
    for path in Path(REPO / "server").rglob("*.py"):
        called |= set(re.findall(r"\.(\w*invalidation\w*)\(", path.read_text()))
    assert "get_invalidation" not in called and "create_invalidation" in called


def test_irsa_role_names_match_the_service_account_annotations(
    cfn: dict[str, Any], tf: Terraform, k8s: dict[str, Any]
) -> None:
    """A generated role name cannot be written into the annotation before the stack exists."""
    annotation = k8s["ServiceAccount/image-resolver"]["metadata"]["annotations"][
        "eks.amazonaws.com/role-arn"
    ]
    cfn_name = cfn["Resources"]["ImageResolverRole"]["Properties"]["RoleName"]["Fn::Sub"]
    assert annotation.endswith(":role/" + cfn_name.replace("${AWS::StackName}", CDN_STACK))
    tf_name = tf.resource("aws_iam_role", "image_resolver")["name"]
    assert annotation.endswith(
        ":role/" + tf_name.replace("${var.name}", tf.variables["name"]["default"])
    )
    assert json.dumps(cfn).count('"RoleName"') == 2  # the resolver's and the probe's


def test_the_resolver_may_list_the_uploads_bucket_so_a_missing_upload_is_404(
    cfn: dict[str, Any], tf: Terraform
) -> None:
    """Issue 23: without s3:ListBucket, S3 answers VerifyUpload's HEAD of a missing key with
    403 and the API said resolver_unavailable. No s3:prefix condition: a HEAD carries none."""
    stmt = cfn_statements(cfn, "ImageResolverPolicy")["MissingUploadsAre404"]
    assert stmt["Action"] == "s3:ListBucket"
    assert stmt["Resource"] == {"Fn::GetAtt": ["UploadsBucket", "Arn"]}
    assert "Condition" not in stmt
    tf_stmt = tf.statements("image_resolver")["MissingUploadsAre404"]
    assert tf_stmt["actions"] == ["s3:ListBucket"]
    assert tf_stmt["resources"] == ["${aws_s3_bucket.uploads.arn}"]
    assert "condition" not in tf_stmt
