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

variable "regions" {
  description = "Regions the deploy roles may change resources in: the environments' region and their backup copy region."
  type        = list(string)
  validation {
    condition     = length(var.regions) > 0 && alltrue([for r in var.regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "regions: at least one region name, e.g. us-east-1."
  }
}

variable "protected_refs" {
  description = "Git refs whose jobs may assume the roles (GitHub's ref claim; IAM StringLike patterns): the protected branch and the release tags."
  type        = list(string)
  default     = ["refs/heads/main", "refs/tags/v*"]
  validation {
    condition     = length(var.protected_refs) > 0 && alltrue([for r in var.protected_refs : r == "refs/heads/main" || startswith(r, "refs/tags/v")])
    error_message = "protected_refs: only refs/heads/main and refs/tags/v* patterns (what the repository's rulesets protect)."
  }
}

variable "deploy_workflow" {
  description = "The workflow whose jobs assume the deploy and plan roles (path in the repository)."
  type        = string
  default     = ".github/workflows/deploy-env.yml"
}

variable "release_workflow" {
  description = "The workflow whose job assumes the release role (path in the repository)."
  type        = string
  default     = ".github/workflows/release.yml"
}

variable "pass_role_services" {
  description = "Services the deploy role (and a role under the boundary) may pass MHP's roles to."
  type        = list(string)
  default = [
    "ecs-tasks.amazonaws.com",      # task and execution roles (task definitions, RunTask)
    "ec2.amazonaws.com",            # container instance profile (launch template)
    "scheduler.amazonaws.com",      # EventBridge Scheduler's role
    "backup.amazonaws.com",         # AWS Backup selection
    "monitoring.rds.amazonaws.com", # Aurora enhanced monitoring
    "rds.amazonaws.com",            # (the same, as some API paths report it)
    "config.amazonaws.com",         # AWS Config recorder
    "cloudtrail.amazonaws.com",     # CloudTrail to CloudWatch Logs
    "vpc-flow-logs.amazonaws.com",  # VPC flow logs
    "es.amazonaws.com",             # OpenSearch
    "opensearchservice.amazonaws.com",
    "firehose.amazonaws.com",                          # the SIEM's delivery streams
    "logs.amazonaws.com",                              # log subscriptions into Firehose
    "malware-protection-plan.guardduty.amazonaws.com", # GuardDuty's scan of the upload bucket
    "s3.amazonaws.com",                                # cross-region replication's role
  ]
  validation {
    condition     = length(var.pass_role_services) > 0 && alltrue([for s in var.pass_role_services : can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)*\\.amazonaws\\.com$", s))])
    error_message = "pass_role_services: service principals (name.amazonaws.com), no wildcards."
  }
}

variable "service_linked_role_services" {
  description = "Services whose service-linked roles the deploy role may create (their permissions are AWS's, fixed)."
  type        = list(string)
  default = [
    "ecs.amazonaws.com", "autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com", "rds.amazonaws.com", "es.amazonaws.com",
    "opensearchservice.amazonaws.com", "backup.amazonaws.com", "config.amazonaws.com",
    "config-conforms.amazonaws.com", "guardduty.amazonaws.com",
    "malware-protection.guardduty.amazonaws.com", "securityhub.amazonaws.com",
    "access-analyzer.amazonaws.com", "imagebuilder.amazonaws.com",
    "elasticfilesystem.amazonaws.com", # the first EFS file system (modules/wazuh)
  ]
}

variable "boundary_read_services" {
  description = "Services whose Describe*/Get*/List* the boundary allows (AWS Config's recorder reads what it records; agents describe their host)."
  type        = list(string)
  default = [
    "access-analyzer", "acm", "apigateway", "application-autoscaling", "autoscaling", "backup",
    "cloudformation", "cloudfront", "cloudtrail", "cloudwatch", "cognito-idp", "config",
    "dynamodb", "ec2", "ecr", "ecs", "eks", "elasticache", "elasticfilesystem",
    "elasticloadbalancing", "es", "events", "guardduty", "iam", "kinesis", "kms", "lambda", "logs",
    "rds", "redshift", "route53", "s3", "scheduler", "secretsmanager", "securityhub", "ses", "sns",
    "sqs", "ssm", "waf-regional", "wafv2",
  ]
  validation {
    condition     = !contains(var.boundary_read_services, "organizations") && !contains(var.boundary_read_services, "account")
    error_message = "boundary_read_services: Organizations and account stay denied by the boundary."
  }
}
