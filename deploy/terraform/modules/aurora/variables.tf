variable "name" {
  description = "Cluster identifier and name prefix."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Isolated data subnets, one per zone (at least two)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Aurora needs subnets in at least two zones."
  }
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect on 5432, by name (app, worker, scheduler)."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Customer key for storage and Performance Insights."
  type        = string
}

variable "secrets_kms_key_arn" {
  description = "Customer key of the RDS-managed master user secret."
  type        = string
}

variable "engine_version" {
  description = "Aurora PostgreSQL version (MHP needs PostgreSQL 15+)."
  type        = string
  default     = "16.6"
}

variable "instance_class" {
  description = "Instance class of writer and readers."
  type        = string
  default     = "db.r6g.large"
}

variable "instance_count" {
  description = "Writer plus readers; two or more puts a reader in another zone for failover."
  type        = number
  default     = 2
  validation {
    condition     = var.instance_count >= 2
    error_message = "Every environment is multi-AZ: at least a writer and one reader."
  }
}

variable "backup_retention_days" {
  description = "Automated backup (point-in-time recovery) window in days: 35 in production."
  type        = number
  default     = 35
  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the cluster (on everywhere but demo environments)."
  type        = bool
  default     = true
}

variable "final_snapshot" {
  description = "Take a final snapshot when the cluster is destroyed."
  type        = bool
  default     = true
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

variable "global_cluster" {
  description = "Make the cluster the primary of an Aurora global database (production): a secondary in the recovery region can then join it."
  type        = bool
  default     = false
}

variable "secondary" {
  description = "Secondary cluster of the global database in the recovery region (aws.replica): its VPC, isolated subnets (two zones or more), the replica of the data key, reader instances (0: headless, an instance is added at recovery; see global.tf), the SNS topics of the recovery region its lag alarms notify, and the cross-region RPO the alarms hold it to (seconds); null: none."
  type = object({
    vpc_id           = string
    subnet_ids       = list(string)
    kms_key_arn      = string
    instance_count   = optional(number, 0)
    alarm_topic_arns = optional(list(string), [])
    rpo_seconds      = optional(number, 900)
  })
  default = null
  validation {
    condition     = var.secondary == null ? true : var.global_cluster && length(var.secondary.subnet_ids) >= 2 && var.secondary.instance_count >= 0
    error_message = "secondary: global_cluster = true, subnets in two zones or more, and zero (headless) or more instances."
  }
  validation {
    condition     = var.secondary == null ? true : var.secondary.rpo_seconds >= 60 && var.secondary.rpo_seconds <= 86400
    error_message = "secondary.rpo_seconds: the cross-region RPO the lag alarms hold the secondary to, between 60 seconds and a day (deploy/README.md \"RTO and RPO\": 900)."
  }
}
