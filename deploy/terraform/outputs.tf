output "distribution_id" {
  description = "CloudFront distribution id -> CLOUDFRONT_DISTRIBUTION_ID"
  value       = aws_cloudfront_distribution.images.id
}

output "distribution_domain_name" {
  description = "CloudFront domain -> CLOUDFRONT_DISTRIBUTION_DOMAIN"
  value       = aws_cloudfront_distribution.images.domain_name
}

output "distribution_arn" {
  description = "CloudFront distribution ARN (the AWS:SourceArn in the bucket policy)"
  value       = aws_cloudfront_distribution.images.arn
}

output "uploads_bucket_name" {
  description = "Origin bucket -> S3_BUCKET"
  value       = aws_s3_bucket.uploads.id
}

output "logs_bucket_name" {
  description = "Access log bucket (AC11)"
  value       = aws_s3_bucket.logs.id
}

output "image_resolver_policy_arn" {
  description = "Managed policy to attach to whatever identity runs image-resolver"
  value       = aws_iam_policy.image_resolver.arn
}

output "image_resolver_role_arn" {
  description = "IRSA role -> eks.amazonaws.com/role-arn annotation on the service account"
  value       = try(aws_iam_role.image_resolver[0].arn, null)
}

output "rollout_table_name" {
  description = "DynamoDB table holding the rollout flag"
  value       = aws_dynamodb_table.rollout.name
}

output "rollout_store_url" {
  description = "-> ROLLOUT_STORE"
  value       = "dynamodb://${aws_dynamodb_table.rollout.name}/${local.rollout_item_key}"
}

output "athena_table_location" {
  description = "Where v2 access logs of log_output_format are delivered: the LOCATION of its Athena table (python -m image_ops.accesslogs.athena --location takes the cloudfront/ prefix above it)"
  value       = "s3://${aws_s3_bucket.logs.id}/${local.access_log_prefix}${var.log_output_format}/"
}

output "access_log_suffix_path" {
  description = "Key layout of standard logging v2 objects; the Athena table's projection reads it"
  value       = local.access_log_suffix_path
}

output "alarm_prefix" {
  description = "Name prefix of this module's alarms -> alarm_prefix in the gates file (gates.toml)"
  value       = "${var.name}-cloudfront-"
}

output "alert_topic_arn" {
  description = "SNS topic for budget and CloudFront alarms"
  value       = local.alert_topic_arn
}
