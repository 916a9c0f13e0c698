variable "name" {
  description = "Prefix of every name."
  type        = string
}

variable "cidr" {
  description = "VPC CIDR block (a /16)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "max_azs" {
  description = "Availability zones to span (the region may have fewer: us-west-1 has two)."
  type        = number
  default     = 3
  validation {
    condition     = var.max_azs >= 2
    error_message = "At least two availability zones: every environment is multi-AZ."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper; non-production only)."
  type        = bool
  default     = false
}

variable "logs_kms_key_arn" {
  description = "KMS key of the flow-log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the flow-log group."
  type        = number
  default     = 365
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
