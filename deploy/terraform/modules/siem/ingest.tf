# Detection that receives data (deploy/README.md): CloudWatch Logs subscriptions of the
# platform's log groups -> Amazon Data Firehose (in the VPC) -> this SIEM domain.
#   events: JSON events, one document per log event (GZIP decompressed, message extracted):
#           the app and worker logs, MHP's own security events (OCSF, the security log group
#           that MHP_SECURITY_CLOUDWATCH_LOG_GROUP names) and CloudTrail; index cwl-events-<day>.
#   flows:  VPC flow logs, which are text lines OpenSearch would refuse as documents: one
#           document per CloudWatch Logs batch (logEvents[].message); index cwl-vpc-flow-<day>.
# Documents OpenSearch refuses go to the ingest-failures bucket. The Firehose role must also be
# mapped to an OpenSearch security-plugin role allowed to write cwl-* (fine-grained access
# control; done once by the master role: docs/runbooks/first-deployment.md and deploy/README.md).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "ingest" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.ingest.name
  streams = {
    events = { index = "cwl-events", extract = true, log_groups = var.event_log_groups }
    flows  = { index = "cwl-vpc-flow", extract = false, log_groups = var.flow_log_groups }
  }
  subscriptions = merge([for k, st in local.streams : { for g, name in st.log_groups : "${k}/${g}" => { stream = k, log_group = name } }]...)
}

module "ingest_failures" {
  source = "../s3-bucket"

  name              = "${var.name}-${local.account}-ingest-failed"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = var.access_log_bucket
  expiration_days   = var.log_retention_days
  force_destroy     = var.force_destroy
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/mhp/${var.name}/firehose"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "firehose" {
  for_each = local.streams

  name           = each.key
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_security_group" "firehose" {
  #checkov:skip=CKV2_AWS_5:Attached to the Firehose streams' network interfaces (vpc_config of aws_kinesis_firehose_delivery_stream.logs), which checkov does not follow.
  name        = "${var.name}-firehose"
  description = "Firehose delivery to the SIEM domain: outbound HTTPS only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "firehose_https" {
  security_group_id = aws_security_group.firehose.id
  description       = "HTTPS to the SIEM domain"
  cidr_ipv4         = var.vpc_cidr
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

# --- Firehose's role: the domain, its network interfaces, the failures bucket, its log group ----

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name                 = "${var.name}-firehose"
  assume_role_policy   = data.aws_iam_policy_document.firehose_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "firehose" {
  #checkov:skip=CKV_AWS_356:Only the EC2 Describe* actions (no resource-level permissions) have "*"; every other statement names its resources.
  statement {
    sid       = "DescribeDomain"
    actions   = ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"]
    resources = [module.domain.arn]
  }
  statement {
    sid       = "WriteDocuments"
    actions   = ["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet"]
    resources = [module.domain.arn, "${module.domain.arn}/*"]
  }
  statement {
    sid = "DescribeNetwork"
    actions = ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkInterfaces"]
    resources = ["*"]
  }
  statement {
    sid     = "NetworkInterfacesInTheVpc"
    actions = ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface"]
    resources = concat(
      ["arn:${local.partition}:ec2:${local.region}:${local.account}:network-interface/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account}:security-group/${aws_security_group.firehose.id}"],
      [for s in var.ingest_subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account}:subnet/${s}"],
    )
  }
  statement {
    sid = "FailedDocuments"
    actions = ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
    "s3:ListBucketMultipartUploads", "s3:PutObject"]
    resources = [module.ingest_failures.arn, "${module.ingest_failures.arn}/*"]
  }
  statement {
    sid       = "EncryptFailedDocuments"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com"]
    }
  }
  statement {
    sid       = "DeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:*"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "deliver-to-siem"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

# --- The delivery streams ------------------------------------------------------------------------

resource "aws_kinesis_firehose_delivery_stream" "logs" {
  for_each = local.streams

  name        = "${var.name}-${each.key}"
  destination = "opensearch"
  tags        = var.tags

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = var.logs_kms_key_arn
  }

  opensearch_configuration {
    domain_arn            = module.domain.arn
    role_arn              = aws_iam_role.firehose.arn
    index_name            = each.value.index
    index_rotation_period = "OneDay"
    buffering_interval    = 60
    buffering_size        = 5
    retry_duration        = 300
    s3_backup_mode        = "FailedDocumentsOnly"

    s3_configuration {
      role_arn            = aws_iam_role.firehose.arn
      bucket_arn          = module.ingest_failures.arn
      prefix              = "${each.key}/"
      error_output_prefix = "${each.key}-errors/!{firehose:error-output-type}/"
      compression_format  = "GZIP"
      kms_key_arn         = var.kms_key_arn
    }

    vpc_config {
      subnet_ids         = var.ingest_subnet_ids
      security_group_ids = [aws_security_group.firehose.id]
      role_arn           = aws_iam_role.firehose.arn
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose[each.key].name
    }

    processing_configuration {
      enabled = true
      processors {
        type = "Decompression"
        parameters {
          parameter_name  = "CompressionFormat"
          parameter_value = "GZIP"
        }
      }
      dynamic "processors" {
        for_each = each.value.extract ? [1] : []
        content {
          type = "CloudWatchLogProcessing"
          parameters {
            parameter_name  = "DataMessageExtraction"
            parameter_value = "true"
          }
        }
      }
    }
  }

  depends_on = [aws_iam_role_policy.firehose]
}

# --- CloudWatch Logs subscriptions --------------------------------------------------------------

data "aws_iam_policy_document" "logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["logs.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:*"]
    }
  }
}

resource "aws_iam_role" "subscriptions" {
  name                 = "${var.name}-log-subscriptions"
  assume_role_policy   = data.aws_iam_policy_document.logs_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "subscriptions" {
  statement {
    sid       = "PutIntoTheSiemStreams"
    actions   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [for st in aws_kinesis_firehose_delivery_stream.logs : st.arn]
  }
}

resource "aws_iam_role_policy" "subscriptions" {
  name   = "put-into-siem-streams"
  role   = aws_iam_role.subscriptions.id
  policy = data.aws_iam_policy_document.subscriptions.json
}

resource "aws_cloudwatch_log_subscription_filter" "siem" {
  for_each = local.subscriptions

  name            = "${var.name}-${each.value.stream}"
  log_group_name  = each.value.log_group
  filter_pattern  = "" # every event
  destination_arn = aws_kinesis_firehose_delivery_stream.logs[each.value.stream].arn
  role_arn        = aws_iam_role.subscriptions.arn

  depends_on = [aws_iam_role_policy.subscriptions]
}
