# The rollout flag (issue 12): one item {id = "rollout", revision = N, document = "<JSON>"}.
# A conditional PutItem on revision gives the service a true compare-and-set, which SSM
# Parameter Store cannot. The table outlives `terraform destroy` (deletion protection + prevent_destroy).
resource "aws_dynamodb_table" "rollout" {
  #checkov:skip=CKV_AWS_119:One small flag document, no personal data; the AWS managed key aws/dynamodb (KMS, billed per request) needs no key policy for the pods' role, a customer managed key would.
  name                        = var.rollout_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = true
  tags                        = var.tags

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  # enabled = true: the AWS managed KMS key aws/dynamodb (in this account, billed per KMS
  # request), not the free AWS owned key (which enabled = false would select).
  server_side_encryption {
    enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }
}
