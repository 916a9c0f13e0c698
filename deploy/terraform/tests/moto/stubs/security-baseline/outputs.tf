# Stand-in for modules/security-baseline in check moto-apply: CloudTrail, Config conformance
# packs, Security Hub standards, GuardDuty features and Access Analyzer are partly or not in moto.
output "trail_arn" {
  value = "arn:aws:cloudtrail:us-east-1:123456789012:trail/${var.name}"
}

output "guardduty_detector_id" {
  value = "stub"
}

output "hipaa_conformance_pack" {
  value = null
}

output "security_hub_standards" {
  value = []
}

output "malware_protection_plan_arn" {
  value = null
}

output "trail_log_group_name" {
  value = "/mhp/${var.name}/cloudtrail"
}
