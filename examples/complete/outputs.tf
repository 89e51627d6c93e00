output "egress_public_ip" {
  description = "Public IP the internet sees for the workload's traffic during a run."
  value       = module.nat_on_demand.egress_public_ip
}

output "state_machine_arn" {
  description = "Start a run: aws stepfunctions start-execution --state-machine-arn <this>."
  value       = module.nat_on_demand.state_machine_arn
}

output "private_route_table_ids" {
  description = "Route tables the module routes through the NAT Gateway during a run."
  value       = module.nat_on_demand.route_table_ids
}

output "public_subnet_id" {
  description = "Subnet the NAT Gateway is created in."
  value       = aws_subnet.public.id
}

output "workload_function_name" {
  description = "The example's workload Lambda."
  value       = aws_lambda_function.workload.function_name
}

output "lease_table_name" {
  description = "DynamoDB table of the lease."
  value       = module.nat_on_demand.lease_table_name
}

output "nat_gateway_tag" {
  description = "Tag carried by the NAT Gateways of this instance."
  value       = module.nat_on_demand.nat_gateway_tag
}

output "route_tables" {
  description = "The route tables the private subnets resolved to, and whether each is the VPC's main table."
  value       = module.nat_on_demand.route_tables
}

output "egress_probe_function_name" {
  description = "The probe that checks, before the workload, that the internet sees egress_public_ip."
  value       = module.nat_on_demand.egress_probe_function_name
}

output "inbox_bucket" {
  description = "An object landing here starts a run."
  value       = aws_s3_bucket.inbox.id
}

output "event_rule_arns" {
  description = "EventBridge rules that start runs."
  value       = module.nat_on_demand.event_rule_arns
}

output "events_role_arn" {
  description = "Role the event rules start runs with."
  value       = module.nat_on_demand.events_role_arn
}

output "controller_function_name" {
  description = "The Lambda function that runs every step of a run."
  value       = module.nat_on_demand.controller_function_name
}

output "reaper_function_name" {
  description = "The reaper Lambda function; invoke it with {\"reason\": \"manual\"} for a sweep on demand."
  value       = module.nat_on_demand.reaper_function_name
}
