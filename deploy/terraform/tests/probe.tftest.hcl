# The scheduled probe: off by default (policies only), on with var.probe; bad input refused.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  probe_settings = {
    image              = "registry.example.com/wishlist-image-cdn@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    resolver_target    = "image-resolver.internal:50051"
    keys               = ["uploads/wishlist/probe/small.jpg", "uploads/wishlist/probe/large.png"]
    subnet_ids         = ["subnet-0abc"]
    security_group_ids = ["sg-0abc"]
  }
}

run "probe_off_by_default" {
  command = plan

  assert {
    condition     = length(aws_scheduler_schedule.probe) == 0 && length(aws_ecs_task_definition.probe) == 0
    error_message = "no scheduler or task without var.probe"
  }
  assert {
    condition     = output.probe_results_url == "s3://lego-moc-cloudfront-logs/probe/us-east-1/latest.json"
    error_message = "results URL under the logs bucket's probe/ prefix"
  }
}

run "probe_scheduled_on_fargate" {
  command = plan

  variables {
    probe = var.probe_settings
  }

  assert {
    condition     = aws_scheduler_schedule.probe[0].schedule_expression == "rate(5 minutes)"
    error_message = "every 5 minutes by default"
  }
  assert {
    condition     = aws_scheduler_schedule.probe[0].target[0].ecs_parameters[0].launch_type == "FARGATE"
    error_message = "a Fargate task"
  }
  assert {
    condition = jsondecode(aws_ecs_task_definition.probe[0].container_definitions)[0].command == [
      "probe", "--target", "image-resolver.internal:50051", "--users", "20", "--instance", "us-east-1",
      "--json-out", "s3://lego-moc-cloudfront-logs/probe/us-east-1/latest.json",
      "--key", "uploads/wishlist/probe/small.jpg", "--key", "uploads/wishlist/probe/large.png",
    ]
    error_message = "the probe command with every key"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.probe[0].container_definitions)[0].readonlyRootFilesystem
    error_message = "read-only root file system"
  }
}

run "probe_image_must_be_a_digest" {
  command = plan

  variables {
    probe = merge(var.probe_settings, { image = "registry.example.com/wishlist-image-cdn:latest" })
  }

  expect_failures = [var.probe]
}

run "probe_needs_keys" {
  command = plan

  variables {
    probe = merge(var.probe_settings, { keys = [] })
  }

  expect_failures = [var.probe]
}
