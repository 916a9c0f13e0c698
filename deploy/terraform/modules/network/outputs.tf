output "vpc_id" {
  description = "VPC id."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "VPC CIDR block."
  value       = aws_vpc.this.cidr_block
}

output "azs" {
  description = "Availability zones in use."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT gateways)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (ECS tasks and hosts)."
  value       = aws_subnet.private[*].id
}

output "data_subnet_ids" {
  description = "Isolated subnets (Aurora, OpenSearch)."
  value       = aws_subnet.data[*].id
}

output "flow_log_group_name" {
  description = "Log group of the VPC flow logs (subscribed to the SIEM by modules/platform)."
  value       = aws_cloudwatch_log_group.flow.name
}
