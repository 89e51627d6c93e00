################################################################################
# Inputs resolved
################################################################################

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # The tag every NAT Gateway of this instance carries; lookups filter on it.
  instance_tag_key = "nat-on-demand:instance"
  tags             = merge(var.tags, { (local.instance_tag_key) = var.name })

  eip_allocation_id = var.eip_allocation_id != null ? var.eip_allocation_id : aws_eip.this[0].allocation_id
  egress_public_ip  = var.eip_allocation_id != null ? data.aws_eip.existing[0].public_ip : aws_eip.this[0].public_ip

  route_table_arns = [
    for id in local.route_table_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:route-table/${id}"
  ]

  # Public layer published by the Powertools team (account 017000801446).
  powertools_layer_arn = coalesce(
    var.powertools_layer_arn,
    "arn:${local.partition}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:27",
  )

  controller_name = "${var.name}-controller"
  probe_name      = "${var.name}-egress-probe"
  reaper_name     = "${var.name}-reaper"

  # The controller's Lambda timeout; the state machine's task timeout is
  # longer, so a slow step ends as Sandbox.Timedout, which it retries.
  controller_timeout_seconds = 60

  run_timeout_seconds = coalesce(
    var.run_timeout_seconds,
    var.nat_ready_timeout_seconds + var.workload.timeout_seconds + 600,
  )

  # rate(N minutes) / rate(1 hour) in seconds: how late the reaper may act.
  reaper_rate             = regex("^rate\\((\\d+) (minute|minutes|hour)\\)$", var.reaper_schedule_expression)
  reaper_interval_seconds = tonumber(local.reaper_rate[0]) * (local.reaper_rate[1] == "hour" ? 3600 : 60)

  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name}"
  execution_arns    = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${var.name}:*"

  # Logs, metrics and traces of every function (Powertools reads these).
  powertools_environment = {
    POWERTOOLS_SERVICE_NAME      = var.name
    POWERTOOLS_LOG_LEVEL         = var.log_level
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    POWERTOOLS_TRACE_DISABLED    = tostring(!var.tracing_enabled)
  }
  lambda_tracing_mode = var.tracing_enabled ? "Active" : "PassThrough"

  # What every function of this instance needs to know about it.
  function_environment = merge({
    NAT_ON_DEMAND_NAME                       = var.name
    NAT_ON_DEMAND_PUBLIC_SUBNET_ID           = var.public_subnet_id
    NAT_ON_DEMAND_EIP_ALLOCATION_ID          = local.eip_allocation_id
    NAT_ON_DEMAND_ROUTE_TABLE_IDS            = jsonencode(local.route_table_ids)
    NAT_ON_DEMAND_DESTINATION_CIDR_BLOCKS    = jsonencode(var.destination_cidr_blocks)
    NAT_ON_DEMAND_LEASE_TABLE                = aws_dynamodb_table.lease.name
    NAT_ON_DEMAND_NAT_READY_TIMEOUT_SECONDS  = tostring(var.nat_ready_timeout_seconds)
    NAT_ON_DEMAND_POLL_INTERVAL_SECONDS      = tostring(var.poll_interval_seconds)
    NAT_ON_DEMAND_WORKLOAD_TYPE              = var.workload.type
    NAT_ON_DEMAND_WORKLOAD_TIMEOUT_SECONDS   = tostring(var.workload.timeout_seconds)
    NAT_ON_DEMAND_NAT_TAGS                   = jsonencode(var.tags)
    NAT_ON_DEMAND_IDLE_GRACE_SECONDS         = tostring(var.idle_grace_seconds)
    NAT_ON_DEMAND_IDLE_WITHIN_BILLED_HOUR    = tostring(var.idle_grace_within_billed_hour)
    NAT_ON_DEMAND_REAPER_INTERVAL_SECONDS    = tostring(local.reaper_interval_seconds)
    NAT_ON_DEMAND_CONTROLLER_TIMEOUT_SECONDS = tostring(local.controller_timeout_seconds)
    NAT_ON_DEMAND_STATE_MACHINE_ARN          = local.state_machine_arn
    },
    local.powertools_environment,
    var.workload.hold_seconds != null ? { NAT_ON_DEMAND_HOLD_SECONDS = tostring(var.workload.hold_seconds) } : {},
    try(var.workload.ecs.container_name, null) != null ? { NAT_ON_DEMAND_ECS_CONTAINER_NAME = var.workload.ecs.container_name } : {},
  )
}

locals {
  function_environment_bytes = sum([for key, value in local.function_environment : length(key) + length(value)])
}

# --- Which route tables: given, or resolved from subnets at plan time

locals {
  use_subnets        = length(var.private_subnet_ids) > 0
  private_subnet_ids = distinct(var.private_subnet_ids)
  probe_subnet_ids   = distinct(length(var.egress_probe_subnet_ids) > 0 ? var.egress_probe_subnet_ids : var.private_subnet_ids)
  # Every subnet whose route table the module must know: the private subnets,
  # and the probe's (which must use a managed table). Not deduplicated: the
  # IDs may be unknown until apply, and a count must be known at plan time.
  resolved_subnet_ids = concat(var.private_subnet_ids, var.verify_egress ? var.egress_probe_subnet_ids : [])

  main_route_table_id = try(one(data.aws_route_tables.main[0].ids), null)
  # A subnet without an explicit association uses the VPC's main route table
  # (DescribeRouteTables' association.subnet-id finds nothing for it).
  subnet_route_table_ids = {
    for index, id in local.resolved_subnet_ids : id => try(
      data.aws_route_tables.explicit[index].ids[0], local.main_route_table_id
    )...
  }

  route_table_ids = local.use_subnets ? distinct([for id in local.private_subnet_ids : local.subnet_route_table_ids[id][0]]) : var.private_route_table_ids
  route_tables = [
    for id in local.route_table_ids : {
      route_table_id = id
      main           = local.use_subnets ? id == local.main_route_table_id : null
      subnet_ids     = [for subnet_id in local.private_subnet_ids : subnet_id if local.subnet_route_table_ids[subnet_id][0] == id]
    }
  ]
  probe_route_table_ids = var.verify_egress ? distinct([for id in local.probe_subnet_ids : local.subnet_route_table_ids[id][0]]) : []
}

# The NAT Gateway's subnet; every private subnet and route table must be in its VPC.
data "aws_subnet" "public" {
  id = var.public_subnet_id

  lifecycle {
    precondition {
      condition     = length(var.private_subnet_ids) > 0 || length(var.private_route_table_ids) > 0
      error_message = "Set private_subnet_ids or private_route_table_ids: the module must know which route tables to route through the NAT Gateway."
    }

    precondition {
      condition     = length(var.private_subnet_ids) == 0 || length(var.private_route_table_ids) == 0
      error_message = "Set private_subnet_ids or private_route_table_ids, not both."
    }

    precondition {
      condition     = var.workload.type != "ecs_task" || length(try(var.workload.ecs.subnet_ids, [])) > 0 || length(var.private_subnet_ids) > 0
      error_message = "workload.ecs.subnet_ids is required when workload.type = \"ecs_task\" and private_subnet_ids is not set."
    }

    precondition {
      condition     = !var.verify_egress || length(local.probe_subnet_ids) > 0
      error_message = "egress_probe_subnet_ids is required when verify_egress = true and private_subnet_ids is not set."
    }
  }
}

data "aws_vpc" "this" {
  id = data.aws_subnet.public.vpc_id
}

locals {
  vpc_cidr_blocks = data.aws_vpc.this.cidr_block_associations[*].cidr_block
  # Each CIDR as (first address as a number, prefix length): HCL has no
  # cidrcontains before Terraform 1.8's provider functions.
  cidr_numbers = {
    for cidr in distinct(concat(var.destination_cidr_blocks, local.vpc_cidr_blocks)) : cidr => {
      start  = sum([for i, octet in split(".", split("/", cidr)[0]) : tonumber(octet) * pow(256, 3 - i)])
      prefix = tonumber(split("/", cidr)[1])
    }
  }
  destinations_inside_vpc = [
    for cidr in var.destination_cidr_blocks : cidr if anytrue([
      for vpc_cidr in local.vpc_cidr_blocks :
      local.cidr_numbers[cidr].prefix >= local.cidr_numbers[vpc_cidr].prefix &&
      floor(local.cidr_numbers[cidr].start / pow(2, 32 - local.cidr_numbers[vpc_cidr].prefix)) == floor(local.cidr_numbers[vpc_cidr].start / pow(2, 32 - local.cidr_numbers[vpc_cidr].prefix))
    ])
  ]
}

data "aws_subnet" "private" {
  count = length(local.resolved_subnet_ids)

  id = local.resolved_subnet_ids[count.index]

  lifecycle {
    postcondition {
      condition     = self.vpc_id == data.aws_subnet.public.vpc_id
      error_message = "Subnet ${self.id} is in ${self.vpc_id}, the public subnet in ${data.aws_subnet.public.vpc_id}: the NAT Gateway can only serve its own VPC."
    }
  }
}

# Given route tables must exist and be in the NAT Gateway's VPC: EC2 refuses
# a route to a NAT Gateway of another VPC, and it would say so only during a
# run, after the NAT Gateway was created.
data "aws_route_table" "given" {
  count = length(var.private_route_table_ids)

  route_table_id = var.private_route_table_ids[count.index]

  lifecycle {
    postcondition {
      condition     = self.vpc_id == data.aws_subnet.public.vpc_id
      error_message = "Route table ${self.route_table_id} is in ${self.vpc_id}, the public subnet in ${data.aws_subnet.public.vpc_id}: the NAT Gateway can only serve its own VPC."
    }
  }
}

# An ECS workload's own subnets must be in that VPC too.
data "aws_subnet" "ecs" {
  count = length(try(var.workload.ecs.subnet_ids, []))

  id = var.workload.ecs.subnet_ids[count.index]

  lifecycle {
    postcondition {
      condition     = self.vpc_id == data.aws_subnet.public.vpc_id
      error_message = "workload.ecs.subnet_ids: subnet ${self.id} is in ${self.vpc_id}, the public subnet in ${data.aws_subnet.public.vpc_id}: the task would get no route to the NAT Gateway."
    }
  }
}

data "aws_route_tables" "explicit" {
  count = length(local.resolved_subnet_ids)

  vpc_id = data.aws_subnet.private[count.index].vpc_id

  filter {
    name   = "association.subnet-id"
    values = [local.resolved_subnet_ids[count.index]]
  }
}

data "aws_route_tables" "main" {
  count = length(local.resolved_subnet_ids) > 0 ? 1 : 0

  vpc_id = data.aws_subnet.public.vpc_id

  filter {
    name   = "association.main"
    values = ["true"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.ids) == 1
      error_message = "The VPC ${data.aws_subnet.public.vpc_id} has no main route table to resolve private_subnet_ids without an explicit association."
    }
  }
}

################################################################################
# Elastic IP: the stable egress address, kept between runs
################################################################################

resource "aws_eip" "this" {
  # checkov:skip=CKV2_AWS_19: The Elastic IP is attached to the NAT Gateway during runs and kept in between, so partners can allowlist one stable egress IP.
  count = var.eip_allocation_id == null ? 1 : 0

  domain = "vpc"

  tags = merge(local.tags, { Name = "${var.name}-nat" })
}

data "aws_eip" "existing" {
  count = var.eip_allocation_id != null ? 1 : 0

  id = var.eip_allocation_id
}

################################################################################
# Lease table: which runs hold the NAT Gateway
################################################################################

resource "aws_dynamodb_table" "lease" {
  name         = "${var.name}-lease"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = local.tags
}

################################################################################
# Lambda package: one zip of lambda/, shared by the functions
################################################################################

data "archive_file" "lambda" {
  type        = "zip"
  source_dir  = "${path.module}/lambda"
  output_path = "${path.root}/.terraform/nat-on-demand/${var.name}-lambda.zip"
  excludes    = ["**/__pycache__"]
}

################################################################################
# Controller: every step of a run (acquire, poll, attach routes, release)
################################################################################

resource "aws_cloudwatch_log_group" "controller" {
  # checkov:skip=CKV_AWS_338: Retention is an input (log_retention_days, 30 days by default); these are operational logs, not an audit trail.
  name              = "/aws/lambda/${local.controller_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = local.tags
}

resource "aws_lambda_function" "controller" {
  # checkov:skip=CKV_AWS_173: The environment holds no secrets (resource IDs and settings); Lambda encrypts it at rest with an AWS key.
  # checkov:skip=CKV_AWS_272: The zip is built from this module's source by archive_file at apply; there is no signing profile to check it against.
  # checkov:skip=CKV_AWS_117: It calls the EC2 API, which a private subnet cannot reach while no NAT Gateway exists; it runs outside the VPC by design.
  # checkov:skip=CKV_AWS_115: Overlapping runs call it at once; a concurrency limit would throttle their steps, and the lease already serialises what must be.
  # checkov:skip=CKV_AWS_116: Step Functions invokes it synchronously, retries its errors and catches them into the teardown; nothing invokes it asynchronously.
  function_name    = local.controller_name
  description      = "nat-on-demand ${var.name}: acquire, poll, attach routes and release for each run"
  role             = aws_iam_role.controller.arn
  filename         = data.archive_file.lambda.output_path
  source_code_hash = data.archive_file.lambda.output_base64sha256
  handler          = "nat_on_demand.handlers.controller.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = 256
  timeout          = local.controller_timeout_seconds
  layers           = [local.powertools_layer_arn]

  tracing_config {
    mode = local.lambda_tracing_mode
  }

  environment {
    variables = local.function_environment
  }

  tags = local.tags

  lifecycle {
    # AWS refuses a route to a NAT Gateway whose destination is a VPC CIDR
    # or inside one (the local route owns it); a wider one such as 0.0.0.0/0
    # is fine, the more specific local route wins.
    precondition {
      condition     = length(local.destinations_inside_vpc) == 0
      error_message = "destination_cidr_blocks must not be the VPC's CIDR or inside it (${join(", ", local.vpc_cidr_blocks)}): ${join(", ", local.destinations_inside_vpc)}."
    }

    # Lambda refuses an environment over 4 KB (keys and values together).
    precondition {
      condition     = local.function_environment_bytes <= 4096
      error_message = "The functions' environment would be ${local.function_environment_bytes} bytes, over Lambda's 4096: fewer route tables, destination_cidr_blocks or tags."
    }
  }

  depends_on = [aws_iam_role_policy.controller, aws_cloudwatch_log_group.controller]
}

################################################################################
# Egress probe: proves, from the private subnets, that the internet sees the EIP
################################################################################

locals {
  echo_url_parts = regex("^(https?)://([^/?#:]+)(?::([0-9]+))?", var.egress_echo_url)
  # The probe may reach only the echo service's port.
  echo_port = coalesce(local.echo_url_parts[2], local.echo_url_parts[0] == "https" ? "443" : "80")
}

resource "aws_cloudwatch_log_group" "probe" {
  # checkov:skip=CKV_AWS_338: Retention is an input (log_retention_days, 30 days by default); these are operational logs, not an audit trail.
  count = var.verify_egress ? 1 : 0

  name              = "/aws/lambda/${local.probe_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = local.tags
}

resource "aws_security_group" "probe" {
  count = var.verify_egress ? 1 : 0

  name        = local.probe_name
  description = "nat-on-demand ${var.name} egress probe: egress to the echo service only"
  vpc_id      = data.aws_subnet.public.vpc_id

  egress {
    description = "The IP-echo service, through the NAT Gateway during a run"
    from_port   = tonumber(local.echo_port)
    to_port     = tonumber(local.echo_port)
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(local.tags, { Name = local.probe_name })
}

resource "aws_lambda_function" "probe" {
  # checkov:skip=CKV_AWS_173: The environment holds no secrets (resource IDs and settings); Lambda encrypts it at rest with an AWS key.
  # checkov:skip=CKV_AWS_272: The zip is built from this module's source by archive_file at apply; there is no signing profile to check it against.
  # checkov:skip=CKV_AWS_115: One check per run; overlapping runs each need theirs.
  # checkov:skip=CKV_AWS_116: Step Functions invokes it synchronously and retries or catches its errors.
  count = var.verify_egress ? 1 : 0

  function_name    = local.probe_name
  description      = "nat-on-demand ${var.name}: checks the internet sees ${local.egress_public_ip} before the workload starts"
  role             = aws_iam_role.probe[0].arn
  filename         = data.archive_file.lambda.output_path
  source_code_hash = data.archive_file.lambda.output_base64sha256
  handler          = "nat_on_demand.handlers.probe.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = 128
  # One request of at most 5 s; the state machine retries a failed check.
  timeout = 15
  layers  = [local.powertools_layer_arn]

  tracing_config {
    mode = local.lambda_tracing_mode
  }

  vpc_config {
    subnet_ids         = local.probe_subnet_ids
    security_group_ids = [aws_security_group.probe[0].id]
  }

  environment {
    variables = merge(local.powertools_environment, {
      NAT_ON_DEMAND_ECHO_URL             = var.egress_echo_url
      NAT_ON_DEMAND_EXPECTED_IP          = local.egress_public_ip
      NAT_ON_DEMAND_ECHO_TIMEOUT_SECONDS = "5"
    })
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = length(setsubtract(local.probe_route_table_ids, local.route_table_ids)) == 0
      error_message = "The egress probe's subnets must use the managed route tables; these do not: ${join(", ", setsubtract(local.probe_route_table_ids, local.route_table_ids))}."
    }
  }

  depends_on = [aws_iam_role_policy_attachment.probe_vpc_access, aws_cloudwatch_log_group.probe]
}

################################################################################
# State machine: the run
################################################################################

locals {
  workload_ecs = var.workload.type == "ecs_task" ? var.workload.ecs : null
  ecs_subnet_ids = local.workload_ecs == null ? [] : (
    length(local.workload_ecs.subnet_ids) > 0 ? local.workload_ecs.subnet_ids : local.private_subnet_ids
  )
  # Lists cannot be template placeholders (the template must stay valid JSON):
  # the task's network configuration is built here and merged in.
  ecs_network_configuration = local.workload_ecs == null ? null : {
    AwsvpcConfiguration = merge(
      {
        Subnets        = local.ecs_subnet_ids
        AssignPublicIp = local.workload_ecs.assign_public_ip ? "ENABLED" : "DISABLED"
      },
      # Without security groups ECS uses the VPC's default one.
      length(local.workload_ecs.security_group_ids) > 0 ? { SecurityGroups = local.workload_ecs.security_group_ids } : {},
    )
  }

  workflow = jsondecode(templatefile("${path.module}/stepfunctions/workflow.asl.json.tftpl", {
    controller_function_arn = aws_lambda_function.controller.arn
  }))

  # Only the workload type's own states are deployed: the fragment replaces
  # the template's RunWorkload placeholder.
  workload_states = jsondecode(templatefile("${path.module}/stepfunctions/workload-${replace(var.workload.type, "_", "-")}.asl.json.tftpl", {
    controller_function_arn = aws_lambda_function.controller.arn
    lambda_function_arn     = coalesce(var.workload.lambda_function_arn, "-")
    state_machine_arn       = coalesce(var.workload.state_machine_arn, "-")
    cluster_arn             = try(coalesce(local.workload_ecs.cluster_arn), "-")
    task_definition_arn     = try(coalesce(local.workload_ecs.task_definition_arn), "-")
    platform_version        = try(coalesce(local.workload_ecs.platform_version), "LATEST")
  }))
  # As JSON text: the two shapes differ, and a conditional needs one type.
  workload_states_json = local.workload_ecs == null ? jsonencode(local.workload_states) : jsonencode(merge(local.workload_states, {
    RunWorkload = merge(local.workload_states.RunWorkload, {
      Parameters = merge(local.workload_states.RunWorkload.Parameters, {
        NetworkConfiguration = local.ecs_network_configuration
      })
    })
  }))

  verify_egress_states_json = var.verify_egress ? jsonencode(jsondecode(templatefile("${path.module}/stepfunctions/verify-egress.asl.json.tftpl", {
    probe_function_arn = aws_lambda_function.probe[0].arn
  }))) : "{}"

  # A run that outlives every timeout it is given ends TIMED_OUT (the reaper
  # then cleans up after it).
  definition = jsonencode(merge(local.workflow, {
    TimeoutSeconds = local.run_timeout_seconds
    States = merge(
      local.workflow.States,
      {
        AttachRoutes = merge(local.workflow.States.AttachRoutes, {
          Next = var.verify_egress ? "VerifyEgress" : "RunWorkload"
        })
      },
      jsondecode(local.workload_states_json),
      jsondecode(local.verify_egress_states_json),
    )
  }))
}

# Vended logs: Step Functions writes here through a log delivery, with the
# resource policy CloudWatch Logs keeps for the account.
resource "aws_cloudwatch_log_group" "state_machine" {
  # checkov:skip=CKV_AWS_338: Retention is an input (log_retention_days, 30 days by default); these are operational logs, not an audit trail.
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = local.tags
}

resource "aws_sfn_state_machine" "this" {
  # checkov:skip=CKV_AWS_284: X-Ray is an input (tracing_enabled), off by default for its cost and cold-start time.
  # checkov:skip=CKV_AWS_285: Execution data holds the run's workload_input, which may be sensitive; state_machine_log_execution_data turns it on.
  name       = var.name
  role_arn   = aws_iam_role.state_machine.arn
  type       = "STANDARD"
  definition = local.definition

  logging_configuration {
    level                  = var.state_machine_log_level
    include_execution_data = var.state_machine_log_execution_data
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = length(local.route_table_ids) > 0 && length(local.route_table_ids) <= 100 && alltrue([for id in local.route_table_ids : id != null])
      error_message = "private_subnet_ids resolved to ${length(local.route_table_ids)} route tables; a run needs 1 to 100."
    }
  }

  depends_on = [aws_iam_role_policy.state_machine]
}

################################################################################
# Triggers: schedules and event rules that start a run
################################################################################

locals {
  # Lambda and nested state machine workloads get the event as their input;
  # an ECS task's input holds only command/environment, a hold none.
  event_input_takes_event = contains(["lambda", "state_machine"], var.workload.type)

  # What a run would refuse in a schedule's or rule's constant input, by
  # trigger ("" when it fits): caught here, not at 2 a.m. (variables.tf has
  # already checked keys and value types).
  trigger_inputs = merge(
    { for key, s in var.schedules : "schedules.${key}" => s.input == null ? {} : jsondecode(s.input) },
    { for key, e in var.event_patterns : "event_patterns.${key}" => e.input == null ? {} : jsondecode(e.input) },
  )
  trigger_input_problems = {
    for key, run_input in local.trigger_inputs : key => (
      contains(keys(run_input), "hold_seconds") && var.workload.type != "hold" ? "hold_seconds applies only to workload type hold (this module runs ${var.workload.type})" :
      try(run_input.hold_seconds, 0) > var.workload.timeout_seconds ? "hold_seconds must be at most workload.timeout_seconds (${var.workload.timeout_seconds})" :
      var.workload.type == "hold" && try(jsonencode(run_input.workload_input), "{}") != "{}" ? "workload_input is not used by workload type hold; set hold_seconds to change the window" : ""
    )
  }
}

resource "aws_scheduler_schedule" "this" {
  for_each = var.schedules

  name        = "${var.name}-${each.key}"
  group_name  = "default"
  description = coalesce(each.value.description, "nat-on-demand ${var.name}: start a run (${each.key})")

  kms_key_arn                  = var.kms_key_arn
  schedule_expression          = each.value.schedule_expression
  schedule_expression_timezone = each.value.schedule_expression_timezone
  state                        = each.value.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode                      = each.value.flexible_time_window_minutes == null ? "OFF" : "FLEXIBLE"
    maximum_window_in_minutes = each.value.flexible_time_window_minutes
  }

  target {
    arn      = aws_sfn_state_machine.this.arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = coalesce(each.value.input, jsonencode({ run_label = each.key }))
  }

  lifecycle {
    precondition {
      condition     = local.trigger_input_problems["schedules.${each.key}"] == ""
      error_message = "schedules.${each.key}.input: ${local.trigger_input_problems["schedules.${each.key}"]}."
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = var.event_patterns

  name           = "${var.name}-${each.key}"
  description    = coalesce(each.value.description, "nat-on-demand ${var.name}: start a run (${each.key})")
  event_bus_name = each.value.event_bus_name
  event_pattern  = each.value.event_pattern
  state          = each.value.enabled ? "ENABLED" : "DISABLED"

  tags = local.tags

  lifecycle {
    precondition {
      condition     = local.trigger_input_problems["event_patterns.${each.key}"] == ""
      error_message = "event_patterns.${each.key}.input: ${local.trigger_input_problems["event_patterns.${each.key}"]}."
    }
  }
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = var.event_patterns

  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = each.value.event_bus_name
  target_id      = "nat-on-demand"
  arn            = aws_sfn_state_machine.this.arn
  role_arn       = aws_iam_role.events[0].arn

  input = each.value.input != null ? each.value.input : (
    local.event_input_takes_event ? null : jsonencode({ run_label = each.key })
  )

  dynamic "input_transformer" {
    for_each = each.value.input == null && local.event_input_takes_event ? [each.key] : []

    content {
      # The whole event, detail included, as the workload's input.
      input_template = "{\"run_label\": ${jsonencode(input_transformer.value)}, \"workload_input\": <aws.events.event.json>}"
    }
  }

  depends_on = [aws_iam_role_policy.events]
}

################################################################################
# Reaper: cleans up after runs that ended without their own cleanup
################################################################################

resource "aws_cloudwatch_log_group" "reaper" {
  # checkov:skip=CKV_AWS_338: Retention is an input (log_retention_days, 30 days by default); these are operational logs, not an audit trail.
  name              = "/aws/lambda/${local.reaper_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = local.tags
}

resource "aws_lambda_function" "reaper" {
  # checkov:skip=CKV_AWS_173: The environment holds no secrets (resource IDs and settings); Lambda encrypts it at rest with an AWS key.
  # checkov:skip=CKV_AWS_272: The zip is built from this module's source by archive_file at apply; there is no signing profile to check it against.
  # checkov:skip=CKV_AWS_117: It calls the EC2 API, which a private subnet cannot reach while no NAT Gateway exists; it runs outside the VPC by design.
  function_name    = local.reaper_name
  description      = "nat-on-demand ${var.name}: cleans up after runs that ended without cleanup"
  role             = aws_iam_role.reaper.arn
  filename         = data.archive_file.lambda.output_path
  source_code_hash = data.archive_file.lambda.output_base64sha256
  handler          = "nat_on_demand.handlers.reaper.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = 256
  timeout          = 120
  layers           = [local.powertools_layer_arn]

  reserved_concurrent_executions = var.reaper_reserved_concurrency

  tracing_config {
    mode = local.lambda_tracing_mode
  }

  # A pass that still fails after Lambda's two retries lands here, and its
  # alarm fires; the next scheduled pass tries again meanwhile.
  dead_letter_config {
    target_arn = aws_sqs_queue.reaper_dead_letters.arn
  }

  environment {
    variables = local.function_environment
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.reaper, aws_cloudwatch_log_group.reaper]
}

resource "aws_sqs_queue" "reaper_dead_letters" {
  name                      = "${local.reaper_name}-dead-letters"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn

  tags = local.tags
}

# EventBridge and Scheduler invoke the reaper asynchronously: Lambda retries a
# failed pass twice; the next scheduled pass catches anything still left.
resource "aws_lambda_function_event_invoke_config" "reaper" {
  function_name                = aws_lambda_function.reaper.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}

resource "aws_cloudwatch_event_rule" "run_ended" {
  name        = "${var.name}-run-ended"
  description = "nat-on-demand ${var.name}: a run ended FAILED, TIMED_OUT or ABORTED; Catch never ran for the last two"

  event_pattern = jsonencode({
    source        = ["aws.states"]
    "detail-type" = ["Step Functions Execution Status Change"]
    detail = {
      status          = ["FAILED", "TIMED_OUT", "ABORTED"]
      stateMachineArn = [aws_sfn_state_machine.this.arn]
    }
  })

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "run_ended" {
  rule = aws_cloudwatch_event_rule.run_ended.name
  arn  = aws_lambda_function.reaper.arn
}

resource "aws_lambda_permission" "run_ended" {
  statement_id  = "AllowRunEndedRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.reaper.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.run_ended.arn
}

resource "aws_scheduler_schedule" "reaper" {
  name                = local.reaper_name
  description         = "nat-on-demand ${var.name}: sweep for NAT Gateways and routes no run holds"
  kms_key_arn         = var.kms_key_arn
  schedule_expression = var.reaper_schedule_expression

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.reaper.arn
    role_arn = aws_iam_role.reaper_schedule.arn
    input    = jsonencode({ reason = "schedule" })

    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}

################################################################################
# Alarms: the failures no run reports by itself
################################################################################

locals {
  unheld_nat_gateway_alarm_seconds = coalesce(
    var.unheld_nat_gateway_alarm_seconds,
    var.idle_grace_seconds + 2 * local.reaper_interval_seconds + 300,
  )
}

# The reaper reports, each pass, how long the longest-unheld NAT Gateway of
# this instance has had no holder: past an idle grace, only a reaper that
# cannot delete it lets that grow. No data means the reaper stopped reporting.
resource "aws_cloudwatch_metric_alarm" "unheld_nat_gateway" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-unheld-nat-gateway"
  alarm_description   = "nat-on-demand ${var.name}: a NAT Gateway has had no run holding it for over ${local.unheld_nat_gateway_alarm_seconds} s (it is billed for nobody), or the reaper stopped reporting. See the reaper's log group."
  namespace           = var.metrics_namespace
  metric_name         = "UnheldNatGatewaySeconds"
  dimensions          = { service = var.name }
  statistic           = "Maximum"
  period              = local.reaper_interval_seconds
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = local.unheld_nat_gateway_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "runs_failed" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-runs-failed"
  alarm_description   = "nat-on-demand ${var.name}: a run failed or timed out. The execution's error and cause say why; the metric RunFailed counts runs by error."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions

  metric_query {
    id          = "ended_badly"
    expression  = "failed + timed_out"
    label       = "Runs failed or timed out"
    return_data = true
  }

  metric_query {
    id = "failed"

    metric {
      namespace   = "AWS/States"
      metric_name = "ExecutionsFailed"
      dimensions  = { StateMachineArn = aws_sfn_state_machine.this.arn }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "timed_out"

    metric {
      namespace   = "AWS/States"
      metric_name = "ExecutionsTimedOut"
      dimensions  = { StateMachineArn = aws_sfn_state_machine.this.arn }
      stat        = "Sum"
      period      = 300
    }
  }

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "reaper_cleanups" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-reaper-cleanups"
  alarm_description   = "nat-on-demand ${var.name}: the reaper cleaned up after a run (each clean-up means a run ended without its own: stopped, timed out, or its release failed). Its log group says what."
  namespace           = var.metrics_namespace
  metric_name         = "ReaperCleanups"
  dimensions          = { service = var.name }
  statistic           = "Sum"
  period              = local.reaper_interval_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "reaper_dead_letters" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-reaper-dead-letters"
  alarm_description   = "nat-on-demand ${var.name}: a reaper pass failed three times; its event waits in ${aws_sqs_queue.reaper_dead_letters.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.reaper_dead_letters.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions

  tags = local.tags
}

################################################################################
# Checks: settings that work but are likely not what was meant (warnings)
################################################################################

check "run_timeout_leaves_room_for_a_run" {
  assert {
    condition     = local.run_timeout_seconds > var.nat_ready_timeout_seconds + var.workload.timeout_seconds
    error_message = "run_timeout_seconds (${local.run_timeout_seconds}) is not more than nat_ready_timeout_seconds + workload.timeout_seconds (${var.nat_ready_timeout_seconds + var.workload.timeout_seconds}): a run that needs all of both ends TIMED_OUT, and the reaper cleans up after it."
  }
}

check "egress_probe_subnets_are_used" {
  assert {
    condition     = var.verify_egress || length(var.egress_probe_subnet_ids) == 0
    error_message = "egress_probe_subnet_ids is set but verify_egress is false: no egress probe is deployed."
  }
}
