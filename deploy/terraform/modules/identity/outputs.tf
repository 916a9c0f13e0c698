output "issuer" {
  description = "OIDC issuer URL: the issuer of an organisation's SSO settings (PUT /api/v1/orgs/{org}/sso)."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "client_id" {
  description = "App client id: the client_id of an organisation's SSO settings (PUT /api/v1/orgs/{org}/sso)."
  value       = aws_cognito_user_pool_client.mhp.id
}

output "user_pool_arn" {
  description = "User pool ARN."
  value       = aws_cognito_user_pool.this.arn
}
