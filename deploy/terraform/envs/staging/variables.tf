# Given by the deploy workflow (GitHub environment variables) or a local *.auto.tfvars file that
# is never committed. None of them is a secret.

variable "allowed_account_ids" {
  description = "The AWS account of this environment: a guard against applying to the wrong one."
  type        = list(string)
}

variable "image" {
  description = "MHP image pinned by digest, as promoted by the deploy workflow."
  type        = string
}

variable "public_host" {
  description = "Host name of this environment."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for public_host in this region."
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

variable "security_baseline" {
  description = "Account controls (CloudTrail, Config, Security Hub, GuardDuty): off only if another root owns them in this account and region."
  type        = bool
  default     = true
}

variable "hipaa_pack_template_s3_uri" {
  description = "s3:// URI of AWS's HIPAA Security conformance pack template (first-deployment runbook)."
  type        = string
  default     = null
}

variable "mail_domain" {
  description = "Domain MHP sends e-mail from through Amazon SES, e.g. mail.example.org (deploy/README.md \"E-mail\"); null or empty: no SES, MHP keeps its mail in the tasks' outbox directory (none leaves)."
  type        = string
  default     = null
}

variable "mail_from" {
  description = "Sender of MHP's mail (MHP_MAIL_FROM), \"Name <local@MAIL_DOMAIN>\" or \"local@MAIL_DOMAIN\"; null or empty: \"MHP <no-reply@MAIL_DOMAIN>\"."
  type        = string
  default     = null
}

variable "mail_hosted_zone_id" {
  description = "Route 53 hosted zone of mail_domain: the DKIM and MAIL FROM records are made there; null or empty: publish the output mail.dns_records where the domain's DNS is."
  type        = string
  default     = null
}

variable "app_key_moved_to_multi_region" {
  description = "MHP's master key moved from the single-Region app key this environment was applied with to the multi-Region app key beside it (deploy/README.md \"Multi-Region keys: the migration\"; modules/platform): the tasks wrap with it as version 2, the old key still unwrapping version 1, and the recovery region is told the replica. Only where output recovery.single_region_keys_in_use names app: a non-production environment keeps no multi-Region key, so true is refused here; the variable is passed as in every root. false: nothing changes."
  type        = bool
  default     = false
  nullable    = false
}
