# The variables every test file here shares; a file's own variables block adds or overrides.
name                      = "mhp-test"
kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/data"
copy_kms_key_arn          = "arn:aws:kms:us-west-1:123456789012:key/copy"
notifications_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/logs"
resource_arns             = ["arn:aws:rds:us-east-1:123456789012:cluster:mhp-test", "arn:aws:s3:::mhp-test-data"]
