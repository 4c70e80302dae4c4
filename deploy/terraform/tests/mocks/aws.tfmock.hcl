# Shared by every tests/*.tftest.hcl (mock_provider "aws" { source = "./tests/mocks" }).
# Without these, mocks return random strings: the us-east-1 precondition would fail and every
# policy document would be unparsable.
mock_data "aws_region" {
  defaults = { name = "us-east-1" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}
