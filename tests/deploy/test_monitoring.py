"""Alarms for the failures that matter, in both template flavours (issue 14).

403s from a broken OAC/bucket policy (4xx alarm), a falling cache hit rate (AC14) and a slow
origin (both need CloudFront's additional metrics), and a budget that is already spent.
"""

from __future__ import annotations

from typing import Any

from tests.deploy.conftest import Terraform, cfn_resources

Template = dict[str, Any]
BUDGET_ALERTS = {("ACTUAL", 80), ("FORECASTED", 100), ("ACTUAL", 100)}


def _cfn_alarms(cfn: Template) -> dict[str, dict[str, Any]]:
    """Alarm resources by metric name."""
    return {
        r["Properties"]["MetricName"]: r
        for r in cfn_resources(cfn, "AWS::CloudWatch::Alarm").values()
    }


def test_cloudformation_turns_on_additional_metrics(cfn: Template) -> None:
    (sub,) = cfn_resources(cfn, "AWS::CloudFront::MonitoringSubscription").values()
    assert sub["Properties"]["DistributionId"] == {"Ref": "Distribution"}
    config = sub["Properties"]["MonitoringSubscription"]["RealtimeMetricsSubscriptionConfig"]
    assert config["RealtimeMetricsSubscriptionStatus"] == "Enabled"


def test_cloudformation_alarms(cfn: Template) -> None:
    alarms = _cfn_alarms(cfn)
    assert set(alarms) == {"5xxErrorRate", "4xxErrorRate", "CacheHitRate", "OriginLatency"}
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["Namespace"] == "AWS/CloudFront"
        dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        assert dims == {"DistributionId": {"Ref": "Distribution"}, "Region": "Global"}
        assert props["AlarmActions"] == props["OKActions"]
    four = alarms["4xxErrorRate"]["Properties"]
    assert four["Threshold"] == {"Ref": "ClientErrorRateThresholdPercent"}
    assert four["ComparisonOperator"] == "GreaterThanThreshold"
    hit = alarms["CacheHitRate"]
    assert hit["Properties"]["Threshold"] == {"Ref": "CacheHitRateThresholdPercent"}
    assert cfn["Parameters"]["CacheHitRateThresholdPercent"]["Default"] == 80
    assert hit["Properties"]["ComparisonOperator"] == "LessThanThreshold"
    latency = alarms["OriginLatency"]
    assert latency["Properties"]["ExtendedStatistic"] == "p90"
    assert "Statistic" not in latency["Properties"]
    # Additional metrics only exist once the subscription is there.
    assert hit["DependsOn"] == latency["DependsOn"] == "MonitoringSubscription"


def test_cloudformation_budget_alerts(cfn: Template) -> None:
    (budget,) = cfn_resources(cfn, "AWS::Budgets::Budget").values()
    notes = [n["Notification"] for n in budget["Properties"]["NotificationsWithSubscribers"]]
    assert {(n["NotificationType"], n["Threshold"]) for n in notes} == BUDGET_ALERTS
    assert len(notes) == len(BUDGET_ALERTS)


def test_terraform_turns_on_additional_metrics(tf: Terraform) -> None:
    sub = tf.resource("aws_cloudfront_monitoring_subscription", "images")
    assert sub["distribution_id"] == "${aws_cloudfront_distribution.images.id}"
    config = sub["monitoring_subscription"][0]["realtime_metrics_subscription_config"][0]
    assert config["realtime_metrics_subscription_status"] == "Enabled"


def test_terraform_alarms(tf: Terraform) -> None:
    alarms = {a["metric"]: a for a in tf.locals["cloudfront_alarms"].values()}
    assert set(alarms) == {"5xxErrorRate", "4xxErrorRate", "CacheHitRate", "OriginLatency"}
    assert alarms["4xxErrorRate"]["threshold"] == "${var.client_error_rate_threshold_percent}"
    assert alarms["CacheHitRate"]["threshold"] == "${var.cache_hit_rate_threshold_percent}"
    assert alarms["CacheHitRate"]["comparison"] == "LessThanThreshold"
    assert tf.variables["cache_hit_rate_threshold_percent"]["default"] == 80
    assert alarms["OriginLatency"]["statistic"] == "p90"
    resource = tf.resource("aws_cloudwatch_metric_alarm", "cloudfront")
    assert resource["for_each"] == "${local.cloudfront_alarms}"
    assert resource["depends_on"] == ["${aws_cloudfront_monitoring_subscription.images}"]


def test_terraform_budget_alerts(tf: Terraform) -> None:
    alerts = {(n["type"], n["threshold"]) for n in tf.locals["budget_notifications"]}
    assert alerts == BUDGET_ALERTS
    budget = tf.resource("aws_budgets_budget", "cloudfront")
    assert budget["dynamic"][0]["notification"]["for_each"] == "${local.budget_notifications}"
