output "secret_arns" {
  description = "Secret ARN by name."
  value       = { for k, v in aws_secretsmanager_secret.this : k => v.arn }
}

output "parameter_arns" {
  description = "Parameter ARN by name."
  value       = { for k, v in aws_ssm_parameter.this : k => v.arn }
}
