variable "name" {
  description = "Prefix of every name (mhp-<env>)."
  type        = string
}

variable "environment" {
  description = "Environment name: the AMI parameter is /mhp/<environment>/ecs-host-ami."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the build instances."
  type        = string
}

variable "subnet_id" {
  description = "Private subnet of the build instances (outbound through NAT or VPC endpoints)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key of the AMI's snapshots and the component (the data key: the hosts' EBS key)."
  type        = string
}

variable "schedule_expression" {
  description = "Image Builder cron expression of the build: weekly by default (Sunday 03:00 UTC)."
  type        = string
  default     = "cron(0 3 ? * sun *)"
  validation {
    condition     = can(regex("^cron\\(", var.schedule_expression))
    error_message = "schedule_expression must be a cron(...) expression: the host image is rebuilt on a schedule."
  }
}

variable "build_instance_type" {
  description = "Build instance type (x86_64, the parent AMI's architecture)."
  type        = string
  default     = "m7i.large"
}

variable "version_prefix" {
  description = "Major.minor of the component and recipe versions; the patch number follows their content."
  type        = string
  default     = "1.0"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.version_prefix))
    error_message = "version_prefix is <major>.<minor>."
  }
}

variable "root_volume_gb" {
  description = "Root volume of the image, GiB (the launch template's is 40)."
  type        = number
  default     = 40
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
