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
  description = "Rollout phases 1-2 only: public-read keeps old S3 URLs working; blocked gives 403 (AC15)."
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
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "acm_certificate_arn" {
  description = "ACM certificate in us-east-1 for aliases; empty uses the *.cloudfront.net certificate."
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
  description = "File format of v2 access logs (w3c matches the legacy tab-separated layout)."
  type        = string
  default     = "w3c"

  validation {
    condition     = contains(["w3c", "json", "plain", "parquet"], var.log_output_format)
    error_message = "log_output_format must be w3c, json, plain or parquet."
  }
}

variable "log_retention_days" {
  description = "Days before access logs expire."
  type        = number
  default     = 90
}

variable "monthly_budget_usd" {
  description = "Monthly CloudFront cost that triggers the budget alert (AC12)."
  type        = number
  default     = 50
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
  description = "EKS cluster OIDC provider ARN; when set an IRSA role is created for the pods."
  type        = string
  default     = ""
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

variable "tags" {
  description = "Tags for every taggable resource."
  type        = map(string)
  default     = { app = "wishlist-image-cdn" }
}

variable "probe" {
  description = "Scheduled `image-ops probe` (EventBridge Scheduler -> Fargate task) for accounts without a Kubernetes cluster; null = off. Runs in this module's region; other regions: deploy/cloudformation/image-probe.yaml."
  type = object({
    image              = string
    resolver_target    = string
    keys               = list(string)
    subnet_ids         = list(string)
    security_group_ids = list(string)
    schedule           = optional(string, "rate(5 minutes)")
    log_retention_days = optional(number, 30)
  })
  default = null

  validation {
    condition     = var.probe == null ? true : can(regex("^[a-z0-9.:/_-]+@sha256:[0-9a-f]{64}$", var.probe.image))
    error_message = "probe.image: pin the image by digest (registry/repo@sha256:...)."
  }
  validation {
    condition     = var.probe == null ? true : length(var.probe.keys) > 0 && length(var.probe.subnet_ids) > 0
    error_message = "probe.keys and probe.subnet_ids: name at least one."
  }
}
