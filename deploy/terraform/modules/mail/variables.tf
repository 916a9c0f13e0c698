variable "name" {
  description = "Prefix of every name, for example mhp-prod-use1: the configuration set's name."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.name))
    error_message = "name: at most 64 letters, digits, dashes and underscores (SES configuration set names)."
  }
}

variable "domain" {
  description = "The domain MHP sends from (an SES domain identity with Easy DKIM), for example mail.example.org."
  type        = string
  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain: a lower-case DNS name such as mail.example.org."
  }
}

variable "from" {
  description = "The sender (mail.from / MHP_MAIL_FROM): \"Display Name <local@domain>\" or \"local@domain\", at `domain` itself. Null or empty: \"MHP <no-reply@<domain>>\"."
  type        = string
  default     = null
  validation {
    # The address (inside <...> when a display name is given) must be at the identity's domain:
    # SES signs it with the identity's DKIM key and the task role may send only as it.
    condition = var.from == null || trimspace(coalesce(var.from, " ")) == "" || can(regex(
      "(^[^<>@\\s]+@${replace(var.domain, ".", "\\.")}$)|(^[^<>@]*<[^<>@\\s]+@${replace(var.domain, ".", "\\.")}>$)",
      trimspace(coalesce(var.from, " "))
    ))
    error_message = "from: \"Name <local@DOMAIN>\" or \"local@DOMAIN\", with DOMAIN the identity's domain."
  }
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone that holds `domain`: the three DKIM CNAME records and the custom MAIL FROM domain (MX and SPF) are made in it. Null: DNS is managed elsewhere; publish output dns_records there (the identity stays unverified until the DKIM records exist)."
  type        = string
  default     = null
}

variable "mail_from_subdomain" {
  description = "Custom MAIL FROM domain (bounces, SPF alignment) as <mail_from_subdomain>.<domain>; only made with hosted_zone_id."
  type        = string
  default     = "bounce"
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.mail_from_subdomain))
    error_message = "mail_from_subdomain: one DNS label."
  }
}

variable "event_topic_arn" {
  description = "SNS topic that receives bounce and complaint events (modules/observability's alarm topic; its policy must let ses.amazonaws.com publish for this configuration set, and its key SES use it)."
  type        = string
  nullable    = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
