# Cognito user pool: one OpenID Connect identity provider that MHP federates with, beside MHP's
# built-in identity. MHP reads nothing of it from the environment: an organisation's admin
# names it as the organisation's SSO provider (PUT /api/v1/orgs/{org}/sso: the issuer and
# client_id outputs, and the app client's secret, which MHP keeps sealed with the
# organisation's key; docs/runbooks/rotate-keys-and-secrets.md).
# MFA required in production, advanced security in enforced mode (on the Plus feature plan,
# which it needs), 14-character passwords, no self sign-up, user-existence errors hidden,
# deletion protection.

data "aws_region" "current" {}

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = var.mfa_required ? "ON" : "OPTIONAL"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  # Threat protection (advanced security, AUDIT or ENFORCED) is a feature of the Plus plan:
  # on another plan AWS refuses the pool.
  user_pool_tier = var.feature_plan
  tags           = var.tags

  software_token_mfa_configuration {
    enabled = true
  }

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
    password_history_size            = 12
  }

  user_pool_add_ons {
    advanced_security_mode = var.advanced_security_mode
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  lifecycle {
    precondition {
      condition     = var.advanced_security_mode == "OFF" || var.feature_plan == "PLUS"
      error_message = "advanced_security_mode ${var.advanced_security_mode} (threat protection) needs feature_plan PLUS; Cognito refuses it on ${var.feature_plan}."
    }
  }
}

resource "aws_cognito_user_pool_domain" "this" {
  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_user_pool_client" "mhp" {
  name                                 = "mhp"
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  callback_urls                        = var.callback_urls
  logout_urls                          = var.logout_urls
  supported_identity_providers         = ["COGNITO"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]
  access_token_validity                = 15
  id_token_validity                    = 15
  refresh_token_validity               = 12
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "hours"
  }
}
