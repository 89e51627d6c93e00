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
  description = "IDs of the private route tables to route through the NAT Gateway during a run. Only the destinations in destination_cidr_blocks are added and removed; other routes are never touched."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_route_table_ids) > 0 && length(var.private_route_table_ids) <= 100
    error_message = "private_route_table_ids must list between 1 and 100 route table IDs."
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
      can(cidrhost(cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", cidr)) && try(cidrhost(cidr, 0) == split("/", cidr)[0], false)
    ])
    error_message = "Every destination_cidr_blocks entry must be an IPv4 CIDR block written with its network address, such as 203.0.113.0/24 (not 203.0.113.7/24)."
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

variable "workload_lambda_arn" {
  description = "ARN of the Lambda function a run invokes once the routes are in place. It receives the execution input's workload_input as its event."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$", var.workload_lambda_arn))
    error_message = "workload_lambda_arn must be a Lambda function ARN such as arn:aws:lambda:us-east-1:123456789012:function:my-job."
  }
}

variable "workload_timeout_seconds" {
  description = "Seconds a run waits for the workload before failing it with States.Timeout and tearing down. 1 to 86400."
  type        = number
  default     = 900
  nullable    = false

  validation {
    condition     = var.workload_timeout_seconds >= 1 && var.workload_timeout_seconds <= 86400 && floor(var.workload_timeout_seconds) == var.workload_timeout_seconds
    error_message = "workload_timeout_seconds must be a whole number from 1 to 86400."
  }
}

variable "poll_interval_seconds" {
  description = "Seconds the state machine waits between checks of a pending NAT Gateway. Each check is one Lambda call and two state transitions. 1 to 300."
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
  description = "Seconds after which Step Functions ends a run as TIMED_OUT, whatever it is doing; the reaper then cleans up. Null: nat_ready_timeout_seconds + workload_timeout_seconds + 600. 30 to 31536000."
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
    condition     = can(regex("^rate\\((1 minute|([1-9]|[1-5][0-9]|60) minutes|1 hour)\\)$", var.reaper_schedule_expression))
    error_message = "reaper_schedule_expression must be a rate expression from rate(1 minute) to rate(60 minutes), such as rate(5 minutes) or rate(1 hour)."
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
}
