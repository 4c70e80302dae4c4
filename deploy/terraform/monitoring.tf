resource "aws_sns_topic" "alerts" {
  #checkov:skip=CKV_AWS_26:Budgets and CloudWatch cannot publish to a topic under the AWS-managed SNS key; alerts carry no sensitive data.
  count = local.create_topic ? 1 : 0
  name  = "${var.name}-alerts"
  tags  = var.tags
}

data "aws_iam_policy_document" "alerts" {
  count = local.create_topic ? 1 : 0

  statement {
    sid       = "AllowBudgetsAndAlarms"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "Service"
      identifiers = ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  count  = local.create_topic ? 1 : 0
  arn    = aws_sns_topic.alerts[0].arn
  policy = data.aws_iam_policy_document.alerts[0].json
}

resource "aws_sns_topic_subscription" "alert_email" {
  count     = local.create_topic && var.alert_email != "" ? 1 : 0
  topic_arn = aws_sns_topic.alerts[0].arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_budgets_budget" "cloudfront" {
  name         = "${var.name}-cloudfront-monthly"
  budget_type  = "COST"
  time_unit    = "MONTHLY"
  limit_amount = tostring(var.monthly_budget_usd)
  limit_unit   = "USD"
  tags         = var.tags

  # CloudFront's additional metrics (CacheHitRate, OriginLatency) are billed by CloudWatch.
  cost_filter {
    name   = "Service"
    values = ["Amazon CloudFront", "AmazonCloudWatch"]
  }

  # 80 % actual: time to look; 100 % forecast: the month is heading over; 100 % actual: it is over.
  dynamic "notification" {
    for_each = local.budget_notifications
    content {
      notification_type          = notification.value.type
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value.threshold
      threshold_type             = "PERCENTAGE"
      subscriber_sns_topic_arns  = [local.alert_topic_arn]
      subscriber_email_addresses = var.alert_email == "" ? [] : [var.alert_email]
    }
  }
}

locals {
  budget_notifications = [
    { type = "ACTUAL", threshold = 80 },
    { type = "FORECASTED", threshold = 100 },
    { type = "ACTUAL", threshold = 100 },
  ]

  # One alarm per failure that matters. 5xx: the origin or CloudFront itself fails (Risk 4).
  # 4xx: a broken OAC or bucket policy answers 403 (misses and paths outside the prefix are
  # 404, so 4xx stays low normally).
  # CacheHitRate (AC14) and OriginLatency come from the monitoring subscription below.
  cloudfront_alarms = {
    "5xx" = {
      metric      = "5xxErrorRate"
      description = "CloudFront 5xx rate for wishlist images (Risk 4)."
      statistic   = "Average"
      threshold   = var.error_rate_threshold_percent
      comparison  = "GreaterThanThreshold"
      period      = 60
      evaluations = 5
      datapoints  = 3
    }
    "4xx" = {
      metric      = "4xxErrorRate"
      description = "CloudFront 4xx rate: 403s from a broken OAC or bucket policy (Risk 4)."
      statistic   = "Average"
      threshold   = var.client_error_rate_threshold_percent
      comparison  = "GreaterThanThreshold"
      period      = 60
      evaluations = 5
      datapoints  = 3
    }
    "cache-hit-rate" = {
      metric      = "CacheHitRate"
      description = "Cache hit rate below target for an hour (AC14): cache key or TTLs changed?"
      statistic   = "Average"
      threshold   = var.cache_hit_rate_threshold_percent
      comparison  = "LessThanThreshold"
      period      = 900
      evaluations = 4
      datapoints  = 4
    }
    "origin-latency" = {
      metric      = "OriginLatency"
      description = "p90 origin (S3) latency in milliseconds above target for 5 of 10 minutes."
      statistic   = "p90"
      threshold   = var.origin_latency_threshold_ms
      comparison  = "GreaterThanThreshold"
      period      = 60
      evaluations = 10
      datapoints  = 5
    }
  }
}

# CacheHitRate, OriginLatency and the per-status error rates are "additional metrics": they
# exist only with this subscription (billed like custom CloudWatch metrics, a few USD a month).
resource "aws_cloudfront_monitoring_subscription" "images" {
  distribution_id = aws_cloudfront_distribution.images.id

  monitoring_subscription {
    realtime_metrics_subscription_config {
      realtime_metrics_subscription_status = "Enabled"
    }
  }
}

moved {
  from = aws_cloudwatch_metric_alarm.origin_5xx
  to   = aws_cloudwatch_metric_alarm.cloudfront["5xx"]
}

# CloudFront metrics are published in us-east-1 with Region=Global (the provider is us-east-1,
# enforced by the distribution's precondition).
resource "aws_cloudwatch_metric_alarm" "cloudfront" {
  for_each = local.cloudfront_alarms

  alarm_name          = "${var.name}-cloudfront-${each.key}"
  alarm_description   = "${each.value.description} Runbook: deploy/README.md#rollback."
  namespace           = "AWS/CloudFront"
  metric_name         = each.value.metric
  statistic           = startswith(each.value.statistic, "p") ? null : each.value.statistic
  extended_statistic  = startswith(each.value.statistic, "p") ? each.value.statistic : null
  period              = each.value.period
  evaluation_periods  = each.value.evaluations
  datapoints_to_alarm = each.value.datapoints
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alert_topic_arn]
  ok_actions          = [local.alert_topic_arn]
  tags                = var.tags

  dimensions = {
    DistributionId = aws_cloudfront_distribution.images.id
    Region         = "Global"
  }

  depends_on = [aws_cloudfront_monitoring_subscription.images]
}
