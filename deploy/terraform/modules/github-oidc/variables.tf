variable "repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the roles."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be owner/name."
  }
}

variable "environments" {
  description = "GitHub environments deployed into this account (one deploy role each)."
  type        = list(string)
}

variable "ecr_repository_arns" {
  description = "ECR repositories the release role may push to (empty: no release role in this account)."
  type        = list(string)
  default     = []
}

variable "create_provider" {
  description = "Create the account's GitHub OIDC provider (false when it already exists)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
