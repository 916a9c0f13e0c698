output "trail_arn" {
  description = "CloudTrail trail ARN."
  value       = aws_cloudtrail.this.arn
}

output "guardduty_detector_id" {
  description = "GuardDuty detector id."
  value       = aws_guardduty_detector.this.id
}

output "hipaa_conformance_pack" {
  description = "Name of the HIPAA conformance pack."
  value       = aws_config_conformance_pack.hipaa.name
}

output "security_hub_standards" {
  description = "Enabled Security Hub standards."
  value       = keys(aws_securityhub_standards_subscription.this)
}

output "malware_protection_plan_arn" {
  description = "GuardDuty Malware Protection for S3 plan of the data bucket (null without one)."
  value       = one(aws_guardduty_malware_protection_plan.data[*].arn)
}

output "trail_log_group_name" {
  description = "CloudTrail's log group (subscribed to the SIEM by modules/platform)."
  value       = aws_cloudwatch_log_group.trail.name
}
