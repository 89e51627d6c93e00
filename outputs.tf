output "egress_public_ip" {
  description = "Public IPv4 address the internet sees for traffic of a run: the Elastic IP of the NAT Gateway. Stable across runs; give it to partners who allowlist."
  value       = local.egress_public_ip
}

output "eip_allocation_id" {
  description = "Allocation ID of the Elastic IP the NAT Gateway uses (created by the module, or the one passed in)."
  value       = local.eip_allocation_id
}

output "state_machine_arn" {
  description = "ARN of the Step Functions state machine; start a run with StartExecution on it."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the Step Functions state machine."
  value       = aws_sfn_state_machine.this.name
}

output "state_machine_role_arn" {
  description = "ARN of the IAM role the state machine runs as (add permissions here if a workload needs more)."
  value       = aws_iam_role.state_machine.arn
}

output "controller_function_arn" {
  description = "ARN of the controller Lambda function that runs every step of a run."
  value       = aws_lambda_function.controller.arn
}

output "controller_function_name" {
  description = "Name of the controller Lambda function."
  value       = aws_lambda_function.controller.function_name
}

output "controller_log_group_name" {
  description = "CloudWatch log group of the controller function (JSON lines with the execution ARN, NAT Gateway and route table IDs)."
  value       = aws_cloudwatch_log_group.controller.name
}

output "lease_table_name" {
  description = "Name of the DynamoDB table holding the lease (which runs hold the NAT Gateway)."
  value       = aws_dynamodb_table.lease.name
}

output "lease_table_arn" {
  description = "ARN of the DynamoDB lease table."
  value       = aws_dynamodb_table.lease.arn
}

output "route_table_ids" {
  description = "Route tables whose destinations the module routes through the NAT Gateway during a run."
  value       = local.route_table_ids
}

output "route_tables" {
  description = "The managed route tables as resolved at plan time: route_table_id, main (true when it is the VPC's main route table, used by subnets without an explicit association; null when private_route_table_ids was given) and subnet_ids (the private_subnet_ids that resolved to it)."
  value       = local.route_tables
}

output "destination_cidr_blocks" {
  description = "Destinations the module routes through the NAT Gateway during a run."
  value       = var.destination_cidr_blocks
}

output "nat_gateway_tag" {
  description = "Tag (key and value) carried by every NAT Gateway this instance creates; filter on it to find them."
  value       = { key = local.instance_tag_key, value = var.name }
}

output "workload_type" {
  description = "What a run runs between attaching and removing the routes: lambda, ecs_task, state_machine or hold."
  value       = var.workload.type
}

output "egress_probe_function_name" {
  description = "Lambda function that verifies egress before the workload (null unless verify_egress)."
  value       = try(aws_lambda_function.probe[0].function_name, null)
}

output "egress_probe_security_group_id" {
  description = "Security group of the egress probe: egress to the echo service's port only (null unless verify_egress)."
  value       = try(aws_security_group.probe[0].id, null)
}

output "schedule_arns" {
  description = "ARNs of the EventBridge Scheduler schedules that start runs, by schedules key."
  value       = { for key, schedule in aws_scheduler_schedule.this : key => schedule.arn }
}

output "event_rule_arns" {
  description = "ARNs of the EventBridge rules that start runs, by event_patterns key."
  value       = { for key, rule in aws_cloudwatch_event_rule.this : key => rule.arn }
}

output "scheduler_role_arn" {
  description = "IAM role EventBridge Scheduler starts runs with (null without schedules); it may only states:StartExecution this state machine."
  value       = try(aws_iam_role.scheduler[0].arn, null)
}

output "events_role_arn" {
  description = "IAM role EventBridge rules start runs with (null without event_patterns); it may only states:StartExecution this state machine."
  value       = try(aws_iam_role.events[0].arn, null)
}

output "reaper_function_arn" {
  description = "ARN of the reaper Lambda function (invoke it with {\"reason\": \"manual\"} for a sweep on demand)."
  value       = aws_lambda_function.reaper.arn
}

output "reaper_function_name" {
  description = "Name of the reaper Lambda function."
  value       = aws_lambda_function.reaper.function_name
}

output "reaper_log_group_name" {
  description = "CloudWatch log group of the reaper; every clean-up it logs at WARNING means a run did not clean up after itself."
  value       = aws_cloudwatch_log_group.reaper.name
}

output "reaper_schedule_name" {
  description = "Name of the EventBridge Scheduler schedule that runs the reaper."
  value       = aws_scheduler_schedule.reaper.name
}

output "run_ended_rule_name" {
  description = "Name of the EventBridge rule that starts the reaper when a run ends FAILED, TIMED_OUT or ABORTED."
  value       = aws_cloudwatch_event_rule.run_ended.name
}

output "state_machine_log_group_name" {
  description = "CloudWatch log group of the state machine's execution history (level set by state_machine_log_level)."
  value       = aws_cloudwatch_log_group.state_machine.name
}

output "reaper_dead_letter_queue_arn" {
  description = "ARN of the SQS queue that keeps reaper passes that failed after Lambda's retries."
  value       = aws_sqs_queue.reaper_dead_letters.arn
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the module's metrics; each has the dimension service = name."
  value       = var.metrics_namespace
}

output "alarm_names" {
  description = "Names of the module's CloudWatch alarms by purpose (unheld_nat_gateway, runs_failed, reaper_cleanups, reaper_dead_letters); empty when create_alarms = false."
  value = var.create_alarms ? {
    unheld_nat_gateway  = aws_cloudwatch_metric_alarm.unheld_nat_gateway[0].alarm_name
    runs_failed         = aws_cloudwatch_metric_alarm.runs_failed[0].alarm_name
    reaper_cleanups     = aws_cloudwatch_metric_alarm.reaper_cleanups[0].alarm_name
    reaper_dead_letters = aws_cloudwatch_metric_alarm.reaper_dead_letters[0].alarm_name
  } : {}
}
