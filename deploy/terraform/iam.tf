data "aws_iam_policy_document" "image_resolver" {
  statement {
    sid       = "PresignWishlistObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.uploads.arn}/${local.uploads_prefix}*"]
  }

  # VerifyUpload HEADs the key: without ListBucket S3 answers a missing key with 403, not
  # 404. Unconditional: a HEAD carries no s3:prefix, so a prefix condition never matches.
  statement {
    sid       = "MissingUploadsAre404"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.uploads.arn]
  }

  # Read and (conditionally) write the one rollout item, nothing else in the table.
  statement {
    sid       = "RolloutTable"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.rollout.arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [local.rollout_item_key]
    }
  }

  # Only what the service calls: CreateInvalidation (it never polls GetInvalidation).
  statement {
    sid       = "InvalidateThisDistribution"
    effect    = "Allow"
    actions   = ["cloudfront:CreateInvalidation"]
    resources = [aws_cloudfront_distribution.images.arn]
  }
}

resource "aws_iam_policy" "image_resolver" {
  name        = "${var.name}-image-resolver"
  description = "What image-resolver needs - presign, rollout table item, invalidations."
  policy      = data.aws_iam_policy_document.image_resolver.json
  tags        = var.tags
}

locals {
  # oidc.eks.REGION.amazonaws.com/id/ID (var.eks_oidc_provider_arn's validation).
  oidc_issuer = var.eks_oidc_provider_arn == "" ? "" : split("oidc-provider/", var.eks_oidc_provider_arn)[1]
}

data "aws_iam_policy_document" "image_resolver_trust" {
  count = var.eks_oidc_provider_arn == "" ? 0 : 1

  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.service_account_namespace}:${var.service_account_name}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "image_resolver" {
  count = var.eks_oidc_provider_arn == "" ? 0 : 1
  # The name deploy/kubernetes/image-resolver/serviceaccount.yaml annotates (name = wishlist-image-cdn).
  name               = "${var.name}-image-resolver"
  description        = "IRSA role for the image-resolver service account."
  assume_role_policy = data.aws_iam_policy_document.image_resolver_trust[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "image_resolver" {
  count      = var.eks_oidc_provider_arn == "" ? 0 : 1
  role       = aws_iam_role.image_resolver[0].name
  policy_arn = aws_iam_policy.image_resolver.arn
}
