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

variable "purposes" {
  description = "The purposes to make a key for (one customer key each): all five in an environment's region; fewer where only some are needed (the recovery region's logs and secrets keys)."
  type        = list(string)
  default     = ["data", "logs", "search", "secrets", "app"]
  validation {
    condition     = length(var.purposes) > 0 && alltrue([for p in var.purposes : contains(["data", "logs", "search", "secrets", "app"], p)])
    error_message = "purposes: one or more of data, logs, search, secrets, app."
  }
}

variable "replicated_purposes" {
  description = "Purposes whose key is a multi-Region primary with a replica in the recovery region (aws.replica): [\"data\", \"app\"] in production, [] elsewhere."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for p in var.replicated_purposes : contains(var.purposes, p)])
    error_message = "replicated_purposes: purposes this module makes a key for (data, logs, search, secrets or app)."
  }
}
