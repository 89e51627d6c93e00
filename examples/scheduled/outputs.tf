output "egress_public_ip" {
  description = "Public IP the patched instances' traffic comes from during a window."
  value       = module.nat_on_demand.egress_public_ip
}

output "state_machine_arn" {
  description = "Open a window by hand: aws stepfunctions start-execution --state-machine-arn <this> --input '{\"hold_seconds\": 600}'."
  value       = module.nat_on_demand.state_machine_arn
}

output "schedule_arns" {
  description = "The schedules that open windows."
  value       = module.nat_on_demand.schedule_arns
}

output "scheduler_role_arn" {
  description = "Role the schedules start runs with."
  value       = module.nat_on_demand.scheduler_role_arn
}

output "nat_gateway_tag" {
  description = "Tag carried by the NAT Gateways of this instance."
  value       = module.nat_on_demand.nat_gateway_tag
}
