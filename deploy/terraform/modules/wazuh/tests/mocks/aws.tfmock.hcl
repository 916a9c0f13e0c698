# The mocked AWS of every test file here (mock_provider "aws" { source = "./tests/mocks" }).
mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}
mock_data "aws_region" {
  defaults = { name = "us-east-1" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_resource "aws_efs_file_system" {
  defaults = { arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0" }
}
mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::mhp-test-wazuh-123456789012-config", bucket = "mhp-test-wazuh-123456789012-config" }
}
# Generated at plan, so that the task definition's containers and volumes are known.
mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/wazuh-api-AbCdEf" }
}
mock_resource "aws_efs_access_point" {
  defaults = {}
}
