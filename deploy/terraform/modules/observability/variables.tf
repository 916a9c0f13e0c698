variable "name" {
  description = "Prefix of every name."
  type        = string
}

variable "environment" {
  description = "Environment name: the Environment dimension of MHP's metrics."
  type        = string
}

variable "account_id" {
  description = "AWS account id (OpenSearch metric dimension)."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "Customer key of the log groups and the alarm topic."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the log groups (HIPAA keeps documentation six years: 2192 days in production)."
  type        = number
  default     = 2192
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each confirms by mail)."
  type        = list(string)
  default     = []
}

variable "alb_arn_suffix" {
  description = "Load balancer ARN suffix (CloudWatch dimension)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "Target group ARN suffix (CloudWatch dimension)."
  type        = string
}

variable "ecs_cluster_name" {
  description = "ECS cluster of the app service."
  type        = string
}

variable "ecs_service_name" {
  description = "ECS app service."
  type        = string
}

variable "db_cluster_identifier" {
  description = "Aurora cluster identifier."
  type        = string
}

variable "opensearch_domain_names" {
  description = "OpenSearch domains to watch."
  type        = list(string)
  default     = []
}

variable "http_500_per_5min" {
  description = "Internal errors per five minutes before alarming."
  type        = number
  default     = 5
}

variable "latency_p99_seconds" {
  description = "p99 latency threshold."
  type        = number
  default     = 1
}

variable "ses_configuration_set_arns" {
  description = "SES configuration sets whose bounce and complaint events SES may publish to the alarm topic (modules/mail); empty: none."
  type        = list(string)
  default     = []
}

variable "s3_replication_rules" {
  description = "S3 replication rules to watch in this (the source) region, by name: source_bucket, destination_bucket, rule_id (the dimensions of S3's replication metrics; modules/object-store output replication_rules, with Replication Time Control and metrics on). Two alarms each: ReplicationLatency at or above replication_latency_seconds, and any OperationsFailedReplication. Empty: none (no replication)."
  type = map(object({
    source_bucket      = string
    destination_bucket = string
    rule_id            = string
  }))
  default = {}
}

variable "replication_latency_seconds" {
  description = "ReplicationLatency (seconds) at which an S3 replication rule alarms: the cross-region RPO of deploy/README.md (15 minutes, Replication Time Control's bound)."
  type        = number
  default     = 900
}

variable "app_standing_by" {
  description = "The app service stands by with no task that must report (a recovery environment's pilot light, modules/platform standby_app_count): the mhp_ready alarm treats missing data as missing (INSUFFICIENT_DATA) rather than breaching, so that an environment with nothing running does not sit in ALARM; tasks that report 0 still alarm."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
