# The mocked AWS of the copy (recovery) region, us-west-1 with its two zones, of every test file
# here (mock_provider "aws" { alias = "copy", source = "./tests/mocks-copy" }).
mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}
mock_data "aws_region" {
  defaults = { name = "us-west-1" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_availability_zones" {
  defaults = { names = ["us-west-1a", "us-west-1c"] }
}
# What is made in the recovery region says so in its ARN (the default provider's mocks give
# random ones): the tests can tell a resource of the recovery region from one of the
# environment's region.
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:us-west-1:123456789012:mhp-recovery-alarms" }
}
mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = { arn = "arn:aws:cloudwatch:us-west-1:123456789012:alarm:mhp-recovery" }
}
