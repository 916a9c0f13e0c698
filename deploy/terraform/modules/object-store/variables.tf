variable "name" {
  description = "Prefix of the bucket names (the account id is appended for uniqueness)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer data key for the data and audit-export buckets."
  type        = string
}

variable "audit_lock_mode" {
  description = "Object lock mode of audit exports: COMPLIANCE in production (nobody, root included, can shorten it), GOVERNANCE in demo environments."
  type        = string
  default     = "COMPLIANCE"
}

variable "audit_lock_days" {
  description = "Retention of each audit export (HIPAA keeps documentation six years: 2190 days)."
  type        = number
  default     = 2190
}

variable "log_retention_days" {
  description = "Days before access logs expire."
  type        = number
  default     = 400
}

variable "force_destroy" {
  description = "Let teardown delete buckets that still hold objects (demo environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "replication" {
  description = "Replicate the data, backups and key-backups buckets to buckets in the recovery region (aws.replica), with S3 Replication Time Control (15 minutes): production."
  type        = bool
  default     = false
  validation {
    condition     = !var.replication || var.data_buckets
    error_message = "replication: the data, backups and key-backups buckets it replicates need data_buckets."
  }
}

variable "data_buckets" {
  description = "Make the data, backups and key-backups buckets (the tasks' object_store.bucket, backup.to, backup.keys_to). false: a recovery environment (modules/platform recovery_of), whose tasks use the replicas its source keeps in this region; the audit-exports and logs buckets it makes all the same."
  type        = bool
  default     = true
}

variable "replica_kms_key_arn" {
  description = "Key of the replica buckets, in the recovery region: the replica of the data key (modules/kms replica_key_arns[\"data\"]); needed when replication is on."
  type        = string
  default     = null
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every IAM role this module creates (bootstrap's mhp-<env>-boundary, passed by modules/platform; null: none)."
  type        = string
  default     = null
}
