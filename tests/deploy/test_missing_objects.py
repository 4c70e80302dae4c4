"""A missing image is a 404 cached 5 minutes, not a 403 cached 10 s (issue 14).

S3 answers a missing key with 404 only to a reader that may list the bucket; the distribution
gets ``s3:ListBucket`` limited to the uploads prefix, in OAC and OAI mode, in both flavours.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.conftest import Terraform, cfn_resources, cfn_statements

Template = dict[str, Any]
UPLOADS = "uploads/wishlist/*"


def _cfn_distribution(cfn: Template) -> dict[str, Any]:
    (dist,) = cfn_resources(cfn, "AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = dist["Properties"]["DistributionConfig"]
    return config


def test_cloudformation_oac_may_list_the_uploads_prefix(cfn: Template) -> None:
    stmt = cfn_statements(cfn, "UploadsBucketPolicy")["AllowCloudFrontOacListUploads"]
    assert (stmt["Effect"], stmt["Action"]) == ("Allow", "s3:ListBucket")
    assert stmt["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert stmt["Resource"] == {"Fn::GetAtt": ["UploadsBucket", "Arn"]}
    assert stmt["Condition"]["StringLike"] == {"s3:prefix": UPLOADS}
    source = stmt["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${Distribution}")


def test_cloudformation_oai_may_list_the_uploads_prefix(cfn: Template) -> None:
    stmt = cfn_statements(cfn, "UploadsBucketPolicy")["AllowCloudFrontOaiListUploads"]
    assert (stmt["Effect"], stmt["Action"]) == ("Allow", "s3:ListBucket")
    assert stmt["Principal"] == {
        "CanonicalUser": {"Fn::GetAtt": ["OriginAccessIdentity", "S3CanonicalUserId"]}
    }
    assert stmt["Condition"] == {"StringLike": {"s3:prefix": UPLOADS}}


def test_cloudformation_list_grant_follows_the_access_mode(cfn: Template) -> None:
    policy = cfn["Resources"]["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]
    branches = [
        s["Fn::If"]
        for s in policy["Statement"]
        if "Fn::If" in s and s["Fn::If"][1].get("Sid") == "AllowCloudFrontOacListUploads"
    ]
    assert branches == [["UseOac", branches[0][1], branches[0][2]]]
    assert branches[0][2]["Sid"] == "AllowCloudFrontOaiListUploads"


def test_terraform_may_list_the_uploads_prefix(tf: Terraform) -> None:
    stmts = tf.statements("uploads")
    oac, oai = stmts["AllowCloudFrontOacListUploads"], stmts["AllowCloudFrontOaiListUploads"]
    for stmt in (oac, oai):
        assert stmt["actions"] == ["s3:ListBucket"]
        assert stmt["resources"] == ["${aws_s3_bucket.uploads.arn}"]
        conds = {c["variable"]: c for c in stmt["condition"]}
        assert conds["s3:prefix"]["test"] == "StringLike"
        assert tf.resolve_locals(conds["s3:prefix"]["values"][0]) == UPLOADS
    source = {c["variable"]: c for c in oac["condition"]}["AWS:SourceArn"]
    assert source["values"] == ["${aws_cloudfront_distribution.images.arn}"]
    assert oac["principals"][0]["identifiers"] == ["cloudfront.amazonaws.com"]
    dynamic = tf.data("aws_iam_policy_document", "uploads")["dynamic"]
    modes = {d["statement"]["content"][0]["sid"]: d["statement"]["for_each"] for d in dynamic}
    assert modes["AllowCloudFrontOacListUploads"] == "${local.use_oac ? [1] : []}"
    assert modes["AllowCloudFrontOaiListUploads"] == "${local.use_oac ? [] : [1]}"


@pytest.mark.parametrize("flavour", ["cloudformation", "terraform"])
def test_404_cached_five_minutes_403_ten_seconds(
    flavour: str, cfn: Template, tf: Terraform
) -> None:
    if flavour == "cloudformation":
        pairs = {
            (e["ErrorCode"], e["ErrorCachingMinTTL"])
            for e in _cfn_distribution(cfn)["CustomErrorResponses"]
        }
    else:
        errors = tf.resource("aws_cloudfront_distribution", "images")["custom_error_response"]
        pairs = {(e["error_code"], e["error_caching_min_ttl"]) for e in errors}
    assert pairs == {(404, 300), (403, 10)}
