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
