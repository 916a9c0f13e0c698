variable "name" {
  description = "Prefix of every name, for example mhp-prod-use1."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect (7 to 30)."
  type        = number
  default     = 30
  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "rotation_period_in_days" {
  description = "Automatic rotation period of the key material."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "replicated_purposes" {
  description = "Purposes whose key is a multi-Region primary with a replica in the recovery region (aws.replica): [\"data\", \"app\"] in production, [] elsewhere."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for p in var.replicated_purposes : contains(["data", "logs", "search", "secrets", "app"], p)])
    error_message = "replicated_purposes: data, logs, search, secrets or app."
  }
}
