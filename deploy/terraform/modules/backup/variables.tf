variable "name" {
  description = "Vault and plan name."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key of the vault."
  type        = string
}

variable "copy_kms_key_arn" {
  description = "Customer key of the copy vault, in the copy region."
  type        = string
}

variable "resource_arns" {
  description = "What to back up: the Aurora cluster and the S3 buckets."
  type        = list(string)
}

variable "daily_retention_days" {
  description = "Retention of daily recovery points (35 in production)."
  type        = number
  default     = 35
}

variable "monthly_retention_days" {
  description = "Retention of monthly recovery points (HIPAA: six years, 2190 days, in production)."
  type        = number
  default     = 2190
}

variable "vault_lock" {
  description = "Lock the vaults so recovery points cannot be deleted early (production)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Delete recovery points when the vault is destroyed (demo environments only)."
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

variable "notifications_kms_key_arn" {
  description = "Customer key of the backup notifications topic (the logs key, whose policy lets AWS Backup publish to topics it encrypts)."
  type        = string
}

variable "notification_emails" {
  description = "Operators notified of backup, copy and restore jobs (restore tests included)."
  type        = list(string)
  default     = []
}

variable "restore_test_resources" {
  description = "Restore testing: protected resource ARNs by AWS Backup resource type (Aurora, S3), restored weekly from the newest recovery point; {}: no restore testing."
  type        = map(list(string))
  default     = {}
  validation {
    condition     = alltrue([for t in keys(var.restore_test_resources) : contains(["Aurora", "S3", "RDS", "EBS", "EC2", "EFS", "FSx", "DocumentDB", "Neptune"], t)])
    error_message = "restore_test_resources: keys are AWS Backup resource types (Aurora, S3, ...)."
  }
}

variable "restore_metadata_overrides" {
  description = "Restore metadata by resource type for restore testing (Aurora: dbsubnetgroupname, vpcsecuritygroupids), so that the test restores into the environment's network."
  type        = map(map(string))
  default     = {}
}

variable "restore_test_schedule" {
  description = "When restore testing runs (UTC)."
  type        = string
  default     = "cron(0 6 ? * SAT *)"
}
