mock_provider "aws" {
  override_during = plan
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
}

variables {
  name          = "mhp-test"
  domain_prefix = "mhp-test-123456789012"
  callback_urls = ["https://mhp.example.org/api/v1/auth/sso/callback"]
}

run "mfa_advanced_security_no_self_signup" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "ON"
    error_message = "MFA is required by default"
  }
  assert {
    condition     = aws_cognito_user_pool.this.user_pool_add_ons[0].advanced_security_mode == "ENFORCED"
    error_message = "advanced security is enforced"
  }
  assert {
    condition     = aws_cognito_user_pool.this.admin_create_user_config[0].allow_admin_create_user_only
    error_message = "no self sign-up"
  }
  assert {
    condition     = aws_cognito_user_pool.this.password_policy[0].minimum_length >= 14
    error_message = "passwords of at least 14 characters"
  }
  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "ACTIVE"
    error_message = "deletion protection by default"
  }
  assert {
    condition     = aws_cognito_user_pool_client.mhp.allowed_oauth_flows == toset(["code"]) && aws_cognito_user_pool_client.mhp.prevent_user_existence_errors == "ENABLED"
    error_message = "authorization code flow only, user existence hidden"
  }
}

# Apply-time (deploy/README.md, "Apply-time checks"): Cognito refuses advanced security outside
# the Plus feature plan; the mock does not.

run "enforced_advanced_security_is_on_the_plus_plan" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.this.user_pool_add_ons[0].advanced_security_mode == "ENFORCED" && aws_cognito_user_pool.this.user_pool_tier == "PLUS"
    error_message = "advanced security ENFORCED runs on the PLUS feature plan (user_pool_tier)"
  }
}

run "advanced_security_without_plus_is_refused" {
  command = plan
  variables {
    feature_plan = "ESSENTIALS"
  }
  expect_failures = [aws_cognito_user_pool.this]
}

run "essentials_plan_without_advanced_security" {
  command = plan
  variables {
    feature_plan           = "ESSENTIALS"
    advanced_security_mode = "OFF"
  }
  assert {
    condition     = aws_cognito_user_pool.this.user_pool_tier == "ESSENTIALS" && aws_cognito_user_pool.this.user_pool_add_ons[0].advanced_security_mode == "OFF"
    error_message = "a pool without threat protection may use a smaller plan"
  }
}
