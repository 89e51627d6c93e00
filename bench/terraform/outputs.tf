output "designs" {
  description = "What the bench harness needs of each design: state machine, route tables, NAT Gateway tag, the functions a run invokes, the reaper."
  value = {
    "on-demand" = {
      state_machine_arn = module.on_demand.state_machine_arn
      route_table_ids   = module.on_demand.route_table_ids
      subnet_ids        = local.subnet_ids["on-demand"]
      nat_gateway_tag   = module.on_demand.nat_gateway_tag
      functions         = [module.on_demand.controller_function_name]
      reaper_function   = module.on_demand.reaper_function_name
    }
    baseline = {
      state_machine_arn = aws_sfn_state_machine.baseline.arn
      route_table_ids   = local.route_table_ids["baseline"]
      subnet_ids        = local.subnet_ids["baseline"]
      nat_gateway_tag   = { key = "bench:design", value = local.baseline_name }
      functions         = [for fn in aws_lambda_function.baseline : fn.function_name]
      reaper_function   = null
    }
  }
}

output "workload_function_name" {
  description = "The shared workload, left out of the designs' Lambda figures."
  value       = aws_lambda_function.workload.function_name
}

output "public_subnet_id" {
  description = "Where every NAT Gateway goes."
  value       = aws_subnet.public.id
}

output "grace_route_table_ids" {
  description = "Route tables for the idle-grace instance, when the module supports idle_grace_seconds."
  value       = local.route_table_ids["on-demand-grace"]
}

output "grace_subnet_ids" {
  description = "Subnets of those route tables."
  value       = local.subnet_ids["on-demand-grace"]
}
