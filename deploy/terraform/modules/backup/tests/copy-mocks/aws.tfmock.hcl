# The mocked AWS of the copy region (the provider aws.copy) for every test file here.
mock_resource "aws_backup_vault" {
  defaults = { arn = "arn:aws:backup:us-west-1:123456789012:backup-vault:mhp-test-copy" }
}
