variable "environment" {
  description = "Environment name: dev, staging, prod-use1, prod-usw1, prod-apse2, or a demo name."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: 2-16 characters, lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "flavour" {
  description = "production, non-production or demo (no deletion protection, smaller, short retention)."
  type        = string
  validation {
    condition     = contains(["production", "non-production", "demo"], var.flavour)
    error_message = "flavour must be production, non-production or demo."
  }
}

variable "image" {
  description = "MHP image pinned by digest (the one digest promoted through every environment)."
  type        = string
}

variable "public_host" {
  description = "Host name users reach (DNS CNAME to the load balancer)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for public_host, in the environment's region."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR (distinct per environment so that VPCs can be peered later)."
  type        = string
}

variable "alarm_emails" {
  description = "Operators notified of alarms."
  type        = list(string)
  default     = []
}

variable "security_alert_emails" {
  description = "Security team notified of security alerts."
  type        = list(string)
  default     = []
}

variable "app_environment" {
  description = "Further plain MHP settings for the app (MHP_* variables)."
  type        = map(string)
  default     = {}
}

variable "worker_count" {
  description = "Pipeline worker tasks (`mhp worker`)."
  type        = number
  default     = 1
}

variable "pipeline_schedules" {
  description = "Operational jobs as one-off tasks (name => { expression, command }); null: modules/ecs-pipelines' default (the weekly restore drill)."
  type = map(object({
    expression = string
    command    = list(string)
  }))
  default = null
}

variable "pipeline_schedules_enabled" {
  description = "Enable the operational jobs' schedules."
  type        = bool
  default     = true
}

variable "security_baseline" {
  description = "Account and region controls (CloudTrail, Config, Security Hub, GuardDuty); off only where another root already owns them in this account and region."
  type        = bool
  default     = true
}

variable "record_global_resources" {
  description = "AWS Config records global resources (IAM) from this region."
  type        = bool
  default     = true
}

variable "hipaa_pack_template_s3_uri" {
  description = "s3:// URI of AWS's HIPAA Security conformance pack template (null: MHP's subset)."
  type        = string
  default     = null
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone of public_host: a /readyz health check and failover records (modules/failover); null: DNS is managed elsewhere (CNAME to the load balancer). Unused with recovery_of: the recovered environment's root owns the records, its SECONDARY naming the recovery environment's load balancer (failover_secondary)."
  type        = string
  default     = null
}

variable "failover_secondary" {
  description = "The recovery region's load balancer (dns_name, zone_id) that Route 53 answers while the primary is unhealthy; null: none yet."
  type = object({
    dns_name = string
    zone_id  = string
  })
  default = null
}

variable "wazuh_enabled" {
  description = "A Wazuh manager in the VPC (modules/wazuh) that receives every security event by syslog over TLS and runs MHP's rules; the tasks are told its address (MHP_SECURITY_SYSLOG_ADDRESS). It costs a Fargate task (1 vCPU, 4 GiB), an internal load balancer and EFS: on in the production roots, off by default elsewhere."
  type        = bool
  default     = false
}

variable "wazuh_host" {
  description = "Name the tasks reach the Wazuh manager at, inside the VPC (a private zone of that name); null: wazuh.<public_host>."
  type        = string
  default     = null
}

variable "wazuh_certificate_arn" {
  description = "ACM certificate of the Wazuh manager's name (wazuh_host, by default wazuh.<public_host>) in the environment's region: the internal load balancer ends TLS with it. Needed when wazuh_enabled."
  type        = string
  default     = null
  validation {
    condition     = !var.wazuh_enabled || var.wazuh_certificate_arn != null
    error_message = "wazuh_enabled needs wazuh_certificate_arn: an ACM certificate (DNS-validated, like certificate_arn) of wazuh_host (by default wazuh.<public_host>)."
  }
}

variable "mail_domain" {
  description = "Domain MHP sends e-mail from (invitations, password resets, alerts) through Amazon SES (modules/mail: a DKIM identity, a configuration set requiring TLS; the tasks get MHP_MAIL_TRANSPORT=ses and may send only as mail_from). Null or empty: no SES; the tasks keep MHP's default transport (the outbox directory of the task's volume, which nobody reads: no mail leaves). The production roots require it."
  type        = string
  default     = null
  validation {
    condition     = var.mail_domain == null || trimspace(coalesce(var.mail_domain, " ")) == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", lower(trimspace(coalesce(var.mail_domain, " ")))))
    error_message = "mail_domain: a DNS name such as mail.example.org (no scheme, no path, no address)."
  }
}

variable "mail_from" {
  description = "The sender (MHP_MAIL_FROM): \"Name <local@MAIL_DOMAIN>\" or \"local@MAIL_DOMAIN\"; the task roles may send only as its address. Null or empty: \"MHP <no-reply@MAIL_DOMAIN>\"."
  type        = string
  default     = null
}

variable "mail_hosted_zone_id" {
  description = "Route 53 hosted zone holding mail_domain: its three DKIM CNAME records and the MAIL FROM domain (bounce.<mail_domain>: MX and SPF) are made there. Null or empty: DNS is managed elsewhere (publish output mail.dns_records; SES sends only once the DKIM records exist)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary (bootstrap's mhp-<env>-boundary) of every IAM role of the environment; the deploy role may create roles only with it. null: none (a workstation apply into an account without the bootstrap's boundary)."
  type        = string
  default     = null
  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/mhp-[a-z0-9-]+-boundary$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn: the ARN of a policy named mhp-<env>-boundary."
  }
}

variable "recovery_vpc_cidr" {
  description = "CIDR of the network a production environment keeps in its recovery region (the copy region): its Aurora global database's secondary, and a recovery environment's tasks (recovery.tf). Distinct from every VPC (deploy/README.md \"Environments\"). Required for production, unused elsewhere."
  type        = string
  default     = null
  validation {
    condition     = var.recovery_vpc_cidr == null || can(cidrnetmask(var.recovery_vpc_cidr))
    error_message = "recovery_vpc_cidr: an IPv4 CIDR block, e.g. 10.130.0.0/16."
  }
  validation {
    condition     = var.flavour != "production" || var.recovery_of != null || var.recovery_vpc_cidr != null
    error_message = "production needs recovery_vpc_cidr: the network of its Aurora secondary and of a recovery environment in its recovery region."
  }
  validation {
    condition     = var.recovery_vpc_cidr == null || var.recovery_vpc_cidr != var.vpc_cidr
    error_message = "recovery_vpc_cidr must differ from vpc_cidr (the networks may be peered)."
  }
}

variable "recovery_of" {
  description = "Recovery mode (docs/runbooks/restore-to-new-region.md B): the production environment this one recovers, applied in that environment's recovery region. Its parameters there (/mhp/<recovery_of>/...) are read: the tasks run in its recovery network, on its replica buckets and keys, and may reach its Aurora secondary, which is its database (it makes no Aurora cluster, no data, backups or key-backups bucket, and no Route 53 record, of its own); nothing is made in this environment's own recovery region but the backup copy vault; standby_app_count says whether it stands by or serves. null: an environment of its own."
  type        = string
  default     = null
  validation {
    condition     = var.recovery_of == null || (can(regex("^[a-z][a-z0-9-]{1,15}$", coalesce(var.recovery_of, "x"))) && var.recovery_of != var.environment)
    error_message = "recovery_of: the name of another environment (2-16 characters, lower-case letters, digits and dashes)."
  }
}

variable "standby_app_count" {
  description = "A recovery environment (recovery_of) applied ahead of a disaster stands by (docs/runbooks/restore-to-new-region.md B): its app service runs this many tasks - 0, pilot light (the default), or 1 and more, warm standby - with no worker, no scheduled job and no container host but what placed tasks need, and the recovery scales it up instead of applying it for the first time. Warm tasks serve only once their database answers writes: before the failover the secondary is read-only and each task stops at `mhp migrate` (deploy/README.md \"RTO and RPO\"). null: serving, with the flavour's sizes, the workers and the schedules (give it once the environment serves, so that an apply keeps the scaled-up service). Unused without recovery_of."
  type        = number
  default     = 0
  validation {
    condition     = var.standby_app_count == null || try(var.standby_app_count >= 0 && floor(var.standby_app_count) == var.standby_app_count, false)
    error_message = "standby_app_count: null (serving), or a whole number of app tasks, 0 (pilot light) or more (warm standby)."
  }
}

variable "app_key_moved_to_multi_region" {
  description = "An environment whose app key was made single-Region (applied before its keys were multi-Region: output recovery.single_region_keys_in_use names app) moves MHP's master key to the multi-Region app key beside it (alias/mhp-<env>-app-multi-region, whose replica is in the recovery region): the app's and the workers' tasks (and the scheduled jobs) get MHP_KEYS_KMS_KEY_ID = that key's ARN, MHP_KEYS_KMS_KEY_VERSION = 2 and MHP_KEYS_KMS_PREVIOUS_KEY_IDS = 1=<the single-Region key's ARN>, their roles may use both keys, and the recovery region gets keys.kms_key_id (the replica) and keys.kms_key_version = 2. Then `mhp keys rewrap` moves the root and the organisation keys onto it (deploy/README.md \"Multi-Region keys: the migration\"). Once true, keep it true: the key store is then wrapped by version 2. Refused where the app key is not such a single-Region key (a multi-Region one needs no move; a recovery environment reads the version from its source's parameters). false: nothing changes."
  type        = bool
  default     = false
  nullable    = false
  validation {
    condition     = !var.app_key_moved_to_multi_region || contains(module.kms.single_region_in_use, "app")
    error_message = "app_key_moved_to_multi_region: only for an environment whose app key in use is single-Region with a multi-Region key beside it (output recovery.single_region_keys_in_use names app: production applied before its keys were multi-Region). A key made multi-Region needs no move, other flavours have no multi-Region key, and a recovery environment takes the version from its source's parameters (keys.kms_key_version)."
  }
}
