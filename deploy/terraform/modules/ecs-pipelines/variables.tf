variable "name" {
  description = "Prefix of every name."
  type        = string
}

variable "image" {
  description = "MHP image, pinned by digest (the same digest as the app)."
  type        = string
  validation {
    condition     = can(regex("^[^@]+@sha256:[0-9a-f]{64}$", var.image))
    error_message = "The image must be pinned by digest (repository@sha256:...), never by a tag."
  }
}

variable "cluster_arn" {
  description = "ECS cluster (the app's)."
  type        = string
}

variable "vpc_id" {
  description = "VPC."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets of the worker tasks."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Customer data key."
  type        = string
}

variable "app_kms_key_arn" {
  description = "MHP's envelope-encryption key."
  type        = string
}

variable "app_kms_key_version" {
  description = "The master version app_kms_key_arn wraps as (keys.kms_key_version, MHP_KEYS_KMS_KEY_VERSION): above 1 once MHP has moved to this key from the earlier ones in app_kms_previous_key_arns (deploy/README.md \"Multi-Region keys: the migration\"). null: not set (MHP's default, 1)."
  type        = number
  default     = null
  validation {
    condition     = var.app_kms_key_version == null || try(var.app_kms_key_version >= 1 && floor(var.app_kms_key_version) == var.app_kms_key_version, false)
    error_message = "app_kms_key_version: null (MHP's default, 1) or a whole number from 1."
  }
}

variable "app_kms_previous_key_arns" {
  description = "Earlier KMS keys that still unwrap what they wrapped, by master version, each below app_kms_key_version (keys.kms_previous_key_ids, MHP_KEYS_KMS_PREVIOUS_KEY_IDS: VERSION=KEY, comma-separated); the task role may use them as it does app_kms_key_arn. {}: none, not set."
  type        = map(string)
  default     = {}
  nullable    = false
  validation {
    condition = alltrue([for v, k in var.app_kms_previous_key_arns :
      can(regex("^[1-9][0-9]*$", v)) && try(tonumber(v) < coalesce(var.app_kms_key_version, 1), false) && can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", k))
    ])
    error_message = "app_kms_previous_key_arns: VERSION => key ARN (the task role is granted the key by its ARN), every version a whole number below app_kms_key_version."
  }
}

variable "secrets_kms_key_arn" {
  description = "Key of the secrets the workers read."
  type        = string
}

variable "secret_env" {
  description = "Environment variables from Secrets Manager (name => ARN)."
  type        = map(string)
  validation {
    condition     = contains(keys(var.secret_env), "DATABASE_URL") && contains(keys(var.secret_env), "MHP_KEYS_STORE_URL")
    error_message = "secret_env must name DATABASE_URL and MHP_KEYS_STORE_URL: every task unwraps the installation root from the one shared key store (docs/design/root.md)."
  }
}

variable "environment_variables" {
  description = "Further plain environment variables: the settings the app's tasks share (modules/ecs-app output shared_environment)."
  type        = map(string)
  default     = {}
}

variable "data_bucket_arn" {
  description = "Data bucket."
  type        = string
}

variable "log_group_name" {
  description = "Log group of the workers."
  type        = string
}

variable "cpu" {
  description = "Fargate CPU units."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Fargate memory, MiB."
  type        = number
  default     = 4096
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64 (must match the image)."
  type        = string
  default     = "X86_64"
}

variable "worker_count" {
  description = "Worker tasks (`mhp worker`: pipeline runs and MHP's own scheduler)."
  type        = number
  default     = 1
}

variable "schedules" {
  description = "Operational jobs as one-off tasks: name => { expression (EventBridge Scheduler), command (the mhp arguments) }. The organisations' pipeline schedules are MHP's own (run by the workers), not these."
  type = map(object({
    expression = string
    command    = list(string)
  }))
  nullable = false
  default = {
    # MHP's logical backups (docs/design/backup.md: on PostgreSQL backup.schedule stays off in
    # the tasks and `mhp backup create` runs from a scheduled task), sealed and signed by the
    # installation's own keys, beside Aurora's point-in-time recovery and AWS Backup: the system
    # of record and its objects, and the key store apart, daily; the retention pruned after.
    backup-create     = { expression = "cron(15 2 * * ? *)", command = ["backup", "create"] }
    backup-key-store  = { expression = "cron(45 2 * * ? *)", command = ["backup", "create", "--key-store"] }
    backup-prune      = { expression = "cron(15 4 * * ? *)", command = ["backup", "prune"] }
    backup-prune-keys = { expression = "cron(30 4 * * ? *)", command = ["backup", "prune", "--key-store"] }
    # Restore the newest backups into the task's scratch space, verify them and start a server
    # on them: RTO and RPO measured weekly.
    backup-drill = { expression = "cron(0 5 ? * SUN *)", command = ["backup", "drill"] }
  }
  validation {
    condition     = alltrue([for s in values(var.schedules) : length(s.command) > 0 && !contains(["serve", "worker"], s.command[0])])
    error_message = "a schedule runs a one-off mhp command (not serve or worker, which never end)."
  }
}

variable "schedules_enabled" {
  description = "Enable the schedules."
  type        = bool
  default     = true
}

variable "backup_bucket_arns" {
  description = "The backup buckets (backup.to, backup.keys_to) the workers read, write and prune."
  type        = list(string)
  default     = []
}

variable "opensearch_domain_arns" {
  description = "OpenSearch domains the workers call (the document index, the SIEM)."
  type        = list(string)
  default     = []
}

variable "security_log_group_arn" {
  description = "Log group of MHP's security events (security.cloudwatch_log_group), or null."
  type        = string
  default     = null
}

variable "mail" {
  description = "E-mail through Amazon SES (modules/mail output sending, the same as the app's): the sender (MHP_MAIL_FROM), its bare address, the identity and the configuration set the worker role may send through. Null: no SES; MHP keeps its default transport (the outbox directory in the task's volume)."
  type = object({
    from                   = string
    from_address           = string
    identity_arn           = string
    configuration_set_name = string
    configuration_set_arn  = string
  })
  default = null
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
