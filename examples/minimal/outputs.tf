output "egress_public_ip" {
  description = "Public IP the internet sees for traffic of a run."
  value       = module.nat_on_demand.egress_public_ip
}

output "state_machine_arn" {
  description = "Start a run: aws stepfunctions start-execution --state-machine-arn <this>."
  value       = module.nat_on_demand.state_machine_arn
}

output "route_tables" {
  description = "The route tables the private subnets resolved to, and whether each is the VPC's main table."
  value       = module.nat_on_demand.route_tables
}
