variable "name" {
  description = "Environment name, e.g. demo-acme (2-16 characters)."
  type        = string
}

variable "region" {
  description = "us-east-1, us-west-1 or ap-southeast-2 (providers.tf copy_region); with recovery_of, the recovery region of the environment it recovers: us-west-1, us-east-1 or ap-southeast-4 (source_region)."
  type        = string
  validation {
    condition     = var.recovery_of == null ? contains(["us-east-1", "us-west-1", "ap-southeast-2"], var.region) : contains(["us-west-1", "us-east-1", "ap-southeast-4"], var.region)
    error_message = "region must be one of us-east-1, us-west-1, ap-southeast-2; with recovery_of (a recovery environment), the recovery region of the environment it recovers: us-west-1, us-east-1 or ap-southeast-4."
  }
}

variable "flavour" {
  description = "demo (default: no deletion protection, small, short retention) or production (a new production environment from the same template)."
  type        = string
  default     = "demo"
}

variable "allowed_account_ids" {
  description = "The AWS account to create the environment in."
  type        = list(string)
}

variable "image" {
  description = "MHP image pinned by digest."
  type        = string
}

variable "public_host" {
  description = "Host name of the environment."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for public_host in the region."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR."
  type        = string
  default     = "10.100.0.0/16"
}

variable "alarm_emails" {
  description = "Operators notified of alarms."
  type        = list(string)
  default     = []
}

variable "security_baseline" {
  description = "Create the account's baseline controls in this region (see main.tf)."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the environment's IAM roles (bootstrap output permissions_boundary_arns, when the environment is listed there); null: none."
  type        = string
  default     = null
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone of public_host (/readyz health check and failover records); null: none. A recovery environment (recovery_of) makes no records: its source's root points its SECONDARY record at this environment's load balancer (failover_secondary)."
  type        = string
  default     = null
}

variable "mail_domain" {
  description = "Domain the environment sends e-mail from through Amazon SES (TF_VAR_mail_domain; deploy/README.md \"E-mail\"); null or empty: no SES, mail stays in the tasks' outbox directory. A recovery environment of production gives production's."
  type        = string
  default     = null
}

variable "mail_from" {
  description = "Sender (MHP_MAIL_FROM) at mail_domain; null or empty: \"MHP <no-reply@MAIL_DOMAIN>\"."
  type        = string
  default     = null
}

variable "mail_hosted_zone_id" {
  description = "Route 53 hosted zone of mail_domain (DKIM and MAIL FROM records); null or empty: none made."
  type        = string
  default     = null
}

variable "recovery_vpc_cidr" {
  description = "With flavour production: the CIDR of the network kept in the recovery region (the Aurora global database's secondary, a recovery environment); distinct from vpc_cidr and from every other VPC it may be peered with."
  type        = string
  default     = "10.101.0.0/16"
}

variable "recovery_of" {
  description = "Recovery (MHP_RECOVERY_OF; docs/runbooks/restore-to-new-region.md B): the production environment this one recovers. Apply in that environment's recovery region: its parameters there (/mhp/<recovery_of>/...) give the network, the replica buckets and keys and the Aurora secondary the tasks use. null: an environment of its own."
  type        = string
  default     = null
}

variable "standby_app_count" {
  description = "With recovery_of (MHP_STANDBY_APP_COUNT): the app tasks the recovery environment runs while it stands by ahead of a disaster, 0 (pilot light, the default) or more (warm standby), with no worker and no scheduled job; null (MHP_STANDBY_APP_COUNT=serving) once it serves, after runbook B's scale-up. Unused without recovery_of."
  type        = number
  default     = 0
}

variable "app_key_moved_to_multi_region" {
  description = "With flavour production (TF_VAR_app_key_moved_to_multi_region): MHP's master key moved from the single-Region app key the environment was applied with to the multi-Region app key beside it (deploy/README.md \"Multi-Region keys: the migration\"; modules/platform): the tasks wrap with it as version 2, the old key still unwrapping version 1, and the recovery region is told the replica. Only where output recovery.single_region_keys_in_use names app (refused elsewhere, and with recovery_of: a recovery environment takes the version from its source's parameters). Once true, give it at every later plan and up. false: nothing changes."
  type        = bool
  default     = false
  nullable    = false
}
