# The probe CronJob's IRSA roles (issue 25) and the rollout gates' policy; the removed Fargate
# variable refused.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  eks_us_east_1 = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  eks_eu_west_1 = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0EU0WEST0100000000000000"
  eks_ap_ne_1   = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-1.amazonaws.com/id/EXAMPLE0AP0NE0100000000000000"
}

run "gates_policy_reads_alarms_logs_and_probe_results_only" {
  command = plan

  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.rollout_gates.statement :
    s.sid == "ReadAlarms" && s.actions == toset(["cloudwatch:DescribeAlarms"]) && s.resources == toset(["*"])])
    error_message = "DescribeAlarms with a name prefix is authorised against alarm:*: Resource *"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.rollout_gates.statement :
      s.sid == "ReadAccessLogsAndProbeResults" && s.actions == toset(["s3:GetObject"])
    && s.resources == toset(["arn:aws:s3:::lego-moc-cloudfront-logs/cloudfront/*", "arn:aws:s3:::lego-moc-cloudfront-logs/probe/*"])])
    error_message = "the gates read cloudfront/* and probe/* of the logs bucket, not the whole bucket"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.rollout_gates.statement :
      s.sid == "ListAccessLogsAndProbeResults" && s.actions == toset(["s3:ListBucket"])
    && [for c in s.condition : "${c.test} ${c.variable} ${join(",", sort(c.values))}"] == ["StringLike s3:prefix cloudfront/*,probe/*"]])
    error_message = "listing is limited to cloudfront/ and probe/"
  }
}

run "resolver_cluster_gets_a_probe_role_for_its_own_region" {
  command = plan

  variables {
    eks_oidc_provider_arn = var.eks_eu_west_1
  }

  assert {
    condition     = aws_iam_role.image_resolver[0].name == "wishlist-image-cdn-image-resolver" && keys(aws_iam_role.image_probe) == ["wishlist-image-cdn-image-probe"]
    error_message = "fixed role names the ServiceAccount annotations can name"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.image_probe_trust["wishlist-image-cdn-image-probe"].statement :
      s.actions == toset(["sts:AssumeRoleWithWebIdentity"])
      && contains([for c in s.condition : "${c.variable}=${join(",", c.values)}"], "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0EU0WEST0100000000000000:sub=system:serviceaccount:wishlist-image-cdn:image-probe")
    ])
    error_message = "the probe role trusts system:serviceaccount:wishlist-image-cdn:image-probe of that cluster"
  }
  assert {
    condition = [for s in data.aws_iam_policy_document.image_probe_write["wishlist-image-cdn-image-probe"].statement : s.resources] == [
      toset(["arn:aws:s3:::lego-moc-cloudfront-logs/probe/eu-west-1/*"])
    ]
    error_message = "the probe writes its own region's prefix only"
  }
  assert {
    condition     = output.probe_results_url == "s3://lego-moc-cloudfront-logs/probe/eu-west-1/latest.json"
    error_message = "probe_results_url: the cluster region's latest.json"
  }
}

run "more_probe_clusters" {
  command = plan

  variables {
    eks_oidc_provider_arn = var.eks_us_east_1
    probe_clusters        = [{ oidc_provider_arn = var.eks_ap_ne_1 }]
  }

  assert {
    condition     = toset(keys(aws_iam_role.image_probe)) == toset(["wishlist-image-cdn-image-probe", "wishlist-image-cdn-image-probe-ap-northeast-1"])
    error_message = "one role per cluster, named after its region"
  }
  assert {
    condition = [for s in data.aws_iam_policy_document.image_probe_write["wishlist-image-cdn-image-probe-ap-northeast-1"].statement : s.resources] == [
      toset(["arn:aws:s3:::lego-moc-cloudfront-logs/probe/ap-northeast-1/*"])
    ]
    error_message = "an extra cluster writes its own region's prefix only"
  }
  assert {
    condition     = output.probe_results_urls["wishlist-image-cdn-image-probe"] == "s3://lego-moc-cloudfront-logs/probe/us-east-1/latest.json"
    error_message = "the resolver cluster's results are under its region"
  }
}

run "two_probe_clusters_in_one_region_refused" {
  command = plan

  variables {
    probe_clusters = [{ oidc_provider_arn = var.eks_ap_ne_1 }, { oidc_provider_arn = replace(var.eks_ap_ne_1, "EXAMPLE0AP", "OTHER0AP") }]
  }

  expect_failures = [var.probe_clusters]
}

run "oidc_provider_must_be_an_eks_issuer" {
  command = plan

  variables {
    eks_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.example.com"
  }

  expect_failures = [var.eks_oidc_provider_arn]
}

run "removed_fargate_probe_is_refused" {
  command = plan

  variables {
    probe = { image = "registry.example.com/image-ops@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }
  }

  expect_failures = [var.probe]
}
