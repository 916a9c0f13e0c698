# The mocked AWS of the primary region for every test file here (mock_provider "aws" { source =
# "./tests/mocks" }); a file adds the resources it needs known.
mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
