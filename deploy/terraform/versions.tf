terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      # aws_cloudwatch_log_delivery* (standard logging v2) and TLSv1.2_2025 need a recent 5.x.
      source  = "hashicorp/aws"
      version = ">= 5.82.0, < 7.0.0"
    }
  }
}
