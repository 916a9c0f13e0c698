# Stand-in for modules/ecs-pipelines in check moto-apply: it needs ecs-app's cluster, which moto
# cannot make here (deploy/README.md "Applied against moto").
output "task_definition_arn" {
  value = "arn:aws:ecs:us-east-1:123456789012:task-definition/${var.name}-worker:1"
}

output "worker_role_arn" {
  value = "arn:aws:iam::123456789012:role/${var.name}-worker"
}

output "execution_role_arn" {
  value = "arn:aws:iam::123456789012:role/${var.name}-worker-execution"
}

output "scheduler_role_arn" {
  value = "arn:aws:iam::123456789012:role/${var.name}-scheduler"
}

output "security_group_id" {
  value = "sg-0a000000000000002"
}

output "container_environment" {
  value = {}
}

output "service_name" {
  value = "mhp-worker"
}

output "worker_count" {
  value = var.worker_count
}

output "schedule_states" {
  value = {}
}

output "envelope_keys" {
  value = null
}
