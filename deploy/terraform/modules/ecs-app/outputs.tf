output "cluster_name" {
  description = "ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ECS cluster ARN."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "ECS service of the app."
  value       = aws_ecs_service.app.name
}

output "task_definition_family" {
  description = "Task definition family of the app (its migrate container runs `mhp migrate` before serve)."
  value       = aws_ecs_task_definition.app.family
}

output "load_balancer_arn" {
  description = "Load balancer ARN (WAF association)."
  value       = aws_lb.this.arn
}

output "load_balancer_arn_suffix" {
  description = "Load balancer ARN suffix (CloudWatch dimension)."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "Target group ARN suffix (CloudWatch dimension)."
  value       = aws_lb_target_group.app.arn_suffix
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer (point the environment's host name at it)."
  value       = aws_lb.this.dns_name
}

output "app_security_group_id" {
  description = "Security group of the app tasks."
  value       = aws_security_group.app.id
}

output "app_role_arn" {
  description = "Task role of the app."
  value       = aws_iam_role.app.arn
}

output "execution_role_arn" {
  description = "Execution role of the app tasks."
  value       = aws_iam_role.execution.arn
}

output "private_subnet_ids" {
  description = "Subnets of the tasks (for one-off tasks such as migrate)."
  value       = var.private_subnet_ids
}

output "load_balancer_deletion_protection" {
  description = "Whether the load balancer refuses deletion."
  value       = aws_lb.this.enable_deletion_protection
}

output "shared_environment" {
  description = "The MHP settings every task of the installation shares with the app (public URL, backups, index, security sinks): the pipeline workers take them."
  value       = local.shared_env
}

output "container_environment" {
  description = "The plain environment of the app's MHP containers (serve and migrate), as planned (asserted by modules/platform's tests)."
  value       = { for e in local.container_env : e.name => e.value }
}

output "hosts" {
  description = "The container instances as planned: architecture, instance type, AMI parameter, teardown behaviour (asserted by modules/platform's tests)."
  value = {
    architecture          = var.architecture
    instance_type         = aws_launch_template.this.instance_type
    ami_parameter         = data.aws_ssm_parameter.ecs_ami.name
    force_delete          = aws_autoscaling_group.this.force_delete
    protect_from_scale_in = aws_autoscaling_group.this.protect_from_scale_in
    min_size              = aws_autoscaling_group.this.min_size
    max_size              = aws_autoscaling_group.this.max_size
  }
}

output "service_scaling" {
  description = "The app service's size as planned: desired count at creation, the auto scaling minimum and maximum, and whether it stands by (standby_count; asserted by modules/platform's tests)."
  value = {
    desired_count = aws_ecs_service.app.desired_count
    min_capacity  = aws_appautoscaling_target.app.min_capacity
    max_capacity  = aws_appautoscaling_target.app.max_capacity
    resource_id   = aws_appautoscaling_target.app.resource_id
    standing_by   = local.standing_by
  }
}

output "envelope_keys" {
  description = "The app task role's statement on the KMS keys (EnvelopeKeys: the app key, the earlier app keys that still unwrap, the data key), its actions and resources as planned (asserted by modules/platform's tests)."
  value       = one([for s in data.aws_iam_policy_document.app.statement : { actions = s.actions, resources = s.resources } if s.sid == "EnvelopeKeys"])
}
