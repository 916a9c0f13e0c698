variable "name" {
  description = "Prefix of every name."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer data key (trail, Config deliveries, audit-trail bucket)."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "Customer logs key (trail log group, SNS)."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket that receives the audit-trail bucket's access logs."
  type        = string
}

variable "data_event_bucket_arns" {
  description = "Buckets whose object reads and writes CloudTrail records (the PHI buckets)."
  type        = list(string)
}

variable "trail_lock_mode" {
  description = "Object lock of the audit trail: COMPLIANCE in production, GOVERNANCE in demo environments."
  type        = string
  default     = "COMPLIANCE"
}

variable "trail_retention_days" {
  description = "Days the audit trail is kept (six years by default)."
  type        = number
  default     = 2190
}

variable "log_retention_days" {
  description = "Retention of the trail's log group."
  type        = number
  default     = 365
}

variable "record_global_resources" {
  description = "Record IAM and other global resources (true in one region per account only)."
  type        = bool
  default     = true
}

variable "hipaa_pack_template_s3_uri" {
  description = "s3:// URI of AWS's Operational-Best-Practices-for-HIPAA-Security template; null deploys MHP's own subset."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Demo environments only: let teardown empty the audit-trail bucket."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every IAM role this module creates (bootstrap's mhp-<env>-boundary, passed by modules/platform; null: none)."
  type        = string
  default     = null
}

variable "malware_protection_bucket" {
  description = "Bucket whose new objects GuardDuty Malware Protection for S3 scans and tags (the data bucket, where uploads land); null: none."
  type        = string
  default     = null
}
