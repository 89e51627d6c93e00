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
    for id in var.private_route_table_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:route-table/${id}"
  ]

  # Public layer published by the Powertools team (account 017000801446).
  powertools_layer_arn = coalesce(
    var.powertools_layer_arn,
    "arn:${local.partition}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:27",
  )

  controller_name = "${var.name}-controller"
  reaper_name     = "${var.name}-reaper"

  # The controller's Lambda timeout; the state machine's task timeout is
  # longer, so a slow step ends as Sandbox.Timedout, which it retries.
  controller_timeout_seconds = 60

  run_timeout_seconds = coalesce(
    var.run_timeout_seconds,
    var.nat_ready_timeout_seconds + var.workload_timeout_seconds + 600,
  )

  # rate(N minutes) / rate(1 hour) in seconds: how late the reaper may act.
  reaper_rate             = regex("^rate\\((\\d+) (minute|minutes|hour)\\)$", var.reaper_schedule_expression)
  reaper_interval_seconds = tonumber(local.reaper_rate[0]) * (local.reaper_rate[1] == "hour" ? 3600 : 60)

  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name}"
  execution_arns    = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${var.name}:*"

  # What every function of this instance needs to know about it.
  function_environment = {
    NAT_ON_DEMAND_NAME                       = var.name
    NAT_ON_DEMAND_PUBLIC_SUBNET_ID           = var.public_subnet_id
    NAT_ON_DEMAND_EIP_ALLOCATION_ID          = local.eip_allocation_id
    NAT_ON_DEMAND_ROUTE_TABLE_IDS            = jsonencode(var.private_route_table_ids)
    NAT_ON_DEMAND_DESTINATION_CIDR_BLOCKS    = jsonencode(var.destination_cidr_blocks)
    NAT_ON_DEMAND_LEASE_TABLE                = aws_dynamodb_table.lease.name
    NAT_ON_DEMAND_NAT_READY_TIMEOUT_SECONDS  = tostring(var.nat_ready_timeout_seconds)
    NAT_ON_DEMAND_POLL_INTERVAL_SECONDS      = tostring(var.poll_interval_seconds)
    NAT_ON_DEMAND_WORKLOAD_TIMEOUT_SECONDS   = tostring(var.workload_timeout_seconds)
    NAT_ON_DEMAND_NAT_TAGS                   = jsonencode(var.tags)
    NAT_ON_DEMAND_IDLE_GRACE_SECONDS         = tostring(var.idle_grace_seconds)
    NAT_ON_DEMAND_IDLE_WITHIN_BILLED_HOUR    = tostring(var.idle_grace_within_billed_hour)
    NAT_ON_DEMAND_REAPER_INTERVAL_SECONDS    = tostring(local.reaper_interval_seconds)
    NAT_ON_DEMAND_CONTROLLER_TIMEOUT_SECONDS = tostring(local.controller_timeout_seconds)
    NAT_ON_DEMAND_STATE_MACHINE_ARN          = local.state_machine_arn
    POWERTOOLS_SERVICE_NAME                  = var.name
    POWERTOOLS_TRACE_DISABLED                = "true"
  }
}

################################################################################
# Elastic IP: the stable egress address, kept between runs
################################################################################

resource "aws_eip" "this" {
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
    enabled = true
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

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "controller" {
  name               = local.controller_name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "controller" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.controller.arn}:*"]
  }

  statement {
    sid       = "DescribeNetwork"
    actions   = ["ec2:DescribeNatGateways", "ec2:DescribeRouteTables"]
    resources = ["*"]
  }

  statement {
    sid     = "CreateTaggedNatGateway"
    actions = ["ec2:CreateNatGateway"]
    resources = [
      "arn:${local.partition}:ec2:${local.region}:${local.account_id}:natgateway/*",
    ]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.instance_tag_key}"
      values   = [var.name]
    }
  }

  statement {
    sid     = "CreateNatGatewayInPublicSubnetWithEip"
    actions = ["ec2:CreateNatGateway"]
    resources = [
      "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${var.public_subnet_id}",
      "arn:${local.partition}:ec2:${local.region}:${local.account_id}:elastic-ip/${local.eip_allocation_id}",
    ]
  }

  statement {
    sid       = "TagNatGatewayOnCreate"
    actions   = ["ec2:CreateTags"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:natgateway/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateNatGateway"]
    }
  }

  statement {
    sid       = "DeleteOwnNatGateway"
    actions   = ["ec2:DeleteNatGateway"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:natgateway/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/${local.instance_tag_key}"
      values   = [var.name]
    }
  }

  statement {
    sid       = "ChangeManagedRoutes"
    actions   = ["ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"]
    resources = local.route_table_arns
  }

  statement {
    sid       = "UseLease"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.lease.arn]
  }
}

resource "aws_iam_role_policy" "controller" {
  name   = "controller"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.controller.json
}

resource "aws_cloudwatch_log_group" "controller" {
  name              = "/aws/lambda/${local.controller_name}"
  retention_in_days = var.log_retention_days

  tags = local.tags
}

resource "aws_lambda_function" "controller" {
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

  environment {
    variables = local.function_environment
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.controller, aws_cloudwatch_log_group.controller]
}

################################################################################
# State machine: the run
################################################################################

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${var.name}-state-machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid     = "InvokeControllerAndWorkload"
    actions = ["lambda:InvokeFunction"]
    resources = [
      aws_lambda_function.controller.arn,
      "${aws_lambda_function.controller.arn}:*",
      var.workload_lambda_arn,
      "${var.workload_lambda_arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "state-machine"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

resource "aws_sfn_state_machine" "this" {
  name     = var.name
  role_arn = aws_iam_role.state_machine.arn
  type     = "STANDARD"

  # The template keeps placeholders inside strings (valid JSON); numbers such
  # as the run's timeout are merged in after decoding.
  definition = jsonencode(merge(
    jsondecode(templatefile("${path.module}/stepfunctions/workflow.asl.json.tftpl", {
      controller_function_arn = aws_lambda_function.controller.arn
      workload_function_arn   = var.workload_lambda_arn
    })),
    { TimeoutSeconds = local.run_timeout_seconds },
  ))

  tags = local.tags

  depends_on = [aws_iam_role_policy.state_machine]
}

################################################################################
# Reaper: cleans up after runs that ended without their own cleanup
################################################################################

resource "aws_iam_role" "reaper" {
  name               = local.reaper_name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "reaper" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.reaper.arn}:*"]
  }

  statement {
    sid       = "DescribeNetwork"
    actions   = ["ec2:DescribeNatGateways", "ec2:DescribeRouteTables"]
    resources = ["*"]
  }

  statement {
    sid       = "DeleteOwnNatGateway"
    actions   = ["ec2:DeleteNatGateway"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:natgateway/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/${local.instance_tag_key}"
      values   = [var.name]
    }
  }

  statement {
    sid       = "DeleteManagedRoutes"
    actions   = ["ec2:DeleteRoute"]
    resources = local.route_table_arns
  }

  statement {
    sid       = "UseLease"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.lease.arn]
  }

  statement {
    sid       = "AskWhetherRunsEnded"
    actions   = ["states:DescribeExecution"]
    resources = [local.execution_arns]
  }
}

resource "aws_iam_role_policy" "reaper" {
  name   = "reaper"
  role   = aws_iam_role.reaper.id
  policy = data.aws_iam_policy_document.reaper.json
}

resource "aws_cloudwatch_log_group" "reaper" {
  name              = "/aws/lambda/${local.reaper_name}"
  retention_in_days = var.log_retention_days

  tags = local.tags
}

resource "aws_lambda_function" "reaper" {
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

  environment {
    variables = local.function_environment
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.reaper, aws_cloudwatch_log_group.reaper]
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

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "reaper_schedule" {
  name               = "${local.reaper_name}-schedule"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "reaper_schedule" {
  statement {
    sid       = "InvokeReaper"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.reaper.arn]
  }
}

resource "aws_iam_role_policy" "reaper_schedule" {
  name   = "invoke-reaper"
  role   = aws_iam_role.reaper_schedule.id
  policy = data.aws_iam_policy_document.reaper_schedule.json
}

resource "aws_scheduler_schedule" "reaper" {
  name                = local.reaper_name
  description         = "nat-on-demand ${var.name}: sweep for NAT Gateways and routes no run holds"
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
