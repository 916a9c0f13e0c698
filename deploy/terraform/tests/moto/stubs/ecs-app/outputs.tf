# Stand-in for modules/ecs-app in check moto-apply (deploy/README.md "Applied against moto"):
# the check copies the real module's variables.tf and versions.tf beside this file, so the
# platform's arguments are checked against the real variables (types and validations); these
# outputs stand for what moto cannot make (cluster, service, load balancer, hosts). Names follow
# the real module's naming from var.name, since the applied alarms (observability) name them.
output "cluster_name" {
  value = var.name
}

output "cluster_arn" {
  value = "arn:aws:ecs:us-east-1:123456789012:cluster/${var.name}"
}

output "service_name" {
  value = "mhp-app"
}

output "task_definition_family" {
  value = "${var.name}-app"
}

output "load_balancer_arn" {
  value = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/${var.name}/0123456789abcdef"
}

output "load_balancer_arn_suffix" {
  value = "app/${var.name}/0123456789abcdef"
}

output "target_group_arn_suffix" {
  value = "targetgroup/${var.name}/0123456789abcdef"
}

output "load_balancer_dns_name" {
  value = "${var.name}-0123456789.us-east-1.elb.amazonaws.com"
}

output "app_security_group_id" {
  value = "sg-0a000000000000001"
}

output "app_role_arn" {
  value = "arn:aws:iam::123456789012:role/${var.name}-app"
}

output "execution_role_arn" {
  value = "arn:aws:iam::123456789012:role/${var.name}-app-execution"
}

output "private_subnet_ids" {
  value = var.private_subnet_ids
}

output "load_balancer_deletion_protection" {
  value = var.deletion_protection
}

output "shared_environment" {
  value = {}
}

output "container_environment" {
  value = {}
}

output "hosts" {
  value = null
}

output "service_scaling" {
  value = null
}

output "envelope_keys" {
  value = null
}
