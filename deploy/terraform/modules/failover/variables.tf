variable "name" {
  description = "Prefix of every name, for example mhp-prod-use1."
  type        = string
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone of public_host."
  type        = string
}

variable "public_host" {
  description = "Host name users reach."
  type        = string
}

variable "load_balancer_arn" {
  description = "The primary region's load balancer (modules/ecs-app)."
  type        = string
}

variable "secondary" {
  description = "The recovery region's load balancer (DNS name and hosted zone id) once it serves; null: a PRIMARY record only."
  type = object({
    dns_name = string
    zone_id  = string
  })
  default = null
}

variable "request_interval" {
  description = "Seconds between health checks from each checker (10 or 30)."
  type        = number
  default     = 10
  validation {
    condition     = contains([10, 30], var.request_interval)
    error_message = "request_interval: 10 or 30."
  }
}

variable "failure_threshold" {
  description = "Consecutive failures before the primary is unhealthy (1-10)."
  type        = number
  default     = 3
  validation {
    condition     = var.failure_threshold >= 1 && var.failure_threshold <= 10
    error_message = "failure_threshold: 1 to 10."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
