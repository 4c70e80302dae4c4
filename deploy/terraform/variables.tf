variable "name" {
  description = "Prefix for every named resource (OAC, policies, log delivery, alarms); unique per account."
  type        = string
  default     = "wishlist-image-cdn"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}$", var.name))
    error_message = "name: lower-case letters, digits and dashes, at most 41 characters."
  }
}

variable "uploads_bucket_name" {
  description = "Bucket holding uploads/wishlist/*. Import the existing bucket (terraform import)."
  type        = string
  default     = "lego-moc-wishlist-uploads"
}

variable "logs_bucket_name" {
  description = "Bucket receiving CloudFront access logs (AC11) and S3 server access logs."
  type        = string
  default     = "lego-moc-cloudfront-logs"
}

variable "legacy_direct_s3_read" {
  description = "blocked (default, and what terraform.tfvars.example ships): anonymous S3 reads get 403 (AC15). public-read is an explicit, time-limited rollout phase (deploy/README.md) that makes every upload world-readable; it fails in an account with account-level Block Public Access."
  type        = string
  default     = "blocked"

  validation {
    condition     = contains(["blocked", "public-read"], var.legacy_direct_s3_read)
    error_message = "legacy_direct_s3_read must be blocked or public-read."
  }
}

variable "web_app_origin" {
  description = "Origin of the web app, allowed by CORS on the CDN and for browser uploads to S3."
  type        = string
  default     = "https://app.lego-moc.com"

  validation {
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?$", var.web_app_origin))
    error_message = "web_app_origin must look like https://host[:port]."
  }
}

variable "origin_access_mode" {
  description = "oac (Origin Access Control, SigV4) unless the account must keep a legacy OAI."
  type        = string
  default     = "oac"

  validation {
    condition     = contains(["oac", "oai"], var.origin_access_mode)
    error_message = "origin_access_mode must be oac or oai."
  }
}

variable "price_class" {
  description = "CloudFront price class. PriceClass_100 (North America, Europe, Israel) meets the US and EU gates only: Asian viewers are served from US/EU edges, so the Asia p95 < 300 ms gate cannot be met. PriceClass_200 or PriceClass_All meets the Asia gate (deploy/README.md)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "acm_certificate_arn" {
  description = "ACM certificate in us-east-1 for aliases. Empty uses the default *.cloudfront.net certificate, whose security policy is fixed at TLSv1: viewers may negotiate TLS 1.0 and 1.1. With a certificate, minimum_protocol_version applies (TLS 1.2+ only)."
  type        = string
  default     = ""
}

variable "aliases" {
  description = "Alternate domain names (need acm_certificate_arn)."
  type        = list(string)
  default     = []
}

variable "minimum_protocol_version" {
  # The module claims aws provider 5.x only (versions.tf), and 5.x accepts security policies up
  # to TLSv1.2_2021: TLSv1.2_2025 fails at plan time there. Offer TLSv1.2_2025 together with the
  # provider major that accepts it, and plan it (deploy/terraform/tests) before raising either.
  description = "Viewer TLS security policy, applied when a certificate is given (TLSv1.2_2021 is the newest aws provider 5.x accepts)."
  type        = string
  default     = "TLSv1.2_2021"

  validation {
    condition     = contains(["TLSv1.2_2021", "TLSv1.2_2019"], var.minimum_protocol_version)
    error_message = "minimum_protocol_version must be TLSv1.2_2021 or TLSv1.2_2019 (aws provider 5.x rejects TLSv1.2_2025)."
  }
}

variable "web_acl_arn" {
  description = "Optional WAFv2 web ACL (scope CLOUDFRONT)."
  type        = string
  default     = ""
}

variable "logging_mode" {
  description = "v2: standard logging v2 (bucket policy, owner-enforced bucket). legacy: needs ACLs on the log bucket."
  type        = string
  default     = "v2"

  validation {
    condition     = contains(["v2", "legacy"], var.logging_mode)
    error_message = "logging_mode must be v2 or legacy."
  }
}

variable "log_output_format" {
  description = "File format of v2 access logs: parquet (default; columnar, Athena scans only the columns a query reads) or w3c, json, plain. Delivered under cloudfront/<format>/; deploy/athena has a table for w3c and for parquet."
  type        = string
  default     = "parquet"

  validation {
    condition     = contains(["w3c", "json", "plain", "parquet"], var.log_output_format)
    error_message = "log_output_format must be w3c, json, plain or parquet."
  }
}

variable "log_retention_days" {
  description = "Days before access logs expire (1-3650, as the CloudFormation parameter)."
  type        = number
  default     = 90

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3650 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "log_retention_days: a whole number of days from 1 to 3650."
  }
}

variable "monthly_budget_usd" {
  description = "Monthly cost (Amazon CloudFront + AmazonCloudWatch, where the additional metrics are billed) that triggers the budget alert (AC12). The CloudWatch part is the account's."
  type        = number
  default     = 50

  validation {
    condition     = var.monthly_budget_usd >= 1
    error_message = "monthly_budget_usd: at least 1."
  }
}

variable "alert_email" {
  description = "Email for budget and alarm notifications (optional)."
  type        = string
  default     = ""
}

variable "existing_alert_topic_arn" {
  description = "Existing SNS topic for alerts; empty creates one."
  type        = string
  default     = ""
}

variable "error_rate_threshold_percent" {
  description = "5xxErrorRate (percent) that raises the alarm."
  type        = number
  default     = 5
}

variable "client_error_rate_threshold_percent" {
  description = "4xxErrorRate (percent) that raises the alarm; 403s from a broken OAC or bucket policy land here."
  type        = number
  default     = 10
}

variable "cache_hit_rate_threshold_percent" {
  description = "CacheHitRate (percent) below which the alarm fires after an hour (AC14)."
  type        = number
  default     = 80
}

variable "origin_latency_threshold_ms" {
  description = "p90 OriginLatency (milliseconds) above which the alarm fires."
  type        = number
  default     = 1000
}

variable "rollout_table_name" {
  description = "DynamoDB table behind ROLLOUT_STORE=dynamodb://<name>/rollout."
  type        = string
  default     = "wishlist-image-cdn-rollout"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.rollout_table_name))
    error_message = "rollout_table_name: 3-255 letters, digits, underscores, dots or dashes."
  }
}

variable "eks_oidc_provider_arn" {
  description = "The EKS cluster's OIDC provider ARN (oidc.eks.REGION.amazonaws.com/id/ID); when set, IRSA roles are created for the image-resolver pods and the probe CronJob of that cluster (the probe may write only probe/REGION/)."
  type        = string
  default     = ""

  validation {
    condition     = var.eks_oidc_provider_arn == "" || can(regex("^arn:aws:iam::[0-9]{12}:oidc-provider/oidc\\.eks\\.[a-z0-9-]+\\.amazonaws\\.com/id/[0-9A-Za-z]+$", var.eks_oidc_provider_arn))
    error_message = "eks_oidc_provider_arn: empty, or arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID."
  }
}

variable "service_account_namespace" {
  description = "Kubernetes namespace of the image-resolver service account."
  type        = string
  default     = "wishlist-image-cdn"
}

variable "service_account_name" {
  description = "Kubernetes service account of image-resolver."
  type        = string
  default     = "image-resolver"
}

variable "probe_service_account_name" {
  description = "Kubernetes service account of the probe CronJob (deploy/kubernetes/image-ops)."
  type        = string
  default     = "image-probe"
}

variable "probe_clusters" {
  description = "More EKS clusters running the probe CronJob (the resolver's cluster gets its role from eks_oidc_provider_arn): one per region; each role, <name>-image-probe-<region>, may write only probe/<region>/."
  type = list(object({
    oidc_provider_arn = string
    namespace         = optional(string, "wishlist-image-cdn")
    service_account   = optional(string, "image-probe")
  }))
  default = []

  validation {
    condition     = alltrue([for c in var.probe_clusters : can(regex("^arn:aws:iam::[0-9]{12}:oidc-provider/oidc\\.eks\\.[a-z0-9-]+\\.amazonaws\\.com/id/[0-9A-Za-z]+$", c.oidc_provider_arn))])
    error_message = "probe_clusters: each oidc_provider_arn must be arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID."
  }
  validation {
    condition     = length(distinct([for c in var.probe_clusters : split(".", c.oidc_provider_arn)[2]])) == length(var.probe_clusters)
    error_message = "probe_clusters: one cluster per region (each region's probe writes probe/<region>/latest.json)."
  }
}

variable "tags" {
  description = "Tags for every taggable resource."
  type        = map(string)
  default     = { app = "wishlist-image-cdn" }
}

# Removed (issue 25), kept only to refuse old settings loudly instead of ignoring them.
variable "probe" {
  description = "Removed: the Fargate probe could not reach the resolver safely (deploy/README.md \"Probe\"). Leave unset; run the CronJob (deploy/kubernetes/image-ops) per cluster, with its role from eks_oidc_provider_arn or probe_clusters."
  type        = any
  default     = null

  validation {
    condition     = var.probe == null
    error_message = "probe: the Fargate probe was removed (deploy/README.md \"Probe\"); run the probe CronJob per cluster and list extra clusters in probe_clusters."
  }
}
