# Check moto-apply: added to the temporary copy of envs/dev beside moto_override.tf: what
# tests/moto/assert_moto.py reads back.

data "aws_caller_identity" "moto" {}

output "applied" {
  description = "What the check asserts on."
  value = merge(module.platform.moto_applied, {
    account_id = data.aws_caller_identity.moto.account_id
    platform = {
      data_bucket             = module.platform.data_bucket
      database_url_secret_arn = module.platform.database_url_secret_arn
      alarm_topic_arn         = module.platform.alarm_topic_arn
      controls                = module.platform.controls
    }
  })
}
