# ------------------------------------------------------------------ access logs bucket

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_144:Access logs are disposable (lifecycle expiry); cross-region replication is not worth its cost.
  #checkov:skip=CKV_AWS_145:SSE-S3 on purpose: legacy and v2 log delivery and Athena work without a KMS key policy.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object-created events for logs; Athena reads them on demand.
  bucket = var.logs_bucket_name
  tags   = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    # Legacy standard logging writes with ACLs, so they must stay enabled (since April 2023
    # new buckets default to BucketOwnerEnforced and legacy delivery silently fails).
    object_ownership = local.use_legacy_log ? "BucketOwnerPreferred" : "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "AllowCloudFrontLogDeliveryV2"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/${local.access_log_prefix}*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:logs:${data.aws_region.current.name}:${local.account_id}:delivery-source:*"]
    }
  }

  statement {
    sid       = "AllowS3ServerAccessLogs"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/${local.s3_access_prefix}*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:s3:::${var.uploads_bucket_name}"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket     = aws_s3_bucket.logs.id
  policy     = data.aws_iam_policy_document.logs.json
  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ------------------------------------------------------------------ uploads bucket (origin)

resource "aws_s3_bucket" "uploads" {
  #checkov:skip=CKV2_AWS_6:The block exists; two flags relax only in the documented legacy_direct_s3_read = public-read rollout phase.
  #checkov:skip=CKV_AWS_144:Cross-region replication of user uploads is a separate DR decision, not part of the CDN story.
  #checkov:skip=CKV_AWS_145:SSE-S3 on purpose: OAC reads of SSE-KMS objects need a key policy for CloudFront as well.
  #checkov:skip=CKV2_AWS_62:Upload events belong to the upload pipeline (WISH-2013), not to the CDN.
  bucket = var.uploads_bucket_name
  tags   = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "uploads" {
  #checkov:skip=CKV_AWS_54:true except in the documented legacy_direct_s3_read = public-read rollout phase.
  #checkov:skip=CKV_AWS_56:true except in the documented legacy_direct_s3_read = public-read rollout phase.
  bucket                  = aws_s3_bucket.uploads.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = !local.public_read
  restrict_public_buckets = !local.public_read
}

resource "aws_s3_bucket_server_side_encryption_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  rule {
    id     = "expire-replaced-image-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_logging" "uploads" {
  bucket        = aws_s3_bucket.uploads.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = local.s3_access_prefix
}

resource "aws_s3_bucket_cors_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  # Browsers PUT/POST presigned uploads straight to S3 (AC9); reads go through the CDN.
  cors_rule {
    allowed_methods = ["PUT", "POST"]
    allowed_origins = [var.web_app_origin]
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}

data "aws_iam_policy_document" "uploads" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.uploads.arn, "${aws_s3_bucket.uploads.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = local.use_oac ? [1] : []
    content {
      sid       = "AllowCloudFrontOacRead"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.uploads.arn}/${local.uploads_prefix}*"]

      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = [aws_cloudfront_distribution.images.arn]
      }
    }
  }

  # With s3:ListBucket S3 answers a missing key with 404 instead of 403, so CloudFront caches
  # the miss for 5 minutes and 403 keeps meaning "access is broken". No s3:prefix condition:
  # a GetObject carries no s3:prefix, so such a condition never matches a miss (it stayed
  # 403). The grant would let a request for / list the bucket, so no such request can reach
  # S3: every path outside /uploads/wishlist/* (/ included) is answered 404 by the not_found
  # function on the default behaviour (main.tf), and the uploads behaviour forwards only the
  # v query string (an object path is never a bucket listing).
  dynamic "statement" {
    for_each = local.use_oac ? [1] : []
    content {
      sid       = "AllowCloudFrontOacListForNotFound"
      effect    = "Allow"
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.uploads.arn]

      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = [aws_cloudfront_distribution.images.arn]
      }
    }
  }

  dynamic "statement" {
    for_each = local.use_oac ? [] : [1]
    content {
      sid       = "AllowCloudFrontOaiListForNotFound"
      effect    = "Allow"
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.uploads.arn]

      principals {
        type        = "AWS"
        identifiers = [aws_cloudfront_origin_access_identity.uploads[0].iam_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = local.use_oac ? [] : [1]
    content {
      sid       = "AllowCloudFrontOaiRead"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.uploads.arn}/${local.uploads_prefix}*"]

      principals {
        type        = "AWS"
        identifiers = [aws_cloudfront_origin_access_identity.uploads[0].iam_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = local.public_read ? [1] : []
    content {
      sid       = "TemporaryLegacyPublicRead"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.uploads.arn}/${local.uploads_prefix}*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "uploads" {
  bucket     = aws_s3_bucket.uploads.id
  policy     = data.aws_iam_policy_document.uploads.json
  depends_on = [aws_s3_bucket_public_access_block.uploads]
}
