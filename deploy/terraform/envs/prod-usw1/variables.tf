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

variable "hosted_zone_id" {
  description = "Route 53 hosted zone of public_host: /readyz health check and failover records; null: DNS managed elsewhere."
  type        = string
  default     = null
}

variable "failover_secondary" {
  description = "The recovery region's load balancer (dns_name, zone_id) once a recovery environment serves there; null: none."
  type = object({
    dns_name = string
    zone_id  = string
  })
  default = null
}

variable "wazuh_certificate_arn" {
  description = "ACM certificate of wazuh.<public_host> in this region (DNS-validated, like certificate_arn): the Wazuh manager's internal load balancer ends syslog's TLS with it."
  type        = string
  default     = null
}

variable "mail_domain" {
  description = "Domain MHP sends e-mail from through Amazon SES, e.g. mail.example.org (invitations, password resets, alerts; deploy/README.md \"E-mail\"). Required: production must deliver its mail."
  type        = string
  default     = null
  validation {
    condition     = var.mail_domain != null && trimspace(coalesce(var.mail_domain, " ")) != ""
    error_message = "mail_domain is required in production (GitHub variable MAIL_DOMAIN, TF_VAR_mail_domain): without it MHP's invitations, password resets and alerts would stay in the tasks' outbox directory."
  }
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
  description = "MHP's master key moved from the single-Region app key this environment was applied with to the multi-Region app key beside it (deploy/README.md \"Multi-Region keys: the migration\"; modules/platform): the tasks wrap with it as version 2, the old key still unwrapping version 1, and the recovery region is told the replica. Only where output recovery.single_region_keys_in_use names app (refused elsewhere). The deploy workflow passes no TF_VAR_ for it: set it in this root's terraform.tfvars, committed, so that every plan keeps it; once true, keep it true. false: nothing changes."
  type        = bool
  default     = false
  nullable    = false
}
