"""A missing image is a 404 cached 5 minutes, not a 403 cached 10 s (issues 14 and 25).

S3 answers a missing key with 404 only to a reader that may list the bucket. An ``s3:prefix``
condition on that grant never matches a GetObject, so the distribution gets ``s3:ListBucket``
unconditionally (OAC: for this distribution only), in OAC and OAI mode, in both flavours; and
no request that could list the bucket ever reaches S3 (a 404 function on every other path).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.deploy.conftest import Terraform, cfn_resources, cfn_statements

Template = dict[str, Any]
UPLOADS = "uploads/wishlist/*"


def _cfn_distribution(cfn: Template) -> dict[str, Any]:
    (dist,) = cfn_resources(cfn, "AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = dist["Properties"]["DistributionConfig"]
    return config


def _no_prefix_condition(condition: dict[str, Any] | None) -> None:
    """A GetObject carries no s3:prefix: a ListBucket grant conditioned on it never applies to
    a miss, which then stays 403 (issue 25)."""
    assert "s3:prefix" not in json.dumps(condition or {})


def test_cloudformation_oac_may_list_the_bucket_unconditionally(cfn: Template) -> None:
    stmt = cfn_statements(cfn, "UploadsBucketPolicy")["AllowCloudFrontOacListForNotFound"]
    assert (stmt["Effect"], stmt["Action"]) == ("Allow", "s3:ListBucket")
    assert stmt["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert stmt["Resource"] == {"Fn::GetAtt": ["UploadsBucket", "Arn"]}
    _no_prefix_condition(stmt["Condition"])
    assert list(stmt["Condition"]) == ["StringEquals"]
    source = stmt["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${Distribution}")


def test_cloudformation_oai_may_list_the_bucket_unconditionally(cfn: Template) -> None:
    stmt = cfn_statements(cfn, "UploadsBucketPolicy")["AllowCloudFrontOaiListForNotFound"]
    assert (stmt["Effect"], stmt["Action"]) == ("Allow", "s3:ListBucket")
    assert stmt["Principal"] == {
        "CanonicalUser": {"Fn::GetAtt": ["OriginAccessIdentity", "S3CanonicalUserId"]}
    }
    _no_prefix_condition(stmt.get("Condition"))


def test_cloudformation_list_grant_follows_the_access_mode(cfn: Template) -> None:
    policy = cfn["Resources"]["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]
    branches = [
        s["Fn::If"]
        for s in policy["Statement"]
        if "Fn::If" in s and s["Fn::If"][1].get("Sid") == "AllowCloudFrontOacListForNotFound"
    ]
    assert branches == [["UseOac", branches[0][1], branches[0][2]]]
    assert branches[0][2]["Sid"] == "AllowCloudFrontOaiListForNotFound"


def test_terraform_may_list_the_bucket_unconditionally(tf: Terraform) -> None:
    stmts = tf.statements("uploads")
    oac = stmts["AllowCloudFrontOacListForNotFound"]
    oai = stmts["AllowCloudFrontOaiListForNotFound"]
    for stmt in (oac, oai):
        assert stmt["actions"] == ["s3:ListBucket"]
        assert stmt["resources"] == ["${aws_s3_bucket.uploads.arn}"]
        _no_prefix_condition({"c": stmt.get("condition", [])})
    (source,) = oac["condition"]
    assert (source["variable"], source["values"]) == (
        "AWS:SourceArn",
        ["${aws_cloudfront_distribution.images.arn}"],
    )
    assert "condition" not in oai
    assert oac["principals"][0]["identifiers"] == ["cloudfront.amazonaws.com"]
    dynamic = tf.data("aws_iam_policy_document", "uploads")["dynamic"]
    modes = {d["statement"]["content"][0]["sid"]: d["statement"]["for_each"] for d in dynamic}
    assert modes["AllowCloudFrontOacListForNotFound"] == "${local.use_oac ? [1] : []}"
    assert modes["AllowCloudFrontOaiListForNotFound"] == "${local.use_oac ? [] : [1]}"


# ------------------------------------------------------------ no listing is ever exposed
# The grant lets the distribution list the bucket; a listing is a request for the bucket root
# (/), never for an object path. So: the one behaviour that reaches S3 is /uploads/wishlist/*
# (forwarding only the v query string), and the default behaviour (every other path, / too)
# answers 404 from a viewer-request CloudFront Function before any origin request.

PATHS_OUTSIDE = ["/", "/?list-type=2", "/index.html", "/uploads/", "/uploads/wishlist", "/x/y.jpg"]


def _cfn_function_code(cfn: Template) -> str:
    (function,) = cfn_resources(cfn, "AWS::CloudFront::Function").values()
    props = function["Properties"]
    assert props["AutoPublish"] is True
    assert props["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    code: str = props["FunctionCode"]
    return code


def _tf_function_code(tf: Terraform) -> str:
    function = tf.resource("aws_cloudfront_function", "not_found")
    assert function["publish"] is True and function["runtime"] == "cloudfront-js-2.0"
    code: str = function["code"]
    return code


def _normalised(code: str) -> str:
    """Trimmed lines, without a heredoc's <<-EOT / EOT (python-hcl2 keeps them)."""
    lines = [line.strip() for line in code.strip().splitlines()]
    if lines and lines[0].startswith("<<"):
        lines = lines[1:-1]
    return "\n".join(lines)


def test_cloudformation_default_behaviour_answers_404_before_s3(cfn: Template) -> None:
    dist = _cfn_distribution(cfn)
    assert [b["PathPattern"] for b in dist["CacheBehaviors"]] == ["/uploads/wishlist/*"]
    (assoc,) = dist["DefaultCacheBehavior"]["FunctionAssociations"]
    assert assoc["EventType"] == "viewer-request"
    (logical_id,) = cfn_resources(cfn, "AWS::CloudFront::Function")
    assert assoc["FunctionARN"] == {"Fn::GetAtt": [logical_id, "FunctionMetadata.FunctionARN"]}
    assert "statusCode: 404" in _cfn_function_code(cfn)
    for behaviour in dist["CacheBehaviors"]:  # the uploads behaviour forwards no listing query
        assert behaviour["CachePolicyId"] == {"Ref": "ImageCachePolicy"}
        assert "OriginRequestPolicyId" not in behaviour
    (policy,) = cfn_resources(cfn, "AWS::CloudFront::CachePolicy").values()
    params = policy["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["QueryStringsConfig"]["QueryStrings"] == ["v"]


def test_terraform_default_behaviour_answers_404_before_s3(tf: Terraform) -> None:
    dist = tf.resource("aws_cloudfront_distribution", "images")
    assert [b["path_pattern"] for b in dist["ordered_cache_behavior"]] == ["/uploads/wishlist/*"]
    (assoc,) = dist["default_cache_behavior"][0]["function_association"]
    assert assoc["event_type"] == "viewer-request"
    assert assoc["function_arn"] == "${aws_cloudfront_function.not_found.arn}"
    for behaviour in dist["ordered_cache_behavior"]:
        assert behaviour["cache_policy_id"] == "${aws_cloudfront_cache_policy.images.id}"
        assert "origin_request_policy_id" not in behaviour


def test_both_flavours_ship_the_same_function(cfn: Template, tf: Terraform) -> None:
    assert _normalised(_cfn_function_code(cfn)) == _normalised(_tf_function_code(tf))


def test_the_function_answers_404_for_every_path_it_gets(cfn: Template) -> None:
    """Run the shipped code (CloudFront Functions are JavaScript) on viewer requests."""
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    events = [
        {"request": {"method": m, "uri": p.split("?")[0], "querystring": {}, "headers": {}}}
        for p in PATHS_OUTSIDE
        for m in ("GET", "HEAD")
    ]
    script = (
        _cfn_function_code(cfn)
        + "\nconst events = JSON.parse(process.argv[1]);"
        + "\nconsole.log(JSON.stringify(events.map(handler)));"
    )
    out = subprocess.run(
        [node, "-e", script, json.dumps(events)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    responses = json.loads(out.stdout)
    assert len(responses) == len(events)
    for response in responses:
        assert response["statusCode"] == 404  # a response, not the request: no origin fetch
        assert "uri" not in response


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
