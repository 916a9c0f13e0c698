variable "name" {
  description = "User pool name."
  type        = string
}

variable "domain_prefix" {
  description = "Hosted UI domain prefix (<prefix>.auth.<region>.amazoncognito.com)."
  type        = string
}

variable "callback_urls" {
  description = "MHP's OIDC redirect URIs: MHP's public URL followed by its SSO callback route (/api/v1/auth/sso/callback)."
  type        = list(string)
}

variable "logout_urls" {
  description = "Where Cognito sends people after sign-out."
  type        = list(string)
  default     = []
}

variable "mfa_required" {
  description = "Every user must use a second factor."
  type        = bool
  default     = true
}

variable "advanced_security_mode" {
  description = "Threat protection (advanced security): ENFORCED blocks risky sign-ins, AUDIT only records them, OFF. AUDIT and ENFORCED need feature_plan PLUS."
  type        = string
  default     = "ENFORCED"
  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.advanced_security_mode)
    error_message = "advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }
}

variable "feature_plan" {
  description = "Cognito feature plan of the user pool (user_pool_tier): LITE, ESSENTIALS or PLUS. Threat protection needs PLUS."
  type        = string
  default     = "PLUS"
  validation {
    condition     = contains(["LITE", "ESSENTIALS", "PLUS"], var.feature_plan)
    error_message = "feature_plan must be LITE, ESSENTIALS or PLUS."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the user pool."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
