output "ami_parameter_name" {
  description = "SSM parameter holding the newest hardened AMI id (modules/ecs-app ami_parameter_name)."
  value       = aws_ssm_parameter.ami.name
}

output "pipeline_arn" {
  description = "Image Builder pipeline ARN."
  value       = aws_imagebuilder_image_pipeline.this.arn
}

output "build_role_arn" {
  description = "Role of the build instances."
  value       = aws_iam_role.build.arn
}
