# The variables every test file here starts from (terraform test loads *.auto.tfvars of the
# tests directory); a run block overrides what it needs.
name                      = "mhp-test-wazuh"
cluster_arn               = "arn:aws:ecs:us-east-1:123456789012:cluster/mhp-test"
vpc_id                    = "vpc-0123456789abcdef0"
vpc_cidr                  = "10.40.0.0/16"
private_subnet_ids        = ["subnet-a", "subnet-b", "subnet-c"]
client_security_group_ids = { app = "sg-app" }
host_name                 = "wazuh.mhp.example.org"
certificate_arn           = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/data"
logs_kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/logs"
secrets_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/secrets"
api_secret_name           = "mhp/test/wazuh-api"
access_log_bucket         = "mhp-test-123456789012-logs"
permissions_boundary_arn  = "arn:aws:iam::123456789012:policy/mhp-test-boundary"
