# Stand-in for modules/host-image in check moto-apply: moto has no EC2 Image Builder.
output "ami_parameter_name" {
  value = "/mhp/${var.environment}/ecs-host-ami"
}

output "pipeline_arn" {
  value = "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/${var.name}-ecs-host"
}

output "build_role_arn" {
  value = "arn:aws:iam::123456789012:role/${var.name}-image-build"
}
