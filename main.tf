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
  # The state machine's task timeout (75 s) is longer, so a slow step ends as
  # Sandbox.Timedout from Lambda, which the state machine retries.
  timeout = 60
  layers  = [local.powertools_layer_arn]

  environment {
    variables = {
      NAT_ON_DEMAND_NAME                      = var.name
      NAT_ON_DEMAND_PUBLIC_SUBNET_ID          = var.public_subnet_id
      NAT_ON_DEMAND_EIP_ALLOCATION_ID         = local.eip_allocation_id
      NAT_ON_DEMAND_ROUTE_TABLE_IDS           = jsonencode(var.private_route_table_ids)
      NAT_ON_DEMAND_DESTINATION_CIDR_BLOCKS   = jsonencode(var.destination_cidr_blocks)
      NAT_ON_DEMAND_LEASE_TABLE               = aws_dynamodb_table.lease.name
      NAT_ON_DEMAND_NAT_READY_TIMEOUT_SECONDS = tostring(var.nat_ready_timeout_seconds)
      NAT_ON_DEMAND_POLL_INTERVAL_SECONDS     = tostring(var.poll_interval_seconds)
      NAT_ON_DEMAND_WORKLOAD_TIMEOUT_SECONDS  = tostring(var.workload_timeout_seconds)
      NAT_ON_DEMAND_NAT_TAGS                  = jsonencode(var.tags)
      POWERTOOLS_SERVICE_NAME                 = var.name
      POWERTOOLS_TRACE_DISABLED               = "true"
    }
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

  definition = templatefile("${path.module}/stepfunctions/workflow.asl.json.tftpl", {
    controller_function_arn = aws_lambda_function.controller.arn
    workload_function_arn   = var.workload_lambda_arn
  })

  tags = local.tags

  depends_on = [aws_iam_role_policy.state_machine]
}
