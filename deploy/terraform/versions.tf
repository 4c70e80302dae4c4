terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      # 5.100 is the provider this module is planned with (deploy/terraform/tests, offline mirror
      # on the CI machines); 5.x also has aws_cloudwatch_log_delivery* (standard logging v2).
      # Major 6 is not admitted until it has been planned here: its TLS policy values differ
      # (see var.minimum_protocol_version).
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 6.0.0"
    }
  }
}
