# Stand-in for modules/identity in check moto-apply: moto models neither Cognito's feature plans
# nor advanced security.
output "issuer" {
  value = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_stub"
}

output "client_id" {
  value = "stubclientid"
}

output "user_pool_arn" {
  value = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_stub"
}
