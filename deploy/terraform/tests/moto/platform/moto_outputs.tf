# Check moto-apply: added to the temporary copy of modules/platform beside stubs_override.tf. It
# changes nothing that is applied; it only hands tests/moto/assert_moto.py the ids of what the
# applied modules made (modules/platform's own outputs name only some of them).
output "moto_applied" {
  value = {
    key_arns = module.kms.key_arns
    vpc_id   = local.network.vpc_id
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
    opensearch_admin   = aws_iam_role.opensearch_admin.name
    copy_key_arn       = aws_kms_key.copy.arn
  }
}
