variable "name" {
  description = "Bucket name (globally unique)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for SSE-KMS; null only for log buckets that AWS log delivery writes (SSE-S3)."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket that receives this bucket's server access logs."
  type        = string
  default     = null
}

variable "access_logging" {
  description = "Send server access logs to access_log_bucket (off only for the log bucket itself)."
  type        = bool
  default     = true
}

variable "object_lock_mode" {
  description = "null (no object lock), GOVERNANCE or COMPLIANCE."
  type        = string
  default     = null
  validation {
    condition     = var.object_lock_mode == null ? true : contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be null, GOVERNANCE or COMPLIANCE."
  }
}

variable "object_lock_days" {
  description = "Default retention of locked objects, in days."
  type        = number
  default     = 2190
}

variable "noncurrent_version_days" {
  description = "Days before a non-current object version expires."
  type        = number
  default     = 90
}

variable "expiration_days" {
  description = "Days before current objects expire (log buckets); null keeps them."
  type        = number
  default     = null
}

variable "force_destroy" {
  description = "Let terraform destroy delete a bucket that still holds objects (demo environments only)."
  type        = bool
  default     = false
}

variable "extra_policy_json" {
  description = "Further bucket policy statements (JSON), merged with the TLS-only statement."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
