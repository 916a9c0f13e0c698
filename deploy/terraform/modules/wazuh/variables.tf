variable "name" {
  description = "Prefix of every name (the load balancer's name is <name>, at most 32 characters)."
  type        = string
  validation {
    condition     = length(var.name) <= 32
    error_message = "Load balancer and target group names have at most 32 characters."
  }
}

variable "cluster_arn" {
  description = "ECS cluster of the manager's service (the platform's, whose capacity providers include FARGATE)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the manager."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR of the VPC: the manager's API (55000) answers inside it only."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the task, the internal load balancer and the EFS mount targets (one per zone)."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups of the tasks that send MHP's security events (by a static key: app): the only sources of syslog (6514)."
  type        = map(string)
  validation {
    condition     = length(var.client_security_group_ids) > 0
    error_message = "Name the security group of the tasks that send the events (the app's)."
  }
}

variable "host_name" {
  description = "Name MHP connects to (security.syslog_address host): a private hosted zone of this name in the VPC points at the internal load balancer; certificate_arn must cover it."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.host_name))
    error_message = "host_name: a DNS name (lower case), e.g. wazuh.mhp.example.org."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of host_name (issued by ACM: MHP trusts Amazon's roots without a CA file). The load balancer's TLS listener ends TLS with it."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn: the ARN of an ACM certificate."
  }
}

variable "image" {
  description = "Wazuh manager image, pinned by version (wazuh/wazuh-manager:4.x.y, optionally @sha256:...), never latest."
  type        = string
  default     = "wazuh/wazuh-manager:4.12.0"
  validation {
    condition     = can(regex("^([a-z0-9.-]+/)?wazuh/wazuh-manager:4\\.[0-9]+\\.[0-9]+(@sha256:[0-9a-f]{64})?$", var.image))
    error_message = "The manager image is wazuh/wazuh-manager pinned to a 4.x.y version (a digest may follow), never a floating tag."
  }
}

variable "relay_image" {
  description = "rsyslog image of the syslog relay, pinned (the rsyslog project's images are tagged by release, YYYY-MM)."
  type        = string
  default     = "rsyslog/rsyslog-minimal:2025-06"
  validation {
    condition     = can(regex("^[^:@]+(:[0-9]{4}-[0-9]{2}|:[0-9]+\\.[0-9]+(\\.[0-9]+)?)?(@sha256:[0-9a-f]{64})?$", var.relay_image)) && (strcontains(var.relay_image, ":") || strcontains(var.relay_image, "@"))
    error_message = "The relay image is pinned to a release (YYYY-MM or x.y.z) or a digest, never latest."
  }
}

variable "config_image" {
  description = "AWS CLI image of the init container that copies the manager's and the relay's configuration from the bucket, pinned."
  type        = string
  default     = "public.ecr.aws/aws-cli/aws-cli:2.27.0"
  validation {
    condition     = can(regex("^[^:@]+:[0-9]+\\.[0-9]+\\.[0-9]+(@sha256:[0-9a-f]{64})?$", var.config_image))
    error_message = "The init container's image is pinned to a version, never latest."
  }
}

variable "cpu" {
  description = "Task CPU units (Fargate)."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Task memory, MiB (Fargate; the manager wants 2 GiB or more)."
  type        = number
  default     = 4096
}

variable "kms_key_arn" {
  description = "Customer data key: the EFS file system (the manager's state) and the configuration bucket."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "Customer key of the log groups."
  type        = string
}

variable "secrets_kms_key_arn" {
  description = "Customer key of the API password secret."
  type        = string
}

variable "api_secret_name" {
  description = "Secrets Manager name of the manager API's password (mhp/<env>/wazuh-api)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the manager's and its alerts' log groups."
  type        = number
  default     = 2192
}

variable "access_log_bucket" {
  description = "Bucket of the load balancer's and the configuration bucket's access logs."
  type        = string
}

variable "deletion_protection" {
  description = "Load balancer deletion protection."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Demo environments only: let teardown empty the configuration bucket."
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
