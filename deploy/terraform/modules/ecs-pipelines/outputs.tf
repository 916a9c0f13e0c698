output "task_definition_arn" {
  description = "Worker task definition (the app may run it on demand)."
  value       = aws_ecs_task_definition.worker.arn
}

output "worker_role_arn" {
  description = "Worker task role."
  value       = aws_iam_role.worker.arn
}

output "execution_role_arn" {
  description = "Worker execution role."
  value       = aws_iam_role.execution.arn
}

output "scheduler_role_arn" {
  description = "Role of EventBridge Scheduler."
  value       = aws_iam_role.scheduler.arn
}

output "security_group_id" {
  description = "Security group of the workers."
  value       = aws_security_group.worker.id
}

output "container_environment" {
  description = "The plain environment of the worker's MHP containers (worker and migrate; the scheduled jobs run in the worker container), as planned (asserted by modules/platform's tests)."
  value       = { for e in local.container_env : e.name => e.value }
}

output "service_name" {
  description = "The worker service (`mhp worker`)."
  value       = aws_ecs_service.worker.name
}

output "worker_count" {
  description = "Worker tasks the service runs, as planned."
  value       = aws_ecs_service.worker.desired_count
}

output "schedule_states" {
  description = "State of each operational job's schedule (ENABLED or DISABLED), by name."
  value       = { for k, j in aws_scheduler_schedule.job : k => j.state }
}

output "envelope_keys" {
  description = "The worker task role's statement on the KMS keys (EnvelopeKeys: the app key, the earlier app keys that still unwrap, the data key), its actions and resources as planned (asserted by modules/platform's tests)."
  value       = one([for s in data.aws_iam_policy_document.worker.statement : { actions = s.actions, resources = s.resources } if s.sid == "EnvelopeKeys"])
}
