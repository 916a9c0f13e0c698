variable "prefix" {
  description = "Path prefix of every secret and parameter, for example mhp/prod-use1."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key of secrets and SecureString parameters."
  type        = string
}

# Only secrets a task reads (modules/platform secret_env; deploy/check_app_config.py fails on
# one that nothing reads). The Cognito app client's secret is none of them: an organisation's
# admin gives it to MHP through PUT /api/v1/orgs/{org}/sso, which keeps it sealed with the
# organisation's key (docs/runbooks/rotate-keys-and-secrets.md, "Cognito client secret").
variable "secrets" {
  description = "Secrets to create (name => description); their values are put out of band."
  type        = map(string)
  default = {
    "database-url"  = "DATABASE_URL of the mhp_app role (NOSUPERUSER NOBYPASSRLS), with sslmode=require"
    "key-store-url" = "keys.store_url: the key store's own database (wrapped data keys), apart from the system of record and backed up on its own schedule"
  }
}

variable "parameters" {
  description = "Non-secret settings (name => value) stored as SecureString parameters for the tasks."
  type        = map(string)
  default     = {}
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once: demo only)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "replica" {
  description = "Replicate the named secrets (Secrets Manager replication) to another region, encrypted there with kms_key_arn (a key of that region): production's database-url and key-store-url to the recovery region. null: no replicas."
  type = object({
    region      = string
    kms_key_arn = string
    secrets     = list(string)
  })
  default = null
  validation {
    condition     = var.replica == null || alltrue([for s in try(var.replica.secrets, []) : contains(keys(var.secrets), s)])
    error_message = "replica.secrets: names of secrets this module makes."
  }
}
