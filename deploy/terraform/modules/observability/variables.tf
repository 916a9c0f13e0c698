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

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
