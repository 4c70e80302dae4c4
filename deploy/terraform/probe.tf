# The probe CronJob's IAM (AC14 evidence) and the policy the gated rollout needs.
#
# The CronJob (deploy/kubernetes/image-ops) runs as image-probe in each cluster and writes
# s3://<logs bucket>/probe/<cluster region>/latest.json. Each cluster's role may write only its
# own region's prefix, so one region cannot overwrite another's results. The resolver's cluster
# (var.eks_oidc_provider_arn) gets a role named <name>-image-probe; more clusters
# (var.probe_clusters) get <name>-image-probe-<region>, like cloudformation/image-probe.yaml.
# The Fargate variant is gone: it could not reach the resolver safely (deploy/README.md "Probe").

locals {
  # The region is the one in the EKS OIDC issuer: oidc.eks.REGION.amazonaws.com/id/ID.
  probe_roles = merge(
    var.eks_oidc_provider_arn == "" ? {} : {
      "${var.name}-image-probe" = {
        oidc_provider_arn = var.eks_oidc_provider_arn
        namespace         = var.service_account_namespace
        service_account   = var.probe_service_account_name
      }
    },
    {
      for c in var.probe_clusters :
      "${var.name}-image-probe-${split(".", split("oidc-provider/", c.oidc_provider_arn)[1])[2]}" => c
    },
  )
  probe_role_settings = {
    for name, c in local.probe_roles : name => merge(c, {
      issuer = split("oidc-provider/", c.oidc_provider_arn)[1]
      region = split(".", split("oidc-provider/", c.oidc_provider_arn)[1])[2]
    })
  }
  probe_results_urls = {
    for name, c in local.probe_role_settings : name => "s3://${var.logs_bucket_name}/probe/${c.region}/latest.json"
  }
}

data "aws_iam_policy_document" "image_probe_trust" {
  for_each = local.probe_role_settings

  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [each.value.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${each.value.issuer}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${each.value.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "image_probe_write" {
  for_each = local.probe_role_settings

  statement {
    sid       = "WriteThisRegionsProbeResults"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${var.logs_bucket_name}/probe/${each.value.region}/*"]
  }
}

resource "aws_iam_role" "image_probe" {
  for_each = local.probe_role_settings

  name               = each.key
  description        = "IRSA role of the image-probe CronJob: writes its own region's probe results."
  assume_role_policy = data.aws_iam_policy_document.image_probe_trust[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "image_probe" {
  for_each = local.probe_role_settings

  name   = "write-probe-results"
  role   = aws_iam_role.image_probe[each.key].id
  policy = data.aws_iam_policy_document.image_probe_write[each.key].json
}

data "aws_iam_policy_document" "rollout_gates" {
  #checkov:skip=CKV_AWS_356:DescribeAlarms with AlarmNamePrefix is authorised against alarm:* (alarm:<prefix>* answers AccessDenied); it only reads alarm states. The S3 statements are scoped.
  # DescribeAlarms with AlarmNamePrefix is authorised against alarm:*; a policy on
  # alarm:<prefix>* answers AccessDenied. It reads alarm states only.
  statement {
    sid       = "ReadAlarms"
    effect    = "Allow"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["*"]
  }
  statement {
    sid     = "ReadAccessLogsAndProbeResults"
    effect  = "Allow"
    actions = ["s3:GetObject"]
    resources = [
      "arn:${local.partition}:s3:::${var.logs_bucket_name}/${local.access_log_prefix}*",
      "arn:${local.partition}:s3:::${var.logs_bucket_name}/probe/*",
    ]
  }
  statement {
    sid       = "ListAccessLogsAndProbeResults"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.logs_bucket_name}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.access_log_prefix}*", "probe/*"]
    }
  }
}

resource "aws_iam_policy" "rollout_gates" {
  name        = "${var.name}-rollout-gates"
  description = "What image-ops rollout advance|auto reads: alarms, access logs, probe results."
  policy      = data.aws_iam_policy_document.rollout_gates.json
  tags        = var.tags
}

output "image_probe_role_arn" {
  description = "IRSA role of the resolver cluster's probe CronJob -> eks.amazonaws.com/role-arn of the image-probe service account"
  value       = try(aws_iam_role.image_probe["${var.name}-image-probe"].arn, null)
}

output "probe_results_url" {
  description = "What the resolver cluster's probe CronJob writes (PROBE_RESULTS_URL) -> rollout advance --probe-results"
  value       = try(local.probe_results_urls["${var.name}-image-probe"], null)
}

output "probe_role_arns" {
  description = "Every probe CronJob role (the resolver's cluster and var.probe_clusters), by role name"
  value       = { for name, role in aws_iam_role.image_probe : name => role.arn }
}

output "probe_results_urls" {
  description = "What each of those CronJobs writes, by role name"
  value       = local.probe_results_urls
}

output "rollout_gates_policy_arn" {
  description = "Attach to whoever runs rollout advance|auto (plus ADMIN_TOKEN for SetRollout)."
  value       = aws_iam_policy.rollout_gates.arn
}
