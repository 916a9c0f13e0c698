output "deploy_role_arns" {
  description = "Deploy role by environment (GitHub environment variable AWS_DEPLOY_ROLE_ARN)."
  value       = { for k, v in aws_iam_role.deploy : k => v.arn }
}

output "release_role_arn" {
  description = "Release role (GitHub variable AWS_RELEASE_ROLE_ARN), or null."
  value       = try(aws_iam_role.release[0].arn, null)
}

output "permissions_boundary_arns" {
  description = "Permissions boundary by environment: every IAM role the environment's deploy role creates carries it (envs/<env> passes it as permissions_boundary_arn)."
  value       = { for k, v in aws_iam_policy.boundary : k => v.arn }
}
