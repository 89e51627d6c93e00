variable "name" {
  description = "Name of this module instance: prefixes every resource it creates and tags the NAT Gateways it runs. 1-32 letters, digits and hyphens, starting with a letter; unique per account and region."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,31}$", var.name))
    error_message = "name must be 1-32 letters, digits and hyphens, starting with a letter (it prefixes IAM role, Lambda and table names)."
  }
}

variable "public_subnet_id" {
  description = "ID of the public subnet (with a route to an internet gateway) where the NAT Gateway is created."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.public_subnet_id))
    error_message = "public_subnet_id must be a subnet ID such as subnet-0123456789abcdef0."
  }
}

variable "private_route_table_ids" {
  description = "IDs of the private route tables to route through the NAT Gateway during a run (up to 100). Only the destinations in destination_cidr_blocks are added and removed; other routes are never touched. Set this or private_subnet_ids, not both."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.private_route_table_ids) <= 100
    error_message = "private_route_table_ids must list at most 100 route table IDs."
  }

  validation {
    condition     = alltrue([for id in var.private_route_table_ids : can(regex("^rtb-[0-9a-f]{8,17}$", id))])
    error_message = "Every private_route_table_ids entry must be a route table ID such as rtb-0123456789abcdef0."
  }

  validation {
    condition     = length(distinct(var.private_route_table_ids)) == length(var.private_route_table_ids)
    error_message = "private_route_table_ids must not list a route table twice."
  }
}

variable "private_subnet_ids" {
  description = "IDs of the private subnets whose traffic a run routes through the NAT Gateway (up to 100), as an alternative to private_route_table_ids: each is resolved at plan time to its route table (its explicit association, else the VPC's main route table); subnets sharing a table, and repeated IDs, collapse. Also the default subnets of an ecs_task workload and of the egress probe. Set this or private_route_table_ids, not both."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.private_subnet_ids) <= 100
    error_message = "private_subnet_ids must list at most 100 subnet IDs."
  }

  validation {
    condition     = alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "Every private_subnet_ids entry must be a subnet ID such as subnet-0123456789abcdef0."
  }
}

variable "destination_cidr_blocks" {
  description = "IPv4 destinations routed through the NAT Gateway during a run. 0.0.0.0/0 sends all internet traffic; a partner's ranges keep the rest on other routes."
  type        = list(string)
  default     = ["0.0.0.0/0"]
  nullable    = false

  validation {
    condition     = length(var.destination_cidr_blocks) > 0 && length(var.destination_cidr_blocks) <= 20
    error_message = "destination_cidr_blocks must list between 1 and 20 CIDR blocks."
  }

  validation {
    condition = alltrue([
      for cidr in var.destination_cidr_blocks :
      can(cidrhost(cidr, 0)) && can(regex("^[0-9.]+/(0|[1-9][0-9]?)$", cidr)) && try(cidrhost(cidr, 0) == split("/", cidr)[0], false)
    ])
    error_message = "Every destination_cidr_blocks entry must be an IPv4 CIDR block written with its network address and a plain prefix length, such as 203.0.113.0/24 (not 203.0.113.7/24 or 203.0.113.0/024): EC2 reports routes in that form, and the module finds its routes by it."
  }

  validation {
    condition     = length(distinct(var.destination_cidr_blocks)) == length(var.destination_cidr_blocks)
    error_message = "destination_cidr_blocks must not list a CIDR block twice."
  }
}

variable "eip_allocation_id" {
  description = "Allocation ID of an existing Elastic IP for the NAT Gateway (for an egress IP already on a partner's allowlist). Null: the module allocates one and keeps it between runs."
  type        = string
  default     = null

  validation {
    condition     = var.eip_allocation_id == null || can(regex("^eipalloc-[0-9a-f]{8,17}$", var.eip_allocation_id))
    error_message = "eip_allocation_id must be an allocation ID such as eipalloc-0123456789abcdef0, or null."
  }
}

variable "workload" {
  description = <<-EOT
    What a run runs once the routes are in place (breaking change: replaces workload_lambda_arn and workload_timeout_seconds). type is one of:
    lambda (invoke lambda_function_arn with the run's workload_input);
    ecs_task (run ecs.task_definition_arn on Fargate in ecs.cluster_arn, in ecs.subnet_ids or else private_subnet_ids, and wait until it stops; a non-zero exit fails the run; ecs.container_name is the container a run's command/environment override; ecs.pass_role_arns are the task role and execution role of the task definition, the only roles the state machine may pass to ECS);
    state_machine (start state_machine_arn with the run's workload_input and wait for it);
    hold (keep the NAT Gateway for hold_seconds, which a run may override up to timeout_seconds).
    timeout_seconds bounds the workload, 1 to 86400 (default 900).
  EOT
  type = object({
    type                = string
    timeout_seconds     = optional(number, 900)
    lambda_function_arn = optional(string)
    ecs = optional(object({
      cluster_arn         = optional(string)
      task_definition_arn = optional(string)
      subnet_ids          = optional(list(string), [])
      security_group_ids  = optional(list(string), [])
      container_name      = optional(string)
      assign_public_ip    = optional(bool, false)
      platform_version    = optional(string, "LATEST")
      pass_role_arns      = optional(list(string), [])
    }))
    state_machine_arn = optional(string)
    hold_seconds      = optional(number)
  })
  nullable = false

  validation {
    condition     = contains(["lambda", "ecs_task", "state_machine", "hold"], var.workload.type)
    error_message = "workload.type must be one of lambda, ecs_task, state_machine, hold."
  }

  validation {
    condition     = var.workload.timeout_seconds >= 1 && var.workload.timeout_seconds <= 86400 && floor(var.workload.timeout_seconds) == var.workload.timeout_seconds
    error_message = "workload.timeout_seconds must be a whole number from 1 to 86400."
  }

  # --- lambda

  validation {
    condition     = var.workload.type != "lambda" || var.workload.lambda_function_arn != null
    error_message = "workload.lambda_function_arn is required when workload.type = \"lambda\"."
  }

  validation {
    condition     = var.workload.lambda_function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$", var.workload.lambda_function_arn))
    error_message = "workload.lambda_function_arn must be a Lambda function ARN such as arn:aws:lambda:us-east-1:123456789012:function:my-job."
  }

  # --- ecs_task

  validation {
    condition     = var.workload.type != "ecs_task" || try(var.workload.ecs.cluster_arn, null) != null
    error_message = "workload.ecs.cluster_arn is required when workload.type = \"ecs_task\"."
  }

  validation {
    condition     = var.workload.type != "ecs_task" || try(var.workload.ecs.task_definition_arn, null) != null
    error_message = "workload.ecs.task_definition_arn is required when workload.type = \"ecs_task\"."
  }

  validation {
    condition     = try(var.workload.ecs.cluster_arn, null) == null || can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$", var.workload.ecs.cluster_arn))
    error_message = "workload.ecs.cluster_arn must be an ECS cluster ARN such as arn:aws:ecs:us-east-1:123456789012:cluster/jobs."
  }

  validation {
    condition     = try(var.workload.ecs.task_definition_arn, null) == null || can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/[A-Za-z0-9_-]{1,255}:[0-9]+$", var.workload.ecs.task_definition_arn))
    error_message = "workload.ecs.task_definition_arn must be a task definition ARN with its revision, such as arn:aws:ecs:us-east-1:123456789012:task-definition/job:3."
  }

  validation {
    condition     = alltrue([for id in try(var.workload.ecs.subnet_ids, []) : can(regex("^subnet-[0-9a-f]{8,17}$", id))]) && length(try(var.workload.ecs.subnet_ids, [])) <= 16
    error_message = "workload.ecs.subnet_ids must list at most 16 subnet IDs such as subnet-0123456789abcdef0."
  }

  validation {
    condition     = alltrue([for id in try(var.workload.ecs.security_group_ids, []) : can(regex("^sg-[0-9a-f]{8,17}$", id))]) && length(try(var.workload.ecs.security_group_ids, [])) <= 5
    error_message = "workload.ecs.security_group_ids must list at most 5 security group IDs such as sg-0123456789abcdef0."
  }

  validation {
    condition     = try(var.workload.ecs.container_name, null) == null || can(regex("^[A-Za-z0-9_-]{1,255}$", var.workload.ecs.container_name))
    error_message = "workload.ecs.container_name must be a container name of the task definition: 1-255 letters, digits, hyphens and underscores."
  }

  validation {
    condition     = alltrue([for arn in try(var.workload.ecs.pass_role_arns, []) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "Every workload.ecs.pass_role_arns entry must be an IAM role ARN such as arn:aws:iam::123456789012:role/job-task."
  }

  validation {
    condition     = try(var.workload.ecs.platform_version, "LATEST") == "LATEST" || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.workload.ecs.platform_version))
    error_message = "workload.ecs.platform_version must be LATEST or a Fargate platform version such as 1.4.0."
  }

  # --- state_machine

  validation {
    condition     = var.workload.type != "state_machine" || var.workload.state_machine_arn != null
    error_message = "workload.state_machine_arn is required when workload.type = \"state_machine\"."
  }

  validation {
    condition     = var.workload.state_machine_arn == null || can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$", var.workload.state_machine_arn))
    error_message = "workload.state_machine_arn must be a state machine ARN such as arn:aws:states:us-east-1:123456789012:stateMachine:partner-sync."
  }

  # --- hold

  validation {
    condition     = var.workload.type != "hold" || var.workload.hold_seconds != null
    error_message = "workload.hold_seconds is required when workload.type = \"hold\"."
  }

  validation {
    condition     = var.workload.hold_seconds == null || try(var.workload.hold_seconds >= 1 && var.workload.hold_seconds <= var.workload.timeout_seconds && floor(var.workload.hold_seconds) == var.workload.hold_seconds, false)
    error_message = "workload.hold_seconds must be a whole number from 1 to workload.timeout_seconds."
  }

  # --- fields another type would use: a likely mistake

  validation {
    condition = length(compact([
      var.workload.type != "lambda" && var.workload.lambda_function_arn != null ? "lambda_function_arn" : "",
      var.workload.type != "ecs_task" && var.workload.ecs != null ? "ecs" : "",
      var.workload.type != "state_machine" && var.workload.state_machine_arn != null ? "state_machine_arn" : "",
      var.workload.type != "hold" && var.workload.hold_seconds != null ? "hold_seconds" : "",
    ])) == 0
    error_message = "workload sets a field of another type: lambda_function_arn is for type lambda, ecs for ecs_task, state_machine_arn for state_machine, hold_seconds for hold."
  }
}

variable "poll_interval_seconds" {
  description = "Seconds the state machine waits between checks of a pending NAT Gateway. Each check is one Lambda call and three state transitions. 1 to 300."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.poll_interval_seconds >= 1 && var.poll_interval_seconds <= 300 && floor(var.poll_interval_seconds) == var.poll_interval_seconds
    error_message = "poll_interval_seconds must be a whole number from 1 to 300."
  }
}

variable "nat_ready_timeout_seconds" {
  description = "Seconds a run waits for its NAT Gateway to become available before it fails with NatGatewayTimeout and tears down. Creation typically takes 85-125 s and sometimes several minutes: values under 300 make runs fail needlessly. 30 to 3600."
  type        = number
  default     = 600
  nullable    = false

  validation {
    condition     = var.nat_ready_timeout_seconds >= 30 && var.nat_ready_timeout_seconds <= 3600 && floor(var.nat_ready_timeout_seconds) == var.nat_ready_timeout_seconds
    error_message = "nat_ready_timeout_seconds must be a whole number from 30 to 3600."
  }
}

variable "run_timeout_seconds" {
  description = "Seconds after which Step Functions ends a run as TIMED_OUT, whatever it is doing; the reaper then cleans up. Null: nat_ready_timeout_seconds + workload.timeout_seconds + 600. 30 to 31536000."
  type        = number
  default     = null

  validation {
    condition     = var.run_timeout_seconds == null || try(var.run_timeout_seconds >= 30 && var.run_timeout_seconds <= 31536000 && floor(var.run_timeout_seconds) == var.run_timeout_seconds, false)
    error_message = "run_timeout_seconds must be a whole number from 30 to 31536000, or null."
  }
}

variable "idle_grace_seconds" {
  description = "Seconds the NAT Gateway is kept, without routes, after the last run releases it, so that a back-to-back run reuses it in seconds instead of waiting minutes for a new one. NAT Gateways are billed per started hour: see idle_grace_within_billed_hour. 0 (delete at once) to 3600."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.idle_grace_seconds >= 0 && var.idle_grace_seconds <= 3600 && floor(var.idle_grace_seconds) == var.idle_grace_seconds
    error_message = "idle_grace_seconds must be a whole number from 0 to 3600."
  }
}

variable "idle_grace_within_billed_hour" {
  description = "When true, an idle grace ends early enough for the NAT Gateway to be deleted before its next billed hour starts: idle time is only spent inside an hour already paid for. With idle_grace_seconds = 3600 this keeps the NAT Gateway until its current billed hour is about to end."
  type        = bool
  default     = false
  nullable    = false
}

variable "reaper_schedule_expression" {
  description = "How often the reaper runs on its EventBridge Scheduler schedule, as a rate expression from rate(1 minute) to rate(60 minutes). It also runs whenever a run ends FAILED, TIMED_OUT or ABORTED. A NAT Gateway nobody holds is deleted within one interval."
  type        = string
  default     = "rate(5 minutes)"
  nullable    = false

  validation {
    condition     = can(regex("^rate\\((1 minute|([2-9]|[1-5][0-9]|60) minutes|1 hour)\\)$", var.reaper_schedule_expression))
    error_message = "reaper_schedule_expression must be a rate expression from rate(1 minute) to rate(60 minutes), such as rate(5 minutes) or rate(1 hour)."
  }
}

variable "verify_egress" {
  description = "Before the workload starts, check from the private subnets that the internet sees the Elastic IP: a probe Lambda function in egress_probe_subnet_ids (default private_subnet_ids) asks egress_echo_url for the caller's address. On a mismatch or no connectivity the run tears down and fails with EgressCheckFailed."
  type        = bool
  default     = false
  nullable    = false
}

variable "egress_echo_url" {
  description = "http(s) URL of an IP-echo service that answers with the caller's IPv4 address, as text or as JSON with an ip or origin key. Used when verify_egress is true; it must be reachable through destination_cidr_blocks."
  type        = string
  default     = "https://checkip.amazonaws.com"
  nullable    = false

  validation {
    condition     = can(regex("^https?://[^/?#\\s@]+(:[0-9]{1,5})?([/?][^\\s]*)?$", var.egress_echo_url))
    error_message = "egress_echo_url must be an http or https URL such as https://checkip.amazonaws.com."
  }

  validation {
    condition     = try(tonumber(regex("^https?://[^/?#:]+:([0-9]+)", var.egress_echo_url)[0]) >= 1 && tonumber(regex("^https?://[^/?#:]+:([0-9]+)", var.egress_echo_url)[0]) <= 65535, true)
    error_message = "egress_echo_url's port must be from 1 to 65535."
  }
}

variable "egress_probe_subnet_ids" {
  description = "Subnets of the egress probe (1-16); each must use one of the managed route tables. Default: private_subnet_ids. Required when verify_egress is true and private_subnet_ids is not set."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.egress_probe_subnet_ids) <= 16 && alltrue([for id in var.egress_probe_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "egress_probe_subnet_ids must list at most 16 subnet IDs such as subnet-0123456789abcdef0."
  }
}

variable "schedules" {
  description = "EventBridge Scheduler schedules that start a run, by name (1-31 letters, digits, dots, hyphens, underscores; the run_label unless input sets one). schedule_expression: cron(...), rate(...) or at(...); schedule_expression_timezone: an IANA time zone such as Europe/Berlin; input: the run's execution input as JSON (default {\"run_label\": \"<name>\"}); enabled; flexible_time_window_minutes: start up to that many minutes late (1-1440; null: on time)."
  type = map(object({
    schedule_expression          = string
    schedule_expression_timezone = optional(string, "UTC")
    input                        = optional(string)
    enabled                      = optional(bool, true)
    flexible_time_window_minutes = optional(number)
    description                  = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for key in keys(var.schedules) : can(regex("^[A-Za-z0-9_.-]{1,31}$", key))])
    error_message = "Every schedules key must be 1-31 letters, digits, dots, hyphens and underscores (it names the schedule after the module's name)."
  }

  validation {
    condition     = !contains(keys(var.schedules), "reaper")
    error_message = "The schedules key reaper is reserved: <name>-reaper is the module's own reaper schedule."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^(cron\\([^ ()]+( [^ ()]+){5}\\)|rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|at\\([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\))$", s.schedule_expression))])
    error_message = "Every schedules schedule_expression must be cron(minutes hours day-of-month month day-of-week year) with six fields, rate(1 minute|hour|day) or rate(N minutes|hours|days) for N of 2 or more, or at(yyyy-mm-ddThh:mm:ss)."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", s.schedule_expression_timezone))])
    error_message = "Every schedules schedule_expression_timezone must be an IANA time zone name such as UTC or Europe/Berlin."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.flexible_time_window_minutes == null || try(s.flexible_time_window_minutes >= 1 && s.flexible_time_window_minutes <= 1440 && floor(s.flexible_time_window_minutes) == s.flexible_time_window_minutes, false)])
    error_message = "Every schedules flexible_time_window_minutes must be a whole number from 1 to 1440, or null."
  }

  validation {
    condition = alltrue([for s in values(var.schedules) : s.input == null || try(
      alltrue([for key in keys(jsondecode(s.input)) : contains(["workload_input", "run_label", "hold_seconds"], key)]), false
    )])
    error_message = "Every schedules input must be a JSON object with only the keys a run accepts: workload_input, run_label, hold_seconds."
  }

  validation {
    condition = alltrue([for s in values(var.schedules) : s.input == null || try(
      can(regex("^\"[A-Za-z0-9 _.:/=+@-]{1,80}\"$", jsonencode(try(jsondecode(s.input).run_label, "unset")))), false
    )])
    error_message = "Every schedules input run_label must be a string of 1-80 letters, digits, spaces and _.:/=+@- characters."
  }

  validation {
    condition = alltrue([for s in values(var.schedules) : s.input == null || try(
      can(regex("^[1-9][0-9]{0,4}$", jsonencode(try(jsondecode(s.input).hold_seconds, 1)))) && tonumber(jsonencode(try(jsondecode(s.input).hold_seconds, 1))) <= 86400, false
    )])
    error_message = "Every schedules input hold_seconds must be a whole number from 1 to 86400 (and at most workload.timeout_seconds)."
  }
}

variable "event_patterns" {
  description = "EventBridge rules that start a run, by name (1-31 letters, digits, dots, hyphens, underscores; the run_label unless input sets one). event_pattern: the rule's event pattern as JSON; event_bus_name (default: default); input: the run's execution input as JSON, constant; null: {\"run_label\": \"<name>\", \"workload_input\": <the event>} for lambda and state_machine workloads, {\"run_label\": \"<name>\"} for the others; enabled."
  type = map(object({
    event_pattern  = string
    event_bus_name = optional(string, "default")
    input          = optional(string)
    enabled        = optional(bool, true)
    description    = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for key in keys(var.event_patterns) : can(regex("^[A-Za-z0-9_.-]{1,31}$", key))])
    error_message = "Every event_patterns key must be 1-31 letters, digits, dots, hyphens and underscores (it names the rule after the module's name)."
  }

  validation {
    condition     = !contains(keys(var.event_patterns), "run-ended")
    error_message = "The event_patterns key run-ended is reserved: <name>-run-ended is the module's own rule that starts the reaper (EventBridge would merge the two)."
  }

  validation {
    condition     = alltrue([for e in values(var.event_patterns) : try(length(keys(jsondecode(e.event_pattern))) > 0, false)])
    error_message = "Every event_patterns event_pattern must be a non-empty JSON object, such as {\"source\": [\"aws.s3\"]}."
  }

  validation {
    condition     = alltrue([for e in values(var.event_patterns) : try(alltrue([for v in values(jsondecode(e.event_pattern)) : !can(tostring(v))]), false)])
    error_message = "Every event_patterns event_pattern field must hold an array of values or a nested object, such as {\"source\": [\"aws.s3\"]}, not a bare value."
  }

  validation {
    condition = alltrue([for e in values(var.event_patterns) : e.input == null || try(
      alltrue([for key in keys(jsondecode(e.input)) : contains(["workload_input", "run_label", "hold_seconds"], key)]), false
    )])
    error_message = "Every event_patterns input must be a JSON object with only the keys a run accepts: workload_input, run_label, hold_seconds."
  }

  validation {
    condition = alltrue([for s in values(var.event_patterns) : s.input == null || try(
      can(regex("^\"[A-Za-z0-9 _.:/=+@-]{1,80}\"$", jsonencode(try(jsondecode(s.input).run_label, "unset")))), false
    )])
    error_message = "Every event_patterns input run_label must be a string of 1-80 letters, digits, spaces and _.:/=+@- characters."
  }

  validation {
    condition = alltrue([for s in values(var.event_patterns) : s.input == null || try(
      can(regex("^[1-9][0-9]{0,4}$", jsonencode(try(jsondecode(s.input).hold_seconds, 1)))) && tonumber(jsonencode(try(jsondecode(s.input).hold_seconds, 1))) <= 86400, false
    )])
    error_message = "Every event_patterns input hold_seconds must be a whole number from 1 to 86400 (and at most workload.timeout_seconds)."
  }
}

variable "log_retention_days" {
  description = "Days to keep the module's CloudWatch logs. One of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "powertools_layer_arn" {
  description = "ARN of the Lambda layer that provides Powertools for AWS Lambda (Python) v3 to the handlers. Null: the public layer AWS publishes for python3.12 on x86_64 in this region."
  type        = string
  default     = null

  validation {
    condition     = var.powertools_layer_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.powertools_layer_arn))
    error_message = "powertools_layer_arn must be a layer version ARN such as arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:27, or null."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates, the NAT Gateways of its runs included."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for key in keys(var.tags) : !startswith(key, "nat-on-demand:")])
    error_message = "Tag keys starting with nat-on-demand: are reserved: the module uses them to recognise its own NAT Gateways."
  }

  validation {
    condition     = alltrue([for key in keys(var.tags) : !startswith(lower(key), "aws:")])
    error_message = "Tag keys starting with aws: are reserved by AWS."
  }

  validation {
    condition     = length(var.tags) <= 46
    error_message = "tags must hold at most 46 tags: AWS allows 50 per resource, and the module adds four to each NAT Gateway (Name and three nat-on-demand: tags)."
  }

  validation {
    condition     = alltrue([for key, value in var.tags : try(length(key) >= 1 && length(key) <= 128 && length(value) <= 256, false)])
    error_message = "Every tags key must be 1-128 characters and every value a string of at most 256 characters (not null)."
  }

  validation {
    condition     = alltrue([for key, value in var.tags : try(can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$", key)) && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$", value)), false)])
    error_message = "Every tags key and value may hold only letters, digits, spaces and _.:/=+-@ (IAM and Lambda refuse other characters in tags)."
  }
}

variable "log_level" {
  description = "Level of the functions' logs (JSON lines from Powertools): DEBUG, INFO, WARNING or ERROR."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the module's metrics (NatGatewayCreated, NatGatewayReused, NatGatewayUptimeSeconds, RoutesChanged, RunFailed, ReaperCleanups, UnheldNatGatewaySeconds), each with the dimension service = name."
  type        = string
  default     = "NatOnDemand"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits and . _ / # : -, and must not start with AWS/."
  }
}

variable "tracing_enabled" {
  description = "Trace runs with AWS X-Ray: the state machine and every function. Off by default: X-Ray is billed per trace, and the X-Ray SDK adds about 0.4 s to each function's cold start."
  type        = bool
  default     = false
  nullable    = false
}

variable "state_machine_log_level" {
  description = "What the state machine logs to its CloudWatch log group: ALL, ERROR, FATAL or OFF. ERROR records every failed step with its error and cause."
  type        = string
  default     = "ERROR"
  nullable    = false

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.state_machine_log_level)
    error_message = "state_machine_log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "state_machine_log_execution_data" {
  description = "Include each state's input and output in the state machine's logs. They hold the run's workload_input: leave false if it may carry anything sensitive."
  type        = bool
  default     = false
  nullable    = false
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the module's log groups, lease table, reaper dead-letter queue and schedules. Its key policy must let CloudWatch Logs (logs.<region>.amazonaws.com) and EventBridge Scheduler use it. Null: AWS-owned keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab, or null."
  }
}

variable "create_alarms" {
  description = "Create CloudWatch alarms: a NAT Gateway unheld too long (or the reaper not reporting), runs that failed or timed out, reaper clean-ups, reaper passes that failed for good."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_actions" {
  description = "ARNs to notify when an alarm fires, typically one SNS topic. Empty: the alarms only change state."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.alarm_actions : can(regex("^arn:aws[a-z-]*:", arn))])
    error_message = "Every alarm_actions entry must be an ARN, such as arn:aws:sns:us-east-1:123456789012:ops."
  }
}

variable "unheld_nat_gateway_alarm_seconds" {
  description = "Alarm when a NAT Gateway of this instance has had no holder for longer than this. Null: idle_grace_seconds + two reaper intervals + 300, which only a failing reaper exceeds."
  type        = number
  default     = null

  validation {
    condition     = var.unheld_nat_gateway_alarm_seconds == null || try(var.unheld_nat_gateway_alarm_seconds >= 60, false)
    error_message = "unheld_nat_gateway_alarm_seconds must be at least 60, or null."
  }
}

variable "reaper_reserved_concurrency" {
  description = "Reserved concurrency of the reaper: 1 keeps two passes from doing the same clean-up at once. Null: none, for accounts whose concurrency quota leaves less than 100 unreserved (new accounts may have 10)."
  type        = number
  default     = 1

  validation {
    condition     = var.reaper_reserved_concurrency == null || try(var.reaper_reserved_concurrency >= 1 && var.reaper_reserved_concurrency <= 10 && floor(var.reaper_reserved_concurrency) == var.reaper_reserved_concurrency, false)
    error_message = "reaper_reserved_concurrency must be a whole number from 1 to 10, or null."
  }
}
