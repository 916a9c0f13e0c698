variable "region" {
  description = "Region of the state bucket (the region of the environments in this account)."
  type        = string
}

variable "allowed_account_ids" {
  description = "The account being bootstrapped."
  type        = list(string)
}

variable "github_repository" {
  description = "owner/name of the MHP repository on GitHub."
  type        = string
}

variable "environments" {
  description = "GitHub environments that deploy into this account (dev, staging, prod-use1, ...)."
  type        = list(string)
}

variable "create_oidc_provider" {
  description = "Create the GitHub OIDC provider (false in a second region of the same account)."
  type        = bool
  default     = true
}

variable "release_account" {
  description = "This account holds the ECR repository that release pushes to."
  type        = bool
  default     = false
}

variable "pull_account_ids" {
  description = "Environment accounts allowed to pull the image."
  type        = list(string)
  default     = []
}

variable "replication_regions" {
  description = "Regions the image is replicated to (the other environment regions)."
  type        = list(string)
  default     = []
}

variable "deploy_regions" {
  description = "Regions the deploy roles may change resources in (null: this region and its backup copy region)."
  type        = list(string)
  default     = null
}
