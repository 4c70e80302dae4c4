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

  cost_filter {
    name   = "Service"
    values = ["Amazon CloudFront"]
  }

  notification {
    notification_type          = "ACTUAL"
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    subscriber_sns_topic_arns  = [local.alert_topic_arn]
    subscriber_email_addresses = var.alert_email == "" ? [] : [var.alert_email]
  }

  notification {
    notification_type          = "FORECASTED"
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    subscriber_sns_topic_arns  = [local.alert_topic_arn]
    subscriber_email_addresses = var.alert_email == "" ? [] : [var.alert_email]
  }
}

# CloudFront metrics are published in us-east-1 with Region=Global (the provider is us-east-1,
# enforced by the distribution's precondition).
resource "aws_cloudwatch_metric_alarm" "origin_5xx" {
  alarm_name          = "${var.name}-cloudfront-5xx"
  alarm_description   = "CloudFront 5xx rate for wishlist images (Risk 4). Runbook: deploy/README.md#rollback."
  namespace           = "AWS/CloudFront"
  metric_name         = "5xxErrorRate"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.error_rate_threshold_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alert_topic_arn]
  ok_actions          = [local.alert_topic_arn]
  tags                = var.tags

  dimensions = {
    DistributionId = aws_cloudfront_distribution.images.id
    Region         = "Global"
  }
}
