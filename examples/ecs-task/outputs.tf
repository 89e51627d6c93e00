output "egress_public_ip" {
  description = "Public IP the task's traffic comes from during a run."
  value       = module.nat_on_demand.egress_public_ip
}

output "state_machine_arn" {
  description = "Start a run: aws stepfunctions start-execution --state-machine-arn <this>."
  value       = module.nat_on_demand.state_machine_arn
}

output "cluster_arn" {
  description = "ECS cluster the job runs in."
  value       = aws_ecs_cluster.this.arn
}

output "task_definition_arn" {
  description = "Task definition of the job."
  value       = aws_ecs_task_definition.job.arn
}

output "route_table_ids" {
  description = "Route tables routed through the NAT Gateway during a run."
  value       = module.nat_on_demand.route_table_ids
}

output "nat_gateway_tag" {
  description = "Tag carried by the NAT Gateways of this instance."
  value       = module.nat_on_demand.nat_gateway_tag
}
