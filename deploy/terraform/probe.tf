# The scheduled probe (AC14 evidence) and the policies the gated rollout needs. The policies
# always exist (the Kubernetes CronJob's IRSA role and the operator attach them); the
# scheduler, cluster and task only when var.probe is set.

locals {
  region             = data.aws_region.current.name
  probe_on           = var.probe != null
  probe_results_url  = "s3://${var.logs_bucket_name}/probe/${local.region}/latest.json"
  probe_task_family  = "${var.name}-probe"
  probe_results_keys = "arn:${local.partition}:s3:::${var.logs_bucket_name}/probe/*"
}

data "aws_iam_policy_document" "probe_results" {
  statement {
    sid       = "WriteProbeResults"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = [local.probe_results_keys]
  }
}

resource "aws_iam_policy" "probe_results" {
  name        = "${var.name}-probe-results"
  description = "Write probe results, nothing else (the probe task, or an IRSA role of the CronJob)."
  policy      = data.aws_iam_policy_document.probe_results.json
  tags        = var.tags
}

data "aws_iam_policy_document" "rollout_gates" {
  statement {
    sid       = "ReadCdnAlarms"
    effect    = "Allow"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["arn:${local.partition}:cloudwatch:us-east-1:${local.account_id}:alarm:${var.name}-cloudfront-*"]
  }
  statement {
    sid       = "ReadLogsAndProbeResults"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.logs_bucket_name}/*"]
  }
  statement {
    sid       = "ListLogs"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.logs_bucket_name}"]
  }
}

resource "aws_iam_policy" "rollout_gates" {
  name        = "${var.name}-rollout-gates"
  description = "What image-ops rollout advance|auto reads: alarms, access logs, probe results."
  policy      = data.aws_iam_policy_document.rollout_gates.json
  tags        = var.tags
}

resource "aws_ecs_cluster" "probe" {
  count = local.probe_on ? 1 : 0
  name  = "${var.name}-probe"
  tags  = var.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "probe" {
  #checkov:skip=CKV_AWS_158:Probe output is timings of public images; the service-owned key is enough.
  #checkov:skip=CKV_AWS_338:Probe logs are a debugging aid; results live in S3 and Prometheus.
  count             = local.probe_on ? 1 : 0
  name              = "/ecs/${var.name}-probe"
  retention_in_days = var.probe.log_retention_days
  tags              = var.tags
}

# Who may assume the probe's roles: ECS tasks (execution and task roles) and the scheduler,
# each only on behalf of this account.
data "aws_iam_policy_document" "probe_trust" {
  for_each = toset(["ecs-tasks.amazonaws.com", "scheduler.amazonaws.com"])

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.key]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "probe_execution" {
  count              = local.probe_on ? 1 : 0
  name               = "${var.name}-probe-execution"
  description        = "Pull the image and write the probe's log stream."
  assume_role_policy = data.aws_iam_policy_document.probe_trust["ecs-tasks.amazonaws.com"].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "probe_execution" {
  count      = local.probe_on ? 1 : 0
  role       = aws_iam_role.probe_execution[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "probe_task" {
  count              = local.probe_on ? 1 : 0
  name               = "${var.name}-probe-task"
  description        = "The probe task itself: writes its results."
  assume_role_policy = data.aws_iam_policy_document.probe_trust["ecs-tasks.amazonaws.com"].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "probe_task" {
  count      = local.probe_on ? 1 : 0
  role       = aws_iam_role.probe_task[0].name
  policy_arn = aws_iam_policy.probe_results.arn
}

resource "aws_ecs_task_definition" "probe" {
  count                    = local.probe_on ? 1 : 0
  family                   = local.probe_task_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.probe_execution[0].arn
  task_role_arn            = aws_iam_role.probe_task[0].arn
  tags                     = var.tags
  container_definitions = jsonencode([{
    name                   = "probe"
    image                  = var.probe.image
    essential              = true
    readonlyRootFilesystem = true
    user                   = "10001:10001"
    command = concat(
      ["probe", "--target", var.probe.resolver_target, "--users", "20", "--instance", local.region,
      "--json-out", local.probe_results_url],
      flatten([for key in var.probe.keys : ["--key", key]]),
    )
    # The only hosts the probe may load (image-ops probe refuses any other URL the resolver
    # hands out): the distribution's domain and aliases; the uploads bucket's S3 hosts.
    environment = [
      {
        name  = "PROBE_CDN_HOSTS"
        value = join(",", concat([aws_cloudfront_distribution.images.domain_name], var.aliases))
      },
      {
        name  = "PROBE_S3_HOSTS"
        value = join(",", ["${aws_s3_bucket.uploads.bucket}.s3.amazonaws.com", aws_s3_bucket.uploads.bucket_regional_domain_name])
      },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.probe[0].name
        awslogs-region        = local.region
        awslogs-stream-prefix = "probe"
      }
    }
  }])
}

data "aws_iam_policy_document" "scheduler_run_probe" {
  count = local.probe_on ? 1 : 0

  statement {
    sid       = "RunProbeTask"
    effect    = "Allow"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${local.probe_task_family}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.probe[0].arn]
    }
  }
  statement {
    sid       = "PassProbeRoles"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.probe_execution[0].arn, aws_iam_role.probe_task[0].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "probe_scheduler" {
  count              = local.probe_on ? 1 : 0
  name               = "${var.name}-probe-scheduler"
  description        = "EventBridge Scheduler starts the probe task, nothing else."
  assume_role_policy = data.aws_iam_policy_document.probe_trust["scheduler.amazonaws.com"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "probe_scheduler" {
  count  = local.probe_on ? 1 : 0
  name   = "run-probe-task"
  role   = aws_iam_role.probe_scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler_run_probe[0].json
}

resource "aws_scheduler_schedule" "probe" {
  #checkov:skip=CKV_AWS_297:The schedule's input is a task definition ARN and subnet ids, no secrets; the AWS-owned key is enough.
  count               = local.probe_on ? 1 : 0
  name                = "${var.name}-probe"
  description         = "image-ops probe (AC14 evidence for rollout advance)"
  schedule_expression = var.probe.schedule

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_ecs_cluster.probe[0].arn
    role_arn = aws_iam_role.probe_scheduler[0].arn

    retry_policy {
      maximum_retry_attempts = 0
    }

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.probe[0].arn
      launch_type         = "FARGATE"
      task_count          = 1

      network_configuration {
        subnets          = var.probe.subnet_ids
        security_groups  = var.probe.security_group_ids
        assign_public_ip = false
      }
    }
  }
}

output "probe_results_url" {
  description = "rollout advance --probe-results (what the scheduled probe writes)."
  value       = local.probe_results_url
}

output "probe_results_policy_arn" {
  description = "Attach to an IRSA role for the Kubernetes CronJob (s3:PutObject on probe/*)."
  value       = aws_iam_policy.probe_results.arn
}

output "rollout_gates_policy_arn" {
  description = "Attach to whoever runs rollout advance|auto (plus ADMIN_TOKEN for SetRollout)."
  value       = aws_iam_policy.rollout_gates.arn
}
