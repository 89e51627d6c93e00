output "egress_public_ip" {
  description = "The allowlisted address the partner sees during a run."
  value       = module.nat_on_demand.egress_public_ip
}

output "state_machine_arn" {
  description = "Start a run: aws stepfunctions start-execution --state-machine-arn <this>."
  value       = module.nat_on_demand.state_machine_arn
}

output "route_table_ids" {
  description = "Route tables that route the partner's ranges through the NAT Gateway during a run."
  value       = module.nat_on_demand.route_table_ids
}

output "nat_gateway_tag" {
  description = "Tag carried by the NAT Gateways of this instance."
  value       = module.nat_on_demand.nat_gateway_tag
}
