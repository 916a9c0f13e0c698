"""Assertions on what `terraform apply` of the dev root (envs/dev) made in moto (check moto-apply).

Reads `terraform output -json applied` (argv[1]: the output tests/moto/envs-dev/moto.tf adds to
the copy of envs/dev) and asks moto (argv[2], the endpoint) through boto3 whether the resources
exist with the controls the modules promise. Exits 1 on any failure, naming each.
"""

import json
import sys

import boto3

out = json.load(open(sys.argv[1]))
endpoint = sys.argv[2]
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def client(service):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


kms, s3, ec2, logs = client("kms"), client("s3"), client("ec2"), client("logs")
sm, ssm, iam = client("secretsmanager"), client("ssm"), client("iam")
applied = out
account = applied["account_id"]

# KMS: one customer key per purpose, enabled, rotation on, the account administers it.
purposes = {"data", "logs", "search", "secrets", "app"}
check(set(applied["key_arns"]) == purposes, f"kms: one key per purpose {sorted(purposes)}")
for purpose, arn in sorted(applied["key_arns"].items()):
    meta = kms.describe_key(KeyId=arn)["KeyMetadata"]
    check(meta["KeyState"] == "Enabled" and meta["KeyManager"] == "CUSTOMER",
          f"kms {purpose}: enabled customer key")
    check(kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"], f"kms {purpose}: rotation on")
    policy = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    check(any(s.get("Principal", {}).get("AWS") == f"arn:aws:iam::{account}:root"
              for s in policy["Statement"]), f"kms {purpose}: account administers the key")
aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
check({f"alias/mhp-dev-{p}" for p in purposes} <= aliases, "kms: aliases alias/mhp-dev-<purpose>")

# S3: every bucket private, versioned, encrypted, TLS only, lifecycle; KMS where promised;
# access-logged into the log bucket; object lock on audit exports.
buckets = applied["buckets"]
names = [buckets["data"], buckets["audit_exports"], buckets["logs"]] + [
    a.split(":::")[1] for a in applied["backup_bucket_arns"]]
for name in names:
    pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    check(all(pab.values()) and len(pab) == 4, f"s3 {name}: all public access blocked")
    check(s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled", f"s3 {name}: versioned")
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    sse = rule["ApplyServerSideEncryptionByDefault"]
    if name == buckets["logs"]:
        check(sse["SSEAlgorithm"] == "AES256", f"s3 {name}: SSE-S3 (log delivery)")
    else:
        check(sse["SSEAlgorithm"] == "aws:kms" and sse.get("KMSMasterKeyID") == applied["key_arns"]["data"],
              f"s3 {name}: SSE-KMS with the data key")
        logging = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled", {})
        check(logging.get("TargetBucket") == buckets["logs"], f"s3 {name}: access-logged to the log bucket")
    policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    check(any(s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
              for s in policy["Statement"]), f"s3 {name}: TLS only (deny aws:SecureTransport false)")
    owner = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
    check(owner == "BucketOwnerEnforced", f"s3 {name}: ACLs disabled (BucketOwnerEnforced)")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    check(any(r["Status"] == "Enabled" and "NoncurrentVersionExpiration" in r for r in rules),
          f"s3 {name}: lifecycle expires old versions")
lock = s3.get_object_lock_configuration(Bucket=buckets["audit_exports"])["ObjectLockConfiguration"]
retention = lock.get("Rule", {}).get("DefaultRetention", {})
check(lock.get("ObjectLockEnabled") == "Enabled" and retention.get("Mode") == "GOVERNANCE"
      and retention.get("Days") == 30, "s3 audit-exports: object lock GOVERNANCE 30 days (non-production)")

# Network: VPC, three zones of public/private/data subnets, one NAT (non-production), flow logs
# of all traffic into the KMS log group, default security group without rules, endpoints.
vpc = applied["vpc_id"]
flt = [{"Name": "vpc-id", "Values": [vpc]}]
vpc_desc = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]
check(vpc_desc["CidrBlock"] == "10.10.0.0/16", "vpc: 10.10.0.0/16")
# envs/dev's provider default tags and modules/platform's: what was applied is the dev root.
tags = {t["Key"]: t["Value"] for t in vpc_desc.get("Tags", [])}
check(tags.get("mhp:root") == "deploy/terraform/envs/dev" and tags.get("mhp:environment") == "dev"
      and tags.get("mhp:flavour") == "non-production",
      "vpc: tagged by the dev root (mhp:root envs/dev, environment dev, flavour non-production)")
subnets = ec2.describe_subnets(Filters=flt)["Subnets"]
tiers = {}
for sn in subnets:
    tier = {t["Key"]: t["Value"] for t in sn.get("Tags", [])}.get("mhp:tier")
    tiers.setdefault(tier, set()).add(sn["AvailabilityZone"])
check({k: len(v) for k, v in tiers.items()} == {"public": 3, "private": 3, "data": 3},
      "vpc: public, private and data subnets in 3 zones")
check(not any(sn["MapPublicIpOnLaunch"] for sn in subnets), "vpc: no subnet maps public addresses")
nats = [n for n in ec2.describe_nat_gateways(Filters=flt)["NatGateways"] if n["State"] != "deleted"]
check(len(nats) == 1, "vpc: one NAT gateway (non-production)")
flows = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]
check(len(flows) == 1 and flows[0]["TrafficType"] == "ALL"
      and flows[0].get("LogDestination", "").endswith(":log-group:/mhp/mhp-dev/vpc-flow-logs"),
      "vpc: flow logs of ALL traffic into /mhp/mhp-dev/vpc-flow-logs")
groups = logs.describe_log_groups(logGroupNamePrefix="/mhp/mhp-dev/vpc-flow-logs")["logGroups"]
check(len(groups) == 1 and groups[0].get("kmsKeyId") == applied["key_arns"]["logs"]
      and groups[0].get("retentionInDays") == 365, "vpc: flow log group KMS-encrypted (logs key), 365 days")
default_sg = ec2.describe_security_groups(Filters=flt + [{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
check(not default_sg["IpPermissions"] and not default_sg["IpPermissionsEgress"], "vpc: default security group has no rules")
endpoints = ec2.describe_vpc_endpoints(Filters=flt)["VpcEndpoints"]
services = {e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints}
check({"s3", "kms", "secretsmanager", "ssm", "logs", "sts"} <= services, "vpc: endpoints for S3, KMS, Secrets Manager, SSM, logs, STS")
# Every role carries the boundary envs/dev names (made by bootstrap; moto stores, never evaluates it).
boundary = f"arn:aws:iam::{account}:policy/mhp-dev-boundary"
role = iam.get_role(RoleName="mhp-dev-vpc-flow-logs")["Role"]
check(role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == boundary,
      "vpc: flow log role, with the permissions boundary mhp-dev-boundary")

# modules/platform's own resources: the break-glass OpenSearch admin role (operators of this
# account, with MFA) and the backup copy key in the recovery region (us-west-1).
role = iam.get_role(RoleName=applied["opensearch_admin"])["Role"]
trust = role["AssumeRolePolicyDocument"]
trust = json.loads(trust) if isinstance(trust, str) else trust
check(role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == boundary
      and trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
      and trust["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
      "platform: OpenSearch admin role, this account's operators with MFA, boundary")
copy_arn = applied["copy_key_arn"]
kms_copy = boto3.client("kms", endpoint_url=endpoint, region_name="us-west-1")
check(copy_arn.startswith("arn:aws:kms:us-west-1:")
      and kms_copy.describe_key(KeyId=copy_arn)["KeyMetadata"]["KeyState"] == "Enabled"
      and kms_copy.get_key_rotation_status(KeyId=copy_arn)["KeyRotationEnabled"],
      "platform: backup copy key in us-west-1, enabled, rotation on")
platform = applied["platform"]
check(platform["data_bucket"] == buckets["data"]
      and platform["database_url_secret_arn"] == applied["secret_arns"].get("database-url")
      and platform["alarm_topic_arn"] == applied["alarm_topic_arn"],
      "envs/dev outputs: the data bucket, the database-url secret and the alarm topic applied")
controls = platform["controls"]
check(controls["zones"] == 3 and controls["audit_exports_lock"] == {"mode": "GOVERNANCE", "days": 30}
      and controls["security_baseline"] and not controls["wazuh_manager"],
      f"envs/dev controls: 3 zones, GOVERNANCE 30-day audit lock, baseline on, no Wazuh ({controls})")

# Secrets: containers only, encrypted with the secrets key, no value in Terraform; parameters
# are SecureStrings with the secrets key.
for name, arn in sorted(applied["secret_arns"].items()):
    desc = sm.describe_secret(SecretId=arn)
    check(desc.get("KmsKeyId") == applied["key_arns"]["secrets"], f"secret {name}: secrets key")
    check(not desc.get("VersionIdsToStages"), f"secret {name}: no value (put out of band)")
for name, arn in sorted(applied["parameter_arns"].items()):
    p = ssm.get_parameter(Name=f"/mhp/dev/{name}")["Parameter"]
    check(p["Type"] == "SecureString", f"parameter {name}: SecureString")
meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Values": ["/mhp/dev"]}])["Parameters"]
check(meta and all(m.get("KeyId") == applied["key_arns"]["secrets"] for m in meta), "parameters: the secrets key")

# Observability: the process log groups under the logs key, the KMS-encrypted alarm topic that
# only this account's CloudWatch alarms may publish to (SES: no mail domain in dev), each alarm on
# the metric and the names modules/platform would give, notifying the topic.
cw, sns = client("cloudwatch"), client("sns")
groups = applied["log_group_names"]
check(set(groups) == {"app", "worker", "scheduler", "collector", "security"},
      "observability: log groups of app, worker, scheduler, collector, security")
for process, name in sorted(groups.items()):
    found = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    check(len(found) == 1 and found[0]["logGroupName"] == f"/mhp/mhp-dev/{process}"
          and found[0].get("kmsKeyId") == applied["key_arns"]["logs"] and found[0].get("retentionInDays") == 365,
          f"observability {name}: logs key, 365 days")
topic = applied["alarm_topic_arn"]
attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
check(topic.endswith(":mhp-dev-alarms") and attrs.get("KmsMasterKeyId") == applied["key_arns"]["logs"],
      "observability: alarm topic mhp-dev-alarms encrypted with the logs key")
statements = json.loads(attrs["Policy"])["Statement"]
check(len(statements) == 1 and statements[0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
      and statements[0]["Action"] in ("sns:Publish", ["sns:Publish"])
      and statements[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": account}},
      "observability: only this account's CloudWatch alarms publish to the topic (no SES without mail)")
subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
check([(x["Protocol"], x["Endpoint"]) for x in subs] == [("email", "operators@example.org")],
      "observability: operators subscribed by e-mail")
alarms = cw.describe_alarms(AlarmNamePrefix="mhp-dev-")
metric_alarms = {a["AlarmName"]: a for a in alarms["MetricAlarms"]}
composite = {a["AlarmName"]: a for a in alarms["CompositeAlarms"]}
expected = {
    "mhp-dev-mhp-not-ready": ("MHP", "mhp_ready", {"Environment": "dev"}),
    "mhp-dev-mhp-http-500": ("MHP", "mhp_http_requests_total", {"Environment": "dev", "status": "500"}),
    "mhp-dev-alb-target-5xx": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": "app/mhp-dev/0123456789abcdef"}),
    "mhp-dev-alb-latency-p99": ("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/mhp-dev/0123456789abcdef"}),
    "mhp-dev-alb-unhealthy-targets": ("AWS/ApplicationELB", "UnHealthyHostCount",
                                      {"LoadBalancer": "app/mhp-dev/0123456789abcdef", "TargetGroup": "targetgroup/mhp-dev/0123456789abcdef"}),
    "mhp-dev-ecs-app-cpu": ("AWS/ECS", "CPUUtilization", {"ClusterName": "mhp-dev", "ServiceName": "mhp-app"}),
    "mhp-dev-aurora-cpu": ("AWS/RDS", "CPUUtilization", {"DBClusterIdentifier": "mhp-dev"}),
    "mhp-dev-aurora-freeable-memory": ("AWS/RDS", "FreeableMemory", {"DBClusterIdentifier": "mhp-dev"}),
    "mhp-dev-opensearch-mhp-dev-docs-red": ("AWS/ES", "ClusterStatus.red", {"DomainName": "mhp-dev-docs", "ClientId": account}),
    "mhp-dev-opensearch-mhp-dev-siem-red": ("AWS/ES", "ClusterStatus.red", {"DomainName": "mhp-dev-siem", "ClientId": account}),
}
for name, (namespace, metric, dims) in sorted(expected.items()):
    a = metric_alarms.get(name)
    check(a is not None and a.get("Namespace") == namespace and a.get("MetricName") == metric
          and {d["Name"]: d["Value"] for d in a.get("Dimensions", [])} == dims
          and a.get("AlarmActions") == [topic],
          f"alarm {name}: {namespace} {metric} {dims}, notifies the alarm topic")
check(metric_alarms.get("mhp-dev-mhp-not-ready", {}).get("TreatMissingData") == "breaching",
      "alarm mhp-dev-mhp-not-ready: no MHP reporting is an alarm")
pool = metric_alarms.get("mhp-dev-mhp-db-pool-saturated", {})
check({m.get("Id") for m in pool.get("Metrics", [])} == {"saturation", "in_use", "max_conn"}
      and pool.get("AlarmActions") == [topic], "alarm mhp-dev-mhp-db-pool-saturated: in use / max connections")
for slo in ("availability", "read-latency"):
    windows = {f"mhp-dev-slo-{slo}-burn-{w}" for w in ("1h", "5m", "6h", "30m")}
    check(windows <= set(metric_alarms), f"alarms: {slo} burn rate over 1 h, 5 m, 6 h and 30 m")
    fast = composite.get(f"mhp-dev-slo-{slo}-burn-fast", {})
    check(all(w in fast.get("AlarmRule", "") for w in windows) and fast.get("AlarmActions") == [topic],
          f"composite alarm mhp-dev-slo-{slo}-burn-fast: the four windows, notifies the alarm topic")

print(f"\n{len(failures)} failed" if failures else "\nall assertions hold")
sys.exit(1 if failures else 0)
