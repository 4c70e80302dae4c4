# `terraform test` plans of the module with a mocked aws provider: no credentials, no network.
# deploy/check.sh runs it (fmt, init -backend=false, validate, test) where terraform exists.

mock_provider "aws" {
  source = "./tests/mocks"
}

# Known ARNs/ids at plan time for the resources the assertions look through.
override_resource {
  target          = aws_s3_bucket.logs
  override_during = plan
  values = {
    id                 = "lego-moc-cloudfront-logs"
    arn                = "arn:aws:s3:::lego-moc-cloudfront-logs"
    bucket_domain_name = "lego-moc-cloudfront-logs.s3.amazonaws.com"
  }
}

override_resource {
  target          = aws_s3_bucket.uploads
  override_during = plan
  values = {
    id                          = "lego-moc-wishlist-uploads"
    arn                         = "arn:aws:s3:::lego-moc-wishlist-uploads"
    bucket_regional_domain_name = "lego-moc-wishlist-uploads.s3.us-east-1.amazonaws.com"
  }
}

override_resource {
  target          = aws_cloudfront_distribution.images
  override_during = plan
  values = {
    id  = "E2EXAMPLE0DIST"
    arn = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0DIST"
  }
}

override_resource {
  target          = aws_dynamodb_table.rollout
  override_during = plan
  values = {
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/wishlist-image-cdn-rollout"
  }
}

# ------------------------------------------------------------------ 1. defaults
run "defaults" {
  command = plan

  assert {
    condition     = length(aws_cloudfront_origin_access_control.uploads) == 1 && length(aws_cloudfront_origin_access_identity.uploads) == 0
    error_message = "default origin access must be OAC, without an OAI"
  }
  assert {
    condition     = aws_cloudfront_distribution.images.viewer_certificate[0].cloudfront_default_certificate && aws_cloudfront_distribution.images.viewer_certificate[0].minimum_protocol_version == "TLSv1"
    error_message = "without a certificate the *.cloudfront.net certificate (TLSv1 policy) is used"
  }
  assert {
    condition     = aws_cloudfront_distribution.images.web_acl_id == null && length(aws_cloudfront_distribution.images.logging_config) == 0
    error_message = "defaults: no WAF, no legacy logging block"
  }
  assert {
    condition     = { for e in aws_cloudfront_distribution.images.custom_error_response : e.error_code => e.error_caching_min_ttl } == { 404 = 300, 403 = 10 }
    error_message = "404 cached 300 s, 403 cached 10 s"
  }
  # Missing objects are 404: the distribution may list the bucket, with no s3:prefix condition
  # (a GetObject carries none, so such a condition never matched a miss: issue 25)...
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.uploads.statement :
      s.sid == "AllowCloudFrontOacListForNotFound" && s.actions == toset(["s3:ListBucket"])
      && s.resources == toset(["arn:aws:s3:::lego-moc-wishlist-uploads"])
      && [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"] == ["StringEquals AWS:SourceArn arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0DIST"]
    ])
    error_message = "the distribution must be granted s3:ListBucket (404 for misses), for this distribution only, with no s3:prefix condition"
  }
  # ... and no request outside /uploads/wishlist/* (/ included) can reach S3 to list it.
  assert {
    condition = (
      [for b in aws_cloudfront_distribution.images.ordered_cache_behavior : b.path_pattern] == ["/uploads/wishlist/*"]
      && length(aws_cloudfront_distribution.images.default_cache_behavior[0].function_association) == 1
      && alltrue([for f in aws_cloudfront_distribution.images.default_cache_behavior[0].function_association : f.event_type == "viewer-request"])
      && strcontains(aws_cloudfront_function.not_found.code, "statusCode: 404")
      && aws_cloudfront_function.not_found.publish
    )
    error_message = "every path outside /uploads/wishlist/* must get the viewer-request 404 function"
  }
  # Images: no Accept-Encoding in the key (one cache entry per image), nothing compressed.
  assert {
    condition = (
      !aws_cloudfront_cache_policy.images.parameters_in_cache_key_and_forwarded_to_origin[0].enable_accept_encoding_gzip
      && !aws_cloudfront_cache_policy.images.parameters_in_cache_key_and_forwarded_to_origin[0].enable_accept_encoding_brotli
      && !aws_cloudfront_distribution.images.default_cache_behavior[0].compress
      && alltrue([for b in aws_cloudfront_distribution.images.ordered_cache_behavior : !b.compress])
    )
    error_message = "images: Accept-Encoding out of the cache key, compression off"
  }
  assert {
    condition     = output.alarm_prefix == "wishlist-image-cdn-cloudfront-" && alltrue([for a in aws_cloudwatch_metric_alarm.cloudfront : startswith(a.alarm_name, output.alarm_prefix)])
    error_message = "every alarm is under the alarm_prefix output (what the gates file must use)"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.image_resolver.statement :
    s.sid == "InvalidateThisDistribution" && s.actions == toset(["cloudfront:CreateInvalidation"])])
    error_message = "the resolver may create invalidations, nothing more (it never calls GetInvalidation)"
  }
  assert {
    condition     = length(aws_iam_role.image_resolver) == 0 && length(aws_iam_role.image_probe) == 0 && output.probe_results_url == null
    error_message = "no IRSA roles without eks_oidc_provider_arn"
  }
  # Standard logging v2 writes where the Athena table reads.
  assert {
    condition     = aws_cloudwatch_log_delivery.access[0].s3_delivery_configuration[0].suffix_path == "cloudfront/{DistributionId}/{yyyy}/{MM}/{dd}"
    error_message = "v2 delivery suffix path must be cloudfront/{DistributionId}/{yyyy}/{MM}/{dd}"
  }
  assert {
    condition = (
      aws_cloudwatch_log_delivery.access[0].field_delimiter == "\t"
      && length(aws_cloudwatch_log_delivery.access[0].record_fields) == 33
      && aws_cloudwatch_log_delivery.access[0].record_fields[0] == "date"
      && aws_cloudwatch_log_delivery.access[0].record_fields[32] == "sc-range-end"
    )
    error_message = "v2 delivery writes the 33 tab-separated columns the Athena table reads by position"
  }
  assert {
    condition     = output.athena_table_location == "s3://lego-moc-cloudfront-logs/cloudfront/"
    error_message = "Athena LOCATION must be the delivery prefix"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.logs.statement :
    s.sid == "AllowCloudFrontLogDeliveryV2" && s.resources == toset(["arn:aws:s3:::lego-moc-cloudfront-logs/cloudfront/*"])])
    error_message = "the logs bucket policy must allow v2 delivery under cloudfront/"
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.logs.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "v2 logging keeps the logs bucket owner-enforced"
  }
  # Monitoring.
  assert {
    condition     = aws_cloudfront_monitoring_subscription.images.monitoring_subscription[0].realtime_metrics_subscription_config[0].realtime_metrics_subscription_status == "Enabled"
    error_message = "additional CloudFront metrics must be on (CacheHitRate, OriginLatency)"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.cloudfront["cache-hit-rate"].metric_name == "CacheHitRate"
      && aws_cloudwatch_metric_alarm.cloudfront["cache-hit-rate"].threshold == 80
      && aws_cloudwatch_metric_alarm.cloudfront["cache-hit-rate"].comparison_operator == "LessThanThreshold"
    )
    error_message = "CacheHitRate alarm below 80 % (AC14)"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.cloudfront["origin-latency"].metric_name == "OriginLatency"
      && aws_cloudwatch_metric_alarm.cloudfront["origin-latency"].extended_statistic == "p90"
      && aws_cloudwatch_metric_alarm.cloudfront["origin-latency"].statistic == null
    )
    error_message = "OriginLatency alarm on p90"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.cloudfront["4xx"].metric_name == "4xxErrorRate"
      && aws_cloudwatch_metric_alarm.cloudfront["5xx"].metric_name == "5xxErrorRate"
      && alltrue([for a in aws_cloudwatch_metric_alarm.cloudfront : a.dimensions["DistributionId"] == "E2EXAMPLE0DIST" && a.dimensions["Region"] == "Global"])
    )
    error_message = "4xx and 5xx rate alarms on this distribution, Region=Global"
  }
  assert {
    condition     = toset([for n in aws_budgets_budget.cloudfront.notification : "${n.notification_type}:${n.threshold}"]) == toset(["ACTUAL:80", "FORECASTED:100", "ACTUAL:100"])
    error_message = "budget notifications: 80 % actual, 100 % forecast, 100 % actual"
  }
  assert {
    condition     = anytrue([for f in aws_budgets_budget.cloudfront.cost_filter : f.name == "Service" && toset(f.values) == toset(["Amazon CloudFront", "AmazonCloudWatch"])])
    error_message = "the budget counts CloudWatch too (the additional metrics are billed there)"
  }
  # Rollout table (issue 12) and the pods' least-privilege grant on it.
  assert {
    condition = (
      aws_dynamodb_table.rollout.name == "wishlist-image-cdn-rollout"
      && aws_dynamodb_table.rollout.billing_mode == "PAY_PER_REQUEST"
      && aws_dynamodb_table.rollout.hash_key == "id"
      && aws_dynamodb_table.rollout.attribute == toset([{ name = "id", type = "S" }])
      && aws_dynamodb_table.rollout.point_in_time_recovery[0].enabled
      && aws_dynamodb_table.rollout.server_side_encryption[0].enabled
      && aws_dynamodb_table.rollout.deletion_protection_enabled
    )
    error_message = "rollout table: on-demand, id (S) key, PITR, SSE, deletion protection"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.image_resolver.statement :
      s.sid == "RolloutTable" && s.actions == toset(["dynamodb:GetItem", "dynamodb:PutItem"])
      && s.resources == toset(["arn:aws:dynamodb:us-east-1:123456789012:table/wishlist-image-cdn-rollout"])
      && contains([for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"], "ForAllValues:StringEquals dynamodb:LeadingKeys rollout")
    ])
    error_message = "image-resolver may GetItem/PutItem the rollout item of that table only"
  }
  assert {
    condition     = !anytrue([for s in data.aws_iam_policy_document.image_resolver.statement : anytrue([for a in s.actions : startswith(a, "ssm:")])])
    error_message = "the SSM rollout grant is gone with the SSM store"
  }
  assert {
    condition     = output.rollout_store_url == "dynamodb://wishlist-image-cdn-rollout/rollout" && output.rollout_table_name == "wishlist-image-cdn-rollout"
    error_message = "ROLLOUT_STORE output"
  }
}

# ------------------------------------------------------------------ 2. custom domain + ACM
run "custom_domain_with_acm_certificate" {
  command = plan

  variables {
    aliases             = ["images.lego-moc.com"]
    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
  }

  assert {
    condition     = aws_cloudfront_distribution.images.aliases == toset(["images.lego-moc.com"])
    error_message = "aliases reach the distribution"
  }
  assert {
    condition = (
      !aws_cloudfront_distribution.images.viewer_certificate[0].cloudfront_default_certificate
      && aws_cloudfront_distribution.images.viewer_certificate[0].acm_certificate_arn == var.acm_certificate_arn
      && aws_cloudfront_distribution.images.viewer_certificate[0].ssl_support_method == "sni-only"
      && aws_cloudfront_distribution.images.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021"
    )
    error_message = "ACM certificate, SNI only, TLSv1.2_2021 (newest policy provider 5.x plans)"
  }
}

# The issue's finding: 5.x rejects TLSv1.2_2025, so the module refuses it at the variable.
run "tls_2025_is_refused_on_provider_5" {
  command = plan

  variables {
    aliases                  = ["images.lego-moc.com"]
    acm_certificate_arn      = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    minimum_protocol_version = "TLSv1.2_2025"
  }

  expect_failures = [var.minimum_protocol_version]
}

run "aliases_without_certificate_fail" {
  command = plan

  variables {
    aliases = ["images.lego-moc.com"]
  }

  expect_failures = [aws_cloudfront_distribution.images]
}

run "outside_us_east_1_fails" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = { name = "eu-west-1" }
  }

  expect_failures = [aws_cloudfront_distribution.images]
}

# ------------------------------------------------------------------ 3. OAI mode
run "oai_mode" {
  command = plan

  variables {
    origin_access_mode = "oai"
  }

  assert {
    condition     = length(aws_cloudfront_origin_access_control.uploads) == 0 && length(aws_cloudfront_origin_access_identity.uploads) == 1
    error_message = "OAI mode: an OAI and no OAC"
  }
  assert {
    condition     = length(aws_cloudfront_distribution.images.origin) == 1 && alltrue([for o in aws_cloudfront_distribution.images.origin : length(o.s3_origin_config) == 1 && o.origin_access_control_id == null])
    error_message = "OAI mode: the origin uses s3_origin_config, not an OAC"
  }
  assert {
    condition = (
      toset([for s in data.aws_iam_policy_document.uploads.statement : s.sid]) == toset(["DenyInsecureTransport", "AllowCloudFrontOaiListForNotFound", "AllowCloudFrontOaiRead"])
      && anytrue([for s in data.aws_iam_policy_document.uploads.statement :
        s.sid == "AllowCloudFrontOaiListForNotFound" && s.actions == toset(["s3:ListBucket"])
        && length(s.condition) == 0
      ])
    )
    error_message = "OAI mode: the OAI reads uploads/wishlist/ and lists the bucket (404 for misses, no s3:prefix condition), nothing for the OAC"
  }
}

# ------------------------------------------------------------------ 4. legacy logging
run "legacy_logging" {
  command = plan

  variables {
    logging_mode = "legacy"
  }

  assert {
    condition = (
      length(aws_cloudfront_distribution.images.logging_config) == 1
      && aws_cloudfront_distribution.images.logging_config[0].prefix == "cloudfront-legacy/"
      && aws_cloudfront_distribution.images.logging_config[0].bucket == "lego-moc-cloudfront-logs.s3.amazonaws.com"
    )
    error_message = "legacy logging writes to its own prefix, apart from the v2 layout Athena reads"
  }
  assert {
    condition     = length(aws_cloudwatch_log_delivery.access) == 0 && length(aws_cloudwatch_log_delivery_source.access) == 0 && length(aws_cloudwatch_log_delivery_destination.access_s3) == 0
    error_message = "legacy logging: no v2 delivery"
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.logs.rule[0].object_ownership == "BucketOwnerPreferred"
    error_message = "legacy logging needs ACLs on the log bucket"
  }
}

# ------------------------------------------------------------------ 5. WAF on
run "waf_on" {
  command = plan

  variables {
    web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/wishlist-images/0a1b2c3d-1111-2222-3333-444455556666"
  }

  assert {
    condition     = aws_cloudfront_distribution.images.web_acl_id == var.web_acl_arn
    error_message = "the web ACL is attached to the distribution"
  }
}

# ------------------------------------------------------------------ 6. log retention validated
run "log_retention_days_out_of_range" {
  command = plan

  variables {
    log_retention_days = 0
  }

  expect_failures = [var.log_retention_days]
}
