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
  description = "Further plain environment variables."
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
  description = "Worker tasks. 0 until `mhp worker` exists (planned)."
  type        = number
  default     = 0
}

variable "schedules" {
  description = "Scheduled pipelines: name => schedule expression, e.g. { nightly-risk = \"cron(0 2 * * ? *)\" }."
  type        = map(string)
  default     = {}
}

variable "schedules_enabled" {
  description = "Enable the schedules (false until `mhp worker` exists)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
