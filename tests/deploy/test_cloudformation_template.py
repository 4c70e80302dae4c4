"""Security and cost points of deploy/cloudformation/image-cdn.yaml (issue 7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.conftest import cfn_statements

Template = dict[str, Any]


def _one(template: Template, rtype: str) -> dict[str, Any]:
    found = [r for r in template["Resources"].values() if r["Type"] == rtype]
    assert len(found) == 1, f"expected exactly one {rtype}, found {len(found)}"
    return found[0]


def _props(template: Template, logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return props


def _sid(template: Template, policy_id: str, sid: str) -> dict[str, Any]:
    statements = cfn_statements(template, policy_id)
    assert sid in statements, f"{policy_id} has no statement {sid}"
    return statements[sid]


def _distribution(template: Template) -> dict[str, Any]:
    config: dict[str, Any] = _one(template, "AWS::CloudFront::Distribution")["Properties"][
        "DistributionConfig"
    ]
    return config


def test_origin_access_control_is_sigv4_and_named_per_stack(cfn: Template) -> None:
    oac = _one(cfn, "AWS::CloudFront::OriginAccessControl")
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert config["SigningProtocol"] == "sigv4"
    assert config["SigningBehavior"] == "always"
    assert config["OriginAccessControlOriginType"] == "s3"
    assert "${AWS::StackName}" in config["Name"]["Fn::Sub"]
    assert cfn["Parameters"]["OriginAccessMode"]["Default"] == "oac"
    assert set(cfn["Parameters"]["OriginAccessMode"]["AllowedValues"]) == {"oac", "oai"}
    origin = _distribution(cfn)["Origins"][0]
    assert origin["OriginAccessControlId"]["Fn::If"][0] == "UseOac"
    assert origin["OriginAccessControlId"]["Fn::If"][1] == {
        "Fn::GetAtt": ["OriginAccessControl", "Id"]
    }


def test_bucket_policy_grants_cloudfront_only_for_this_distribution(cfn: Template) -> None:
    stmt = _sid(cfn, "UploadsBucketPolicy", "AllowCloudFrontOacRead")
    assert stmt["Effect"] == "Allow"
    assert stmt["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert stmt["Action"] == "s3:GetObject"
    assert stmt["Resource"]["Fn::Sub"].endswith("/uploads/wishlist/*")
    source_arn = stmt["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source_arn.endswith(":distribution/${Distribution}")


def test_no_user_agent_condition_anywhere(cfn: Template) -> None:
    assert "useragent" not in json.dumps(cfn).lower()


@pytest.mark.parametrize("policy_id", ["UploadsBucketPolicy", "LogsBucketPolicy"])
def test_buckets_refuse_plain_http(cfn: Template, policy_id: str) -> None:
    stmt = _sid(cfn, policy_id, "DenyInsecureTransport")
    assert stmt["Effect"] == "Deny"
    assert stmt["Principal"] == "*"
    assert stmt["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_uploads_bucket_is_private_and_owner_enforced(cfn: Template) -> None:
    props = _props(cfn, "UploadsBucket")
    bpa = props["PublicAccessBlockConfiguration"]
    assert bpa["BlockPublicAcls"] is True
    assert bpa["IgnorePublicAcls"] is True
    # Relaxed only in the temporary legacy phase, which is not the default.
    for flag in ("BlockPublicPolicy", "RestrictPublicBuckets"):
        assert bpa[flag] == {"Fn::If": ["AllowLegacyPublicRead", False, True]}
    assert cfn["Parameters"]["LegacyDirectS3Read"]["Default"] == "blocked"
    assert props["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    public = _sid(cfn, "UploadsBucketPolicy", "TemporaryLegacyPublicRead")
    assert public["Resource"]["Fn::Sub"].endswith("/uploads/wishlist/*")


def test_cache_policy_keys_on_v_only(cfn: Template) -> None:
    config = _one(cfn, "AWS::CloudFront::CachePolicy")["Properties"]["CachePolicyConfig"]
    assert (config["DefaultTTL"], config["MaxTTL"], config["MinTTL"]) == (86400, 31536000, 0)
    params = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["QueryStringsConfig"]["QueryStringBehavior"] == "whitelist"
    assert params["QueryStringsConfig"]["QueryStrings"] == ["v"]
    assert params["CookiesConfig"] == {"CookieBehavior": "none"}
    assert params["HeadersConfig"] == {"HeaderBehavior": "none"}
    # Images are already compressed: Accept-Encoding in the key only splits entries (#25).
    assert params["EnableAcceptEncodingGzip"] is False
    assert params["EnableAcceptEncodingBrotli"] is False


def test_cache_behavior(cfn: Template) -> None:
    dist = _distribution(cfn)
    (behavior,) = dist["CacheBehaviors"]
    assert behavior["PathPattern"] == "/uploads/wishlist/*"
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert behavior["CachePolicyId"] == {"Ref": "ImageCachePolicy"}
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "ImageResponseHeadersPolicy"}
    assert behavior["Compress"] is False
    assert dist["DefaultCacheBehavior"]["Compress"] is False
    assert dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert dist["HttpVersion"] == "http2and3"
    assert dist["IPV6Enabled"] is True
    assert dist["PriceClass"] == {"Ref": "PriceClass"}
    assert cfn["Parameters"]["PriceClass"]["Default"] == "PriceClass_100"


def test_tls_minimum_is_a_parameter_defaulting_to_2025(cfn: Template) -> None:
    param = cfn["Parameters"]["MinimumProtocolVersion"]
    assert param["Default"] == "TLSv1.2_2025"
    assert set(param["AllowedValues"]) == {"TLSv1.2_2025", "TLSv1.2_2021"}
    cert = _distribution(cfn)["ViewerCertificate"]["Fn::If"]
    assert cert[0] == "HasCertificate"
    assert cert[1]["MinimumProtocolVersion"] == {"Ref": "MinimumProtocolVersion"}
    assert cert[1]["SslSupportMethod"] == "sni-only"


def test_response_headers_policy(cfn: Template) -> None:
    config = _one(cfn, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"][
        "ResponseHeadersPolicyConfig"
    ]
    hsts = config["SecurityHeadersConfig"]["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31536000
    assert "ContentTypeOptions" in config["SecurityHeadersConfig"]
    assert config["CorsConfig"]["AccessControlAllowOrigins"]["Items"] == [{"Ref": "WebAppOrigin"}]


def test_not_found_is_cached_for_five_minutes(cfn: Template) -> None:
    errors = {e["ErrorCode"]: e for e in _distribution(cfn)["CustomErrorResponses"]}
    assert errors[404]["ErrorCachingMinTTL"] == 300


def test_log_bucket_ownership_follows_logging_mode(cfn: Template) -> None:
    assert cfn["Parameters"]["LoggingMode"]["Default"] == "v2"
    assert cfn["Parameters"]["LogsBucketName"]["Default"] == "lego-moc-cloudfront-logs"
    assert cfn["Conditions"]["UseLegacyLogging"] == {
        "Fn::Equals": [{"Ref": "LoggingMode"}, "legacy"]
    }
    props = _props(cfn, "LogsBucket")
    ownership = props["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
    assert ownership == {
        "Fn::If": ["UseLegacyLogging", "BucketOwnerPreferred", "BucketOwnerEnforced"]
    }
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {
        "Ref": "LogRetentionDays"
    }
    assert "ServerSideEncryptionConfiguration" in props["BucketEncryption"]
    assert _distribution(cfn)["Logging"]["Fn::If"][0] == "UseLegacyLogging"
    for rtype in (
        "AWS::Logs::DeliverySource",
        "AWS::Logs::DeliveryDestination",
        "AWS::Logs::Delivery",
    ):
        assert _one(cfn, rtype)["Condition"] == "UseLoggingV2"
    assert _one(cfn, "AWS::Logs::DeliverySource")["Properties"]["LogType"] == "ACCESS_LOGS"
    delivery = _sid(cfn, "LogsBucketPolicy", "AllowCloudFrontLogDeliveryV2")
    assert delivery["Principal"] == {"Service": "delivery.logs.amazonaws.com"}


def test_budget_is_50_usd_on_cloudfront(cfn: Template) -> None:
    assert cfn["Parameters"]["MonthlyBudgetUsd"]["Default"] == 50
    budget = _one(cfn, "AWS::Budgets::Budget")["Properties"]["Budget"]
    assert budget["BudgetLimit"] == {"Amount": {"Ref": "MonthlyBudgetUsd"}, "Unit": "USD"}
    assert budget["TimeUnit"] == "MONTHLY"
    # The additional metrics (CacheHitRate, OriginLatency) are billed by CloudWatch (#25).
    assert budget["CostFilters"] == {"Service": ["Amazon CloudFront", "AmazonCloudWatch"]}


def test_5xx_alarm_uses_global_cloudfront_metric_in_us_east_1(cfn: Template) -> None:
    alarm = _props(cfn, "OriginErrorRateAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/CloudFront", "5xxErrorRate")
    dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dims == {"DistributionId": {"Ref": "Distribution"}, "Region": "Global"}
    assertion = cfn["Rules"]["CloudFrontResourcesLiveInUsEast1"]["Assertions"][0]["Assert"]
    assert assertion == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


def test_optional_waf(cfn: Template) -> None:
    assert cfn["Parameters"]["WebAclArn"]["Default"] == ""
    assert _distribution(cfn)["WebACLId"]["Fn::If"][0] == "HasWebAcl"


def test_service_policy_is_least_privilege(cfn: Template) -> None:
    doc = _props(cfn, "ImageResolverPolicy")["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["PresignWishlistObjects"]["Resource"]["Fn::Sub"].endswith("/uploads/wishlist/*")
    assert set(by_sid["RolloutTable"]["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem"}
    invalidate = by_sid["InvalidateThisDistribution"]
    assert invalidate["Resource"]["Fn::Sub"].endswith("distribution/${Distribution}")
    assert "*" not in json.dumps([s["Resource"] for s in doc["Statement"]]).replace("/*", "")


def test_outputs(cfn: Template) -> None:
    outputs = cfn["Outputs"]
    assert outputs["DistributionId"]["Value"] == {"Ref": "Distribution"}
    assert outputs["DistributionDomainName"]["Value"] == {
        "Fn::GetAtt": ["Distribution", "DomainName"]
    }
    assert "CLOUDFRONT_DISTRIBUTION_DOMAIN" in outputs["DistributionDomainName"]["Description"]
    assert "distribution/${Distribution}" in outputs["DistributionArn"]["Value"]["Fn::Sub"]
