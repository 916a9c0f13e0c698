# Stand-in for modules/waf in check moto-apply: WAFv2 managed rule groups and logging are partial
# in moto, and the web ACL's association needs ecs-app's load balancer.
output "web_acl_arn" {
  value = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/${var.name}/stub"
}
