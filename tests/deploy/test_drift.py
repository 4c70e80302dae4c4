"""Issue 25, "Security and drift": what the templates say where a choice is made, and the
two flavours agreeing on what they validate. (Accept-Encoding, the budget's services, the
resolver's grants, the gates' policy and the role names have their own tests.)"""

from __future__ import annotations

from typing import Any

from image_ops.gates.config import load
from tests.deploy.conftest import CFN_TEMPLATE, DEPLOY, TF_DIR, Terraform

README = DEPLOY / "README.md"


def _section(title: str) -> str:
    text = README.read_text()
    assert title in text, title
    return text.split(title, 1)[1].split("\n## ", 1)[0]


def test_default_certificate_accepts_tls_1_0_and_says_so(
    cfn: dict[str, Any], tf: Terraform
) -> None:
    """Without a custom certificate CloudFront's *.cloudfront.net policy is TLSv1."""
    for description in (
        cfn["Parameters"]["AcmCertificateArn"]["Description"],
        cfn["Parameters"]["MinimumProtocolVersion"]["Description"],
        tf.variables["acm_certificate_arn"]["description"],
    ):
        assert "TLSv1" in description and "1.1" in description, description
    tls = _section("### TLS")
    assert "TLS 1.0" in tls and "custom domain" in tls and "exec probes" in tls


def test_price_class_says_which_gates_it_can_meet(cfn: dict[str, Any], tf: Terraform) -> None:
    targets = load().targets_p95_ms
    assert "Asia" in targets  # the gate PriceClass_100 cannot meet
    for description in (
        cfn["Parameters"]["PriceClass"]["Description"],
        tf.variables["price_class"]["description"],
    ):
        assert "Asia" in description and "PriceClass_200" in description
    section = _section("### Price class and the gates")
    for price_class in ("PriceClass_100", "PriceClass_200", "PriceClass_All"):
        assert price_class in section


def test_dynamodb_encryption_is_described_as_the_billed_aws_managed_key() -> None:
    """SSEEnabled true is the AWS managed KMS key aws/dynamodb, not the free AWS owned key."""
    for path in (CFN_TEMPLATE, TF_DIR / "dynamodb.tf"):
        text = path.read_text()
        assert "owned-and-managed" not in text and "AWS owned key (aws/dynamodb)" not in text
        assert "AWS managed key aws/dynamodb" in text and "billed" in text, path.name


def test_both_flavours_bound_the_log_retention_alike(cfn: dict[str, Any], tf: Terraform) -> None:
    param = cfn["Parameters"]["LogRetentionDays"]
    (validation,) = tf.variables["log_retention_days"]["validation"]
    condition = validation["condition"]
    assert f">= {param['MinValue']}" in condition and f"<= {param['MaxValue']}" in condition


def test_budget_parameter_says_it_counts_cloudwatch(cfn: dict[str, Any], tf: Terraform) -> None:
    for description in (
        cfn["Parameters"]["MonthlyBudgetUsd"]["Description"],
        tf.variables["monthly_budget_usd"]["description"],
    ):
        assert "CloudWatch" in description


def test_examples_ship_blocked_and_public_read_is_a_phase(cfn: dict[str, Any]) -> None:
    """Item 8: public-read makes every upload world-readable and fails under account-level
    Block Public Access; the examples must not turn it on by being copied."""
    import json

    import hcl2

    from tests.deploy.conftest import _unquote

    example = json.loads((DEPLOY / "cloudformation" / "parameters.example.json").read_text())
    assert {p["ParameterKey"]: p["ParameterValue"] for p in example}[
        "LegacyDirectS3Read"
    ] == "blocked"
    tfvars = _unquote(hcl2.loads((TF_DIR / "terraform.tfvars.example").read_text()))
    assert tfvars["legacy_direct_s3_read"] == "blocked"
    assert cfn["Parameters"]["LegacyDirectS3Read"]["Default"] == "blocked"
    phases = _section("## Phased rollout")
    assert "public-read phase" in phases and "time-limited" in phases
    assert "Block Public Access" in phases
