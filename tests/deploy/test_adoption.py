"""Item 6 of issue 25: adopting the two existing buckets.

CloudFormation: an IMPORT change set cannot add other resources or outputs and refuses a
BucketName from !Ref, so step 1 is a template with only the two buckets (literal names, the
full template's logical ids, Retain), step 2 an update with image-cdn.yaml. Terraform: an
apply after importing only the buckets would create (and so overwrite) every bucket setting,
so the import blocks list each setting of both buckets."""

from __future__ import annotations

import json
from typing import Any

import hcl2

from tests.deploy.conftest import DEPLOY, TF_DIR, Terraform, _unquote, cfn_resources

IMPORT_TEMPLATE = DEPLOY / "cloudformation" / "import-buckets.yaml"
PARAMETERS_EXAMPLE = DEPLOY / "cloudformation" / "parameters.example.json"
README = DEPLOY / "README.md"


def _load(path: Any) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    template: dict[str, Any] = cfn_yaml.load(str(path))
    return template


def test_step_one_holds_only_the_two_buckets_by_literal_name(cfn: dict[str, Any]) -> None:
    step1 = _load(IMPORT_TEMPLATE)
    assert set(step1) <= {"AWSTemplateFormatVersion", "Description", "Resources"}
    full_buckets = cfn_resources(cfn, "AWS::S3::Bucket")
    assert set(step1["Resources"]) == set(full_buckets) == {"UploadsBucket", "LogsBucket"}
    example = {
        p["ParameterKey"]: p["ParameterValue"] for p in json.loads(PARAMETERS_EXAMPLE.read_text())
    }
    for logical_id, bucket in step1["Resources"].items():
        assert bucket["Type"] == "AWS::S3::Bucket"
        assert bucket["DeletionPolicy"] == full_buckets[logical_id]["DeletionPolicy"] == "Retain"
        # Only the name: anything else would be recorded as applied and never applied.
        assert set(bucket["Properties"]) == {"BucketName"}
        name = bucket["Properties"]["BucketName"]
        assert isinstance(name, str), f"{logical_id}: IMPORT refuses BucketName from !Ref"
        parameter = full_buckets[logical_id]["Properties"]["BucketName"]["Ref"]
        assert name == cfn["Parameters"][parameter]["Default"] == example[parameter]


def test_readme_runs_both_steps(cfn: dict[str, Any]) -> None:
    text = README.read_text()
    assert "--change-set-type IMPORT" in text and "import-buckets.yaml" in text
    for logical_id in cfn_resources(cfn, "AWS::S3::Bucket"):
        assert f'"LogicalResourceId":"{logical_id}"' in text.replace(" ", "")
    assert "aws cloudformation update-stack" in text or "--change-set-type UPDATE" in text


def test_terraform_imports_every_setting_of_both_buckets(tf: Terraform) -> None:
    with (TF_DIR / "imports.tf.example").open() as fh:
        blocks = _unquote(hcl2.load(fh))["import"]
    imported = {b["to"].strip("${}"): b["id"] for b in blocks}
    buckets = {"uploads": tf.variables["uploads_bucket_name"]["default"],
               "logs": tf.variables["logs_bucket_name"]["default"]}  # fmt: skip
    expected = {}
    for kind in tf.blocks.get("resource", []):
        for rtype, named in kind.items():
            if not rtype.startswith("aws_s3_bucket"):
                continue
            for name, body in named.items():
                target = body.get("bucket", "")
                for bucket, bucket_name in buckets.items():
                    is_bucket = rtype == "aws_s3_bucket" and name == bucket
                    if is_bucket or target == f"${{aws_s3_bucket.{bucket}.id}}":
                        expected[f"{rtype}.{name}"] = bucket_name
    assert {"aws_s3_bucket_policy.uploads", "aws_s3_bucket_lifecycle_configuration.uploads",
            "aws_s3_bucket_cors_configuration.uploads"} <= set(expected)  # fmt: skip
    assert imported == expected


def test_readme_says_what_a_terraform_apply_would_overwrite() -> None:
    text = README.read_text()
    assert "imports.tf.example" in text
    for setting in ("policy", "lifecycle", "CORS"):
        assert setting in text.split("## Adopting the existing buckets", 1)[1].split("\n## ", 1)[0]
