variable "name" {
  description = "User pool name."
  type        = string
}

variable "domain_prefix" {
  description = "Hosted UI domain prefix (<prefix>.auth.<region>.amazoncognito.com)."
  type        = string
}

variable "callback_urls" {
  description = "MHP's OIDC redirect URIs."
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
