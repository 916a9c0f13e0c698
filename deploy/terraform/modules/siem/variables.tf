variable "name" {
  description = "Domain name (at most 28 characters)."
  type        = string
  validation {
    condition     = length(var.name) <= 28
    error_message = "OpenSearch domain names have at most 28 characters."
  }
}

variable "vpc_id" {
  description = "VPC of the domain."
  type        = string
}

variable "subnet_ids" {
  description = "Isolated data subnets, one per zone (two or three): the domain's zone count."
  type        = list(string)
  validation {
    condition     = contains([2, 3], length(var.subnet_ids))
    error_message = "OpenSearch zone awareness spans two or three zones: give two or three subnets, one per zone."
  }
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach the domain on 443, by name."
  type        = map(string)
}

variable "client_role_arns" {
  description = "IAM roles allowed to call the domain (task roles)."
  type        = list(string)
}

variable "master_role_arn" {
  description = "IAM role mapped to the OpenSearch security plugin's all_access role (operators, break-glass)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer key for encryption at rest."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "Customer key of the log groups."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the domain's log groups."
  type        = number
  default     = 2192
}

variable "instance_type" {
  description = "Data node instance type."
  type        = string
  default     = "r6g.large.search"
}

variable "instance_count" {
  description = "Data nodes: a multiple of the zone count (the number of subnet_ids)."
  type        = number
  default     = 3
  validation {
    # AWS refuses a zone-aware domain whose data nodes do not divide evenly over its zones.
    condition     = var.instance_count >= length(var.subnet_ids) && var.instance_count % length(var.subnet_ids) == 0
    error_message = "instance_count (${var.instance_count}) must be a multiple of the zone count (${length(var.subnet_ids)} subnets): zone awareness spreads data nodes evenly."
  }
}

variable "dedicated_master" {
  description = "Three dedicated master nodes (production)."
  type        = bool
  default     = true
}

variable "volume_size_gb" {
  description = "EBS volume per data node, GiB."
  type        = number
  default     = 100
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "alert_emails" {
  description = "Addresses subscribed to the security alert topic."
  type        = list(string)
  default     = []
}

variable "vpc_cidr" {
  description = "CIDR of the VPC (Firehose's network interfaces reach the domain inside it)."
  type        = string
}

variable "ingest_subnet_ids" {
  description = "Private subnets of Firehose's network interfaces (one per zone)."
  type        = list(string)
}

variable "access_log_bucket" {
  description = "Bucket that receives the ingest-failures bucket's access logs."
  type        = string
}

variable "event_log_groups" {
  description = "Log groups of JSON events sent to the SIEM (index cwl-events), by a static key: app, worker, security (MHP's OCSF events), cloudtrail."
  type        = map(string)
  default     = {}
}

variable "flow_log_groups" {
  description = "Log groups of VPC flow logs sent to the SIEM (index cwl-vpc-flow), by a static key."
  type        = map(string)
  default     = {}
}

variable "force_destroy" {
  description = "Demo environments only: let teardown empty the ingest-failures bucket."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every IAM role this module creates (bootstrap's mhp-<env>-boundary, passed by modules/platform; null: none)."
  type        = string
  default     = null
}
