variable "name" {
  description = "Prefix of every name (at most 32 characters for the load balancer)."
  type        = string
  validation {
    condition     = length(var.name) <= 32
    error_message = "Load balancer and target group names have at most 32 characters."
  }
}

variable "image" {
  description = "MHP image, pinned by digest: <registry>/<repository>@sha256:<64 hex>."
  type        = string
  validation {
    condition     = can(regex("^[^@]+@sha256:[0-9a-f]{64}$", var.image))
    error_message = "The image must be pinned by digest (repository@sha256:...), never by a tag."
  }
}

variable "collector_image" {
  description = "AWS Distro for OpenTelemetry collector image (metrics sidecar)."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "collector_config" {
  description = "Collector configuration (from modules/observability)."
  type        = string
}

variable "vpc_id" {
  description = "VPC."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR (PostgreSQL egress stays inside it)."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancer."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks and container instances."
  type        = list(string)
}

variable "ingress_cidr" {
  description = "Who may reach the load balancer."
  type        = string
  default     = "0.0.0.0/0"
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket of load-balancer access logs."
  type        = string
}

variable "deletion_protection" {
  description = "Load balancer deletion protection."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer data key (EBS volumes, data bucket)."
  type        = string
}

variable "app_kms_key_arn" {
  description = "MHP's envelope-encryption key (planned key keys.kms_key_id)."
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
  description = "Key of the secrets the tasks read."
  type        = string
}

variable "secret_env" {
  description = "Environment variables filled from Secrets Manager (name => secret ARN), e.g. DATABASE_URL."
  type        = map(string)
  validation {
    condition     = contains(keys(var.secret_env), "DATABASE_URL") && contains(keys(var.secret_env), "MHP_KEYS_STORE_URL")
    error_message = "secret_env must name DATABASE_URL and MHP_KEYS_STORE_URL: every task unwraps the installation root from the one shared key store (docs/design/root.md)."
  }
}

variable "environment_variables" {
  description = "Further plain environment variables of the mhp container."
  type        = map(string)
  default     = {}
}

variable "public_url" {
  description = "The address users reach MHP at (http.public_url): https://HOST, no trailing slash. Sign-in links, SSO redirects and the token issuer name it."
  type        = string
  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", var.public_url))
    error_message = "public_url must be https://HOST[:PORT] without a path or trailing slash."
  }
}

variable "backup_to" {
  description = "Where MHP's backups go (backup.to): s3://BUCKET/PREFIX."
  type        = string
  validation {
    condition     = startswith(var.backup_to, "s3://")
    error_message = "backup_to must be an s3:// destination: a task's volume is lost on every deploy."
  }
}

variable "backup_keys_to" {
  description = "Where the key store's backups go (backup.keys_to): s3://BUCKET/PREFIX in a bucket apart from backup_to's."
  type        = string
  validation {
    condition     = startswith(var.backup_keys_to, "s3://")
    error_message = "backup_keys_to must be an s3:// destination."
  }
}

variable "backup_bucket_arns" {
  description = "The buckets of backup_to and backup_keys_to (the task role reads, writes and prunes them)."
  type        = list(string)
}

variable "data_bucket_arn" {
  description = "Data bucket."
  type        = string
}

variable "audit_exports_bucket_arn" {
  description = "Audit-export bucket (write only)."
  type        = string
}

variable "opensearch_domain_arns" {
  description = "OpenSearch domains the app may call (documents, SIEM)."
  type        = list(string)
}

variable "search_opensearch_url" {
  description = "HTTPS endpoint of the documents OpenSearch domain (IAM-only): the document index, each request signed with the task role (SigV4, service es). Null keeps the embedded index."
  type        = string
  default     = null
}

variable "log_group_name" {
  description = "Log group of the app."
  type        = string
}

variable "siem_opensearch_url" {
  description = "HTTPS endpoint of the SIEM OpenSearch domain (IAM-only): every security event is stored there too, each request signed with the task role. Null: none."
  type        = string
  default     = null
}

variable "security_log_group_name" {
  description = "Log group that receives MHP's security events in OCSF (security.cloudwatch_log_group). Null: the JSON-lines file only."
  type        = string
  default     = null
}

variable "syslog_address" {
  description = "host:port of a syslog receiver over TLS that receives every security event too (security.syslog_address; modules/wazuh's syslog_address). Null: none."
  type        = string
  default     = null
  validation {
    condition     = var.syslog_address == null || can(regex("^[a-z0-9.-]+:[0-9]{1,5}$", var.syslog_address))
    error_message = "syslog_address: host:port (the receiver's certificate names the host)."
  }
}

variable "mail" {
  description = "E-mail through Amazon SES (modules/mail output sending): the sender (MHP_MAIL_FROM), its bare address, the identity and the configuration set the task role may send through. Null: no SES; MHP keeps its default transport (the outbox directory in the task's volume)."
  type = object({
    from                   = string
    from_address           = string
    identity_arn           = string
    configuration_set_name = string
    configuration_set_arn  = string
  })
  default = null
}

variable "security_log_group_arn" {
  description = "ARN of security_log_group_name (the task role may write streams into it)."
  type        = string
  default     = null
}

variable "collector_log_group_arn" {
  description = "Log group the metrics sidecar writes embedded metrics into."
  type        = string
}

variable "pipeline_task_definition_arns" {
  description = "Pipeline task definitions the app may start on demand."
  type        = list(string)
  default     = []
}

variable "pipeline_pass_role_arns" {
  description = "Roles the app passes when it starts a pipeline task."
  type        = list(string)
  default     = []
}

variable "instance_type" {
  description = "Container instance type, of the family of `architecture` (Graviton types, with a g after the generation digit, are arm64)."
  type        = string
  default     = "m7i.large"
}

variable "architecture" {
  description = "CPU architecture of the container instances: x86_64 or arm64. Picks the ECS-optimized AMI and must match instance_type and the image (scripts/build-image.sh --architecture amd64 is x86_64)."
  type        = string
  default     = "x86_64"
  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "force_delete" {
  description = "Demo environments: destroy terminates the container instances without waiting (no scale-in protection, managed termination protection off)."
  type        = bool
  default     = false
}

variable "asg_min_size" {
  description = "Minimum container instances (at least one per zone in production)."
  type        = number
  default     = 3
}

variable "asg_max_size" {
  description = "Maximum container instances."
  type        = number
  default     = 9
}

variable "cpu" {
  description = "Task CPU units."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Task memory, MiB."
  type        = number
  default     = 2048
}

variable "desired_count" {
  description = "Minimum running app tasks (two or more: several stateless instances)."
  type        = number
  default     = 3
  validation {
    condition     = var.desired_count >= 2
    error_message = "At least two app tasks, in different zones."
  }
}

variable "standby_count" {
  description = "A recovery environment standing by ahead of a disaster (modules/platform standby_app_count): the app tasks it runs and the auto scaling minimum, 0 (pilot light) or more (warm standby), instead of desired_count; the container hosts' minimum is then 0 (the capacity provider launches what placed tasks need). Raising the scalable target's minimum to desired_count scales it up (docs/runbooks/restore-to-new-region.md B). null: the service runs desired_count (serving)."
  type        = number
  default     = null
  validation {
    condition     = var.standby_count == null || try(var.standby_count >= 0 && floor(var.standby_count) == var.standby_count, false)
    error_message = "standby_count: null, or a whole number of tasks, 0 (pilot light) or more (warm standby)."
  }
}

variable "max_count" {
  description = "Maximum app tasks under auto scaling."
  type        = number
  default     = 12
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

variable "ami_parameter_name" {
  description = "SSM parameter of the hosts' AMI id: modules/host-image's hardened AMI (/mhp/<env>/ecs-host-ami, built for x86_64); null: AWS's public ECS-optimized AMI parameter of the architecture."
  type        = string
  default     = null
}
