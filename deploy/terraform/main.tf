data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id       = data.aws_caller_identity.current.account_id
  partition        = data.aws_partition.current.partition
  use_oac          = var.origin_access_mode == "oac"
  use_legacy_log   = var.logging_mode == "legacy"
  public_read      = var.legacy_direct_s3_read == "public-read"
  has_certificate  = var.acm_certificate_arn != ""
  create_topic     = var.existing_alert_topic_arn == ""
  alert_topic_arn  = local.create_topic ? aws_sns_topic.alerts[0].arn : var.existing_alert_topic_arn
  uploads_prefix   = "uploads/wishlist/"
  s3_access_prefix = "s3-access/${var.uploads_bucket_name}/"

  # Where access logs land. One definition for the delivery, the bucket policy and the Athena
  # table (outputs athena_*); ops/image_ops/accesslogs/athena.py renders the same layout
  # and tests/deploy/test_access_log_layout.py checks that all of them agree.
  access_log_prefix = "cloudfront/"
  # The format is in the path: changing it never mixes two formats under one Athena table.
  access_log_suffix_path   = "${local.access_log_prefix}${var.log_output_format}/{DistributionId}/{yyyy}/{MM}/{dd}"
  legacy_access_log_prefix = "cloudfront-legacy/"
  # The 33 fields, in order, that the Athena table reads by position (tab-separated): the v2
  # default field list is longer and ordered differently. Same list as accesslogs/fields.py.
  access_log_record_fields = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
  ]
  # The image-resolver's rollout document: ROLLOUT_STORE=dynamodb://<table>/<key>.
  rollout_item_key = "rollout"
}

# ------------------------------------------------------------------ CloudFront

resource "aws_cloudfront_origin_access_control" "uploads" {
  count = local.use_oac ? 1 : 0

  name                              = "${var.name}-uploads-oac"
  description                       = "SigV4 reads of s3://${var.uploads_bucket_name}/${local.uploads_prefix} for ${var.name}"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_origin_access_identity" "uploads" {
  count   = local.use_oac ? 0 : 1
  comment = "legacy OAI for ${var.name}"
}

resource "aws_cloudfront_cache_policy" "images" {
  name        = "${var.name}-wishlist-images"
  comment     = "24h default, keyed on the v query string only (cache busting)"
  default_ttl = 86400
  max_ttl     = 31536000
  min_ttl     = 0

  parameters_in_cache_key_and_forwarded_to_origin {
    # Images are already compressed (CloudFront does not compress image types): an
    # Accept-Encoding in the key would only split each image into several cache entries.
    enable_accept_encoding_gzip   = false
    enable_accept_encoding_brotli = false

    query_strings_config {
      query_string_behavior = "whitelist"
      query_strings {
        items = ["v"]
      }
    }

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }
  }
}

resource "aws_cloudfront_response_headers_policy" "images" {
  #checkov:skip=CKV_AWS_259:HSTS is one year with subdomains; preload is impossible for *.cloudfront.net and must be a deliberate choice for a custom domain.
  name    = "${var.name}-wishlist-images"
  comment = "HSTS, nosniff and CORS for the web app"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = false
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }

  cors_config {
    access_control_allow_credentials = false
    access_control_max_age_sec       = 600
    origin_override                  = true

    access_control_allow_origins {
      items = [var.web_app_origin]
    }
    access_control_allow_methods {
      items = ["GET", "HEAD", "OPTIONS"]
    }
    access_control_allow_headers {
      items = ["*"]
    }
  }
}

# Every path outside /uploads/wishlist/* (the default behaviour, / included) gets 404 here, at
# the edge: such a request never reaches S3, where the distribution may list the bucket (s3.tf).
# The same code is in deploy/cloudformation/image-cdn.yaml (a test compares them and runs them).
resource "aws_cloudfront_function" "not_found" {
  name    = "${var.name}-not-found"
  runtime = "cloudfront-js-2.0"
  comment = "404 for every path outside /uploads/wishlist/ (no request there reaches S3)"
  publish = true
  code    = <<-EOT
    function handler(event) {
      return {
        statusCode: 404,
        statusDescription: 'Not Found',
        headers: {'cache-control': {value: 'max-age=300'}}
      };
    }
  EOT
}

resource "aws_cloudfront_distribution" "images" {
  #checkov:skip=CKV_AWS_174:minimum_protocol_version is TLSv1.2_2021 whenever a certificate is given; the default *.cloudfront.net certificate has the fixed TLSv1 policy (TLS 1.0/1.1 accepted), documented at var.acm_certificate_arn and in deploy/README.md.
  #checkov:skip=CKV_AWS_305:Image CDN, not a website; there is no index document to serve at /.
  #checkov:skip=CKV_AWS_310:Single-region S3 origin; origin failover needs a replicated bucket, out of scope.
  #checkov:skip=CKV_AWS_374:Global audience; geo restriction is a Risk 3 response, not a default.
  #checkov:skip=CKV2_AWS_47:No Log4j anywhere behind this CDN (S3 origin only); WAF is opt-in via web_acl_arn.
  comment         = "wishlist images (${var.name})"
  enabled         = true
  http_version    = "http2and3"
  is_ipv6_enabled = true
  price_class     = var.price_class
  aliases         = var.aliases
  web_acl_id      = var.web_acl_arn == "" ? null : var.web_acl_arn
  tags            = var.tags

  origin {
    origin_id                = "wishlist-uploads"
    domain_name              = aws_s3_bucket.uploads.bucket_regional_domain_name
    origin_access_control_id = local.use_oac ? aws_cloudfront_origin_access_control.uploads[0].id : null

    dynamic "s3_origin_config" {
      for_each = local.use_oac ? [] : [1]
      content {
        origin_access_identity = aws_cloudfront_origin_access_identity.uploads[0].cloudfront_access_identity_path
      }
    }
  }

  ordered_cache_behavior {
    path_pattern               = "/uploads/wishlist/*"
    target_origin_id           = "wishlist-uploads"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = aws_cloudfront_cache_policy.images.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.images.id
  }

  # CloudFront requires a default behaviour: every path outside /uploads/wishlist/*, and /.
  # The not_found function answers all of them 404 at the viewer-request stage, so none
  # reaches S3 (where the distribution may list the bucket).
  default_cache_behavior {
    target_origin_id           = "wishlist-uploads"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = aws_cloudfront_cache_policy.images.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.images.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.not_found.arn
    }
  }

  # The bucket policy grants the distribution s3:ListBucket, so a missing image is a 404 from
  # S3, cached 5 minutes (the story's negative caching).
  custom_error_response {
    error_code            = 404
    error_caching_min_ttl = 300
  }

  # 403 now means a broken OAC or bucket policy (paths outside the prefix are 404). Keep it
  # short so a repaired bucket policy (Risk 4) takes effect within the 5-minute rollback target.
  custom_error_response {
    error_code            = 403
    error_caching_min_ttl = 10
  }

  dynamic "logging_config" {
    for_each = local.use_legacy_log ? [1] : []
    content {
      bucket          = aws_s3_bucket.logs.bucket_domain_name
      prefix          = local.legacy_access_log_prefix
      include_cookies = false
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  # Without acm_certificate_arn: *.cloudfront.net, whose policy is fixed at TLSv1 (viewers may
  # use TLS 1.0/1.1). A custom domain with an ACM certificate gets minimum_protocol_version.
  viewer_certificate {
    cloudfront_default_certificate = !local.has_certificate
    acm_certificate_arn            = local.has_certificate ? var.acm_certificate_arn : null
    ssl_support_method             = local.has_certificate ? "sni-only" : null
    minimum_protocol_version       = local.has_certificate ? var.minimum_protocol_version : "TLSv1"
  }

  lifecycle {
    precondition {
      condition     = data.aws_region.current.name == "us-east-1"
      error_message = "Use an aws provider for us-east-1: CloudFront certificates, metrics and log delivery sources live there."
    }
    precondition {
      condition     = length(var.aliases) == 0 || local.has_certificate
      error_message = "aliases need acm_certificate_arn."
    }
  }

  depends_on = [aws_s3_bucket_ownership_controls.logs]
}

# ------------------------------------------------------------------ standard logging v2

resource "aws_cloudwatch_log_delivery_source" "access" {
  count = local.use_legacy_log ? 0 : 1

  name         = "${var.name}-cf-access"
  log_type     = "ACCESS_LOGS"
  resource_arn = aws_cloudfront_distribution.images.arn
  tags         = var.tags
}

resource "aws_cloudwatch_log_delivery_destination" "access_s3" {
  count = local.use_legacy_log ? 0 : 1

  name          = "${var.name}-cf-access-s3"
  output_format = var.log_output_format
  tags          = var.tags

  delivery_destination_configuration {
    destination_resource_arn = aws_s3_bucket.logs.arn
  }
}

resource "aws_cloudwatch_log_delivery" "access" {
  count = local.use_legacy_log ? 0 : 1

  delivery_source_name     = aws_cloudwatch_log_delivery_source.access[0].name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.access_s3[0].arn
  record_fields            = local.access_log_record_fields
  # The delimiter applies to the delimited formats only (w3c, plain).
  field_delimiter = contains(["w3c", "plain"], var.log_output_format) ? "\t" : null
  tags            = var.tags

  # Keys: cloudfront/<format>/{DistributionId}/{yyyy}/{MM}/{dd}/<file>, the Athena tables' projection.
  s3_delivery_configuration {
    suffix_path                 = local.access_log_suffix_path
    enable_hive_compatible_path = false
  }

  depends_on = [aws_s3_bucket_policy.logs]
}
