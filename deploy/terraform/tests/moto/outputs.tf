# Read back by deploy/terraform/tests/moto/assert_moto.py, which also asks moto itself.
output "applied" {
  description = "What the check asserts on."
  value = {
    account_id = data.aws_caller_identity.current.account_id
    key_arns   = module.kms.key_arns
    vpc_id     = module.network.vpc_id
    buckets = {
      data          = module.object_store.data_bucket
      audit_exports = module.object_store.audit_exports_bucket
      logs          = module.object_store.logs_bucket
    }
    backup_bucket_arns = module.object_store.backup_bucket_arns
    secret_arns        = module.secrets.secret_arns
    parameter_arns     = module.secrets.parameter_arns
    log_group_names    = module.observability.log_group_names
    alarm_topic_arn    = module.observability.alarm_topic_arn
  }
}
