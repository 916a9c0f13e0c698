output "issuer" {
  description = "OIDC issuer URL (planned MHP key auth.oidc.cognito.issuer)."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "client_id" {
  description = "App client id (planned MHP key auth.oidc.cognito.client_id)."
  value       = aws_cognito_user_pool_client.mhp.id
}

output "user_pool_arn" {
  description = "User pool ARN."
  value       = aws_cognito_user_pool.this.arn
}
