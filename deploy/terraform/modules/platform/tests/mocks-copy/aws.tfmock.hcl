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
