# The SIEM: a second OpenSearch domain for security events (MHP's security.opensearch_url),
# kept apart from the documents domain so that operators and auditors can read it without any
# access to PHI, plus the routing of AWS's own findings (GuardDuty, Security Hub) to the
# security alert topic, and the ingestion of the platform's logs (ingest.tf).

module "domain" {
  source = "../opensearch"

  name                      = var.name
  vpc_id                    = var.vpc_id
  subnet_ids                = var.subnet_ids
  client_security_group_ids = merge(var.client_security_group_ids, { firehose = aws_security_group.firehose.id })
  client_role_arns          = concat(var.client_role_arns, [aws_iam_role.firehose.arn])
  master_role_arn           = var.master_role_arn
  kms_key_arn               = var.kms_key_arn
  logs_kms_key_arn          = var.logs_kms_key_arn
  log_retention_days        = var.log_retention_days
  instance_type             = var.instance_type
  instance_count            = var.instance_count
  dedicated_master          = var.dedicated_master
  volume_size_gb            = var.volume_size_gb
  tags                      = merge(var.tags, { "mhp:data-class" = "security-events" })
}

resource "aws_sns_topic" "security_alerts" {
  name              = "${var.name}-security-alerts"
  kms_master_key_id = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alert_emails)

  topic_arn = aws_sns_topic.security_alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

data "aws_iam_policy_document" "topic" {
  statement {
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.security_alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_sns_topic_policy" "security_alerts" {
  arn    = aws_sns_topic.security_alerts.arn
  policy = data.aws_iam_policy_document.topic.json
}

# GuardDuty findings of medium severity and above, and failed Security Hub controls of high or
# critical severity, become security alerts.
resource "aws_cloudwatch_event_rule" "findings" {
  name        = "${var.name}-findings"
  description = "GuardDuty (severity >= 4) and Security Hub (HIGH, CRITICAL) findings"
  event_pattern = jsonencode({
    "$or" = [
      {
        source        = ["aws.guardduty"]
        "detail-type" = ["GuardDuty Finding"]
        detail        = { severity = [{ numeric = [">=", 4] }] }
      },
      {
        source        = ["aws.securityhub"]
        "detail-type" = ["Security Hub Findings - Imported"]
        detail = { findings = {
          Severity   = { Label = ["HIGH", "CRITICAL"] }
          Compliance = { Status = ["FAILED"] }
          Workflow   = { Status = ["NEW"] }
        } }
      },
    ]
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "findings" {
  rule = aws_cloudwatch_event_rule.findings.name
  arn  = aws_sns_topic.security_alerts.arn
}
