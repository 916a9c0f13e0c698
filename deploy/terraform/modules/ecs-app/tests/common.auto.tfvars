# The variables every test file here starts from (terraform test loads *.auto.tfvars of the
# tests directory); a file or a run block overrides what it needs.
name                     = "mhp-test"
image                    = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
collector_config         = "receivers: {}"
vpc_id                   = "vpc-0123456789abcdef0"
vpc_cidr                 = "10.40.0.0/16"
public_subnet_ids        = ["subnet-p1", "subnet-p2", "subnet-p3"]
private_subnet_ids       = ["subnet-a", "subnet-b", "subnet-c"]
certificate_arn          = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
access_log_bucket        = "mhp-test-123456789012-logs"
kms_key_arn              = "arn:aws:kms:us-east-1:123456789012:key/data"
app_kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/app"
secrets_kms_key_arn      = "arn:aws:kms:us-east-1:123456789012:key/secrets"
secret_env               = { DATABASE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/database-url", MHP_KEYS_STORE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/key-store-url" }
data_bucket_arn          = "arn:aws:s3:::mhp-test-123456789012-data"
audit_exports_bucket_arn = "arn:aws:s3:::mhp-test-123456789012-audit-exports"
opensearch_domain_arns   = ["arn:aws:es:us-east-1:123456789012:domain/mhp-test-docs"]
log_group_name           = "/mhp/mhp-test/app"
collector_log_group_arn  = "arn:aws:logs:us-east-1:123456789012:log-group:/mhp/mhp-test/collector"
public_url               = "https://mhp.example.org"
backup_to                = "s3://mhp-test-123456789012-backups/mhp"
backup_keys_to           = "s3://mhp-test-123456789012-key-backups/mhp"
backup_bucket_arns       = ["arn:aws:s3:::mhp-test-123456789012-backups", "arn:aws:s3:::mhp-test-123456789012-key-backups"]
