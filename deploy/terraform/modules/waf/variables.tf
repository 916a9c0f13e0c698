variable "name" {
  description = "Web ACL name."
  type        = string
}

variable "load_balancer_arn" {
  description = "Application load balancer that the web ACL protects."
  type        = string
}

variable "rate_limit_per_5min" {
  description = "Requests per address per five minutes before blocking."
  type        = number
  default     = 2000
}

variable "logs_kms_key_arn" {
  description = "Customer key of the WAF log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the WAF log group."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
