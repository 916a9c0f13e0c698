output "state_bucket" {
  description = "Give to `terraform init -backend-config=bucket=...` of every root in this account and region."
  value       = module.state.id
}

output "deploy_role_arns" {
  description = "GitHub environment variable AWS_DEPLOY_ROLE_ARN of each environment."
  value       = module.github_oidc.deploy_role_arns
}

output "permissions_boundary_arns" {
  description = "Permissions boundary mhp-<env>-boundary by environment (envs/<env> derives the same ARN from the account id)."
  value       = module.github_oidc.permissions_boundary_arns
}

output "release_role_arn" {
  description = "GitHub variable AWS_RELEASE_ROLE_ARN (release account only)."
  value       = module.github_oidc.release_role_arn
}

output "ecr_repository_url" {
  description = "GitHub variable ECR_REPOSITORY (release account only)."
  value       = try(aws_ecr_repository.mhp[0].repository_url, null)
}
