"""The same security and cost points, on deploy/terraform (parsed with python-hcl2)."""

from __future__ import annotations

from typing import Any

from tests.deploy.conftest import Terraform


def _statements(tf: Terraform, name: str) -> dict[str, dict[str, Any]]:
    return tf.statements(name)


def _distribution(tf: Terraform) -> dict[str, Any]:
    return tf.resource("aws_cloudfront_distribution", "images")


def test_origin_access_control_is_sigv4_and_named_per_stack(tf: Terraform) -> None:
    oac = tf.resource("aws_cloudfront_origin_access_control", "uploads")
    assert oac["signing_protocol"] == "sigv4"
    assert oac["signing_behavior"] == "always"
    assert oac["origin_access_control_origin_type"] == "s3"
    assert "${var.name}" in oac["name"]
    assert tf.variables["origin_access_mode"]["default"] == "oac"
    origin = _distribution(tf)["origin"][0]
    assert (
        "aws_cloudfront_origin_access_control.uploads[0].id" in origin["origin_access_control_id"]
    )


def test_bucket_policy_grants_cloudfront_only_for_this_distribution(tf: Terraform) -> None:
    stmt = _statements(tf, "uploads")["AllowCloudFrontOacRead"]
    assert stmt["effect"] == "Allow"
    assert stmt["actions"] == ["s3:GetObject"]
    assert stmt["resources"][0].endswith("/${local.uploads_prefix}*")
    assert stmt["principals"][0] == {"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}
    (cond,) = stmt["condition"]
    assert (cond["test"], cond["variable"]) == ("StringEquals", "AWS:SourceArn")
    assert cond["values"] == ["${aws_cloudfront_distribution.images.arn}"]
    assert tf.locals["uploads_prefix"] == "uploads/wishlist/"


def test_no_user_agent_condition_anywhere(tf: Terraform) -> None:
    assert "useragent" not in tf.dump().lower()


def test_buckets_refuse_plain_http(tf: Terraform) -> None:
    for name in ("uploads", "logs"):
        stmt = _statements(tf, name)["DenyInsecureTransport"]
        assert stmt["effect"] == "Deny"
        (cond,) = stmt["condition"]
        assert (cond["variable"], cond["values"]) == ("aws:SecureTransport", ["false"])


def test_uploads_bucket_is_private_and_owner_enforced(tf: Terraform) -> None:
    bpa = tf.resource("aws_s3_bucket_public_access_block", "uploads")
    assert bpa["block_public_acls"] is True
    assert bpa["ignore_public_acls"] is True
    assert bpa["block_public_policy"] == "${!local.public_read}"
    assert bpa["restrict_public_buckets"] == "${!local.public_read}"
    assert tf.variables["legacy_direct_s3_read"]["default"] == "blocked"
    rule = tf.resource("aws_s3_bucket_ownership_controls", "uploads")["rule"][0]
    assert rule["object_ownership"] == "BucketOwnerEnforced"


def test_cache_policy_keys_on_v_only(tf: Terraform) -> None:
    policy = tf.resource("aws_cloudfront_cache_policy", "images")
    assert (policy["default_ttl"], policy["max_ttl"], policy["min_ttl"]) == (86400, 31536000, 0)
    params = policy["parameters_in_cache_key_and_forwarded_to_origin"][0]
    qs = params["query_strings_config"][0]
    assert qs["query_string_behavior"] == "whitelist"
    assert qs["query_strings"][0]["items"] == ["v"]
    assert params["cookies_config"][0]["cookie_behavior"] == "none"
    assert params["headers_config"][0]["header_behavior"] == "none"
    # Images are already compressed: Accept-Encoding in the key only splits entries (#25).
    assert params["enable_accept_encoding_gzip"] is False
    assert params["enable_accept_encoding_brotli"] is False


def test_cache_behavior(tf: Terraform) -> None:
    dist = _distribution(tf)
    (behavior,) = dist["ordered_cache_behavior"]
    assert behavior["path_pattern"] == "/uploads/wishlist/*"
    assert behavior["viewer_protocol_policy"] == "redirect-to-https"
    assert behavior["allowed_methods"] == ["GET", "HEAD", "OPTIONS"]
    assert behavior["cache_policy_id"] == "${aws_cloudfront_cache_policy.images.id}"
    assert behavior["compress"] is False and dist["default_cache_behavior"][0]["compress"] is False
    assert dist["default_cache_behavior"][0]["viewer_protocol_policy"] == "redirect-to-https"
    assert dist["http_version"] == "http2and3"
    assert dist["is_ipv6_enabled"] is True
    assert tf.variables["price_class"]["default"] == "PriceClass_100"


def test_tls_minimum_agrees_with_the_provider_versions_claimed(tf: Terraform) -> None:
    """aws provider 5.x refuses TLSv1.2_2025 at plan time: the module claims 5.x only."""
    (versions,) = [b["required_providers"][0]["aws"] for b in tf.blocks["terraform"]]
    assert versions["version"] == ">= 5.100.0, < 6.0.0"
    assert tf.variables["minimum_protocol_version"]["default"] == "TLSv1.2_2021"
    assert (
        "TLSv1.2_2025" not in tf.variables["minimum_protocol_version"]["validation"][0]["condition"]
    )
    cert = _distribution(tf)["viewer_certificate"][0]
    assert "var.minimum_protocol_version" in cert["minimum_protocol_version"]


def test_response_headers_policy(tf: Terraform) -> None:
    policy = tf.resource("aws_cloudfront_response_headers_policy", "images")
    hsts = policy["security_headers_config"][0]["strict_transport_security"][0]
    assert hsts["access_control_max_age_sec"] >= 31536000
    assert "content_type_options" in policy["security_headers_config"][0]
    origins = policy["cors_config"][0]["access_control_allow_origins"][0]["items"]
    assert origins == ["${var.web_app_origin}"]


def test_not_found_is_cached_for_five_minutes(tf: Terraform) -> None:
    errors = {e["error_code"]: e for e in _distribution(tf)["custom_error_response"]}
    assert errors[404]["error_caching_min_ttl"] == 300


def test_log_bucket_ownership_follows_logging_mode(tf: Terraform) -> None:
    assert tf.variables["logging_mode"]["default"] == "v2"
    assert tf.variables["logs_bucket_name"]["default"] == "lego-moc-cloudfront-logs"
    rule = tf.resource("aws_s3_bucket_ownership_controls", "logs")["rule"][0]
    assert rule["object_ownership"] == (
        '${local.use_legacy_log ? "BucketOwnerPreferred" : "BucketOwnerEnforced"}'
    )
    assert tf.locals["use_legacy_log"] == '${var.logging_mode == "legacy"}'
    for rtype in (
        "aws_cloudwatch_log_delivery_source",
        "aws_cloudwatch_log_delivery_destination",
        "aws_cloudwatch_log_delivery",
    ):
        (res,) = tf.resources(rtype).values()
        assert res["count"] == "${local.use_legacy_log ? 0 : 1}"
    lifecycle = tf.resource("aws_s3_bucket_lifecycle_configuration", "logs")["rule"][0]
    assert lifecycle["expiration"][0]["days"] == "${var.log_retention_days}"
    assert tf.resources("aws_s3_bucket_server_side_encryption_configuration").get("logs")
    assert "for_each" in _distribution(tf)["dynamic"][0]["logging_config"]


def test_budget_is_50_usd_on_cloudfront(tf: Terraform) -> None:
    assert tf.variables["monthly_budget_usd"]["default"] == 50
    budget = tf.resource("aws_budgets_budget", "cloudfront")
    assert budget["limit_amount"] == "${tostring(var.monthly_budget_usd)}"
    assert budget["time_unit"] == "MONTHLY"
    assert budget["cost_filter"][0] == {
        "name": "Service",
        "values": ["Amazon CloudFront", "AmazonCloudWatch"],
    }


def test_5xx_alarm_uses_global_cloudfront_metric_in_us_east_1(tf: Terraform) -> None:
    alarm = tf.resource("aws_cloudwatch_metric_alarm", "cloudfront")
    assert alarm["namespace"] == "AWS/CloudFront"
    assert tf.locals["cloudfront_alarms"]["5xx"]["metric"] == "5xxErrorRate"
    assert alarm["dimensions"]["Region"] == "Global"
    preconditions = _distribution(tf)["lifecycle"][0]["precondition"]
    assert any("us-east-1" in p["condition"] for p in preconditions)


def test_outputs(tf: Terraform) -> None:
    outputs = tf.outputs
    assert outputs["distribution_id"]["value"] == "${aws_cloudfront_distribution.images.id}"
    assert "CLOUDFRONT_DISTRIBUTION_DOMAIN" in outputs["distribution_domain_name"]["description"]
    assert outputs["distribution_arn"]["value"] == "${aws_cloudfront_distribution.images.arn}"


def test_variables_match_cloudformation_parameters(tf: Terraform, cfn: dict[str, Any]) -> None:
    def snake(name: str) -> str:
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")

    expected = {snake(p) for p in cfn["Parameters"]}
    assert expected <= set(tf.variables), expected - set(tf.variables)
