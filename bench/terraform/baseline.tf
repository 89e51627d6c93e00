################################################################################
# Baseline: the waiter-in-Lambda design (not part of the module)
################################################################################

locals {
  baseline_name = "${var.name}-waiter"

  baseline_functions = {
    create = "handler.create_nat_gateway_and_routes"
    check  = "handler.check_nat_gateway"
    delete = "handler.delete_routes_and_nat_gateway"
  }
}

resource "aws_eip" "baseline" {
  domain = "vpc"

  tags = { Name = local.baseline_name }
}

data "archive_file" "baseline" {
  type        = "zip"
  source_file = "${path.module}/../baseline/handler.py"
  output_path = "${path.root}/.terraform/bench/baseline.zip"
}

resource "aws_iam_role" "baseline" {
  name               = local.baseline_name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

# As broad as the simple designs make it: they are the baseline, not the module.
data "aws_iam_policy_document" "baseline" {
  statement {
    actions = [
      "ec2:CreateNatGateway",
      "ec2:DeleteNatGateway",
      "ec2:DescribeNatGateways",
      "ec2:DescribeRouteTables",
      "ec2:CreateRoute",
      "ec2:DeleteRoute",
      "ec2:CreateTags",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "baseline" {
  name   = "nat-gateway"
  role   = aws_iam_role.baseline.id
  policy = data.aws_iam_policy_document.baseline.json
}

resource "aws_lambda_function" "baseline" {
  for_each = local.baseline_functions

  function_name    = "${local.baseline_name}-${each.key}"
  role             = aws_iam_role.baseline.arn
  filename         = data.archive_file.baseline.output_path
  source_code_hash = data.archive_file.baseline.output_base64sha256
  handler          = each.value
  runtime          = "python3.12"
  memory_size      = var.baseline_memory_mb
  # The waiter may poll 40 times: the functions get Lambda's longest timeout.
  timeout = 900

  environment {
    variables = {
      BASELINE_NAME                 = local.baseline_name
      BASELINE_PUBLIC_SUBNET_ID     = aws_subnet.public.id
      BASELINE_ALLOCATION_ID        = aws_eip.baseline.allocation_id
      BASELINE_PRIVATE_SUBNET_IDS   = jsonencode(local.subnet_ids["baseline"])
      BASELINE_WAITER_DELAY_SECONDS = tostring(var.baseline_waiter_delay_seconds)
      BASELINE_WAITER_MAX_ATTEMPTS  = tostring(var.baseline_waiter_max_attempts)
    }
  }

  depends_on = [aws_iam_role_policy.baseline, aws_route_table_association.private]
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "baseline_state_machine" {
  name               = "${local.baseline_name}-state-machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

data "aws_iam_policy_document" "baseline_state_machine" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = concat([for fn in aws_lambda_function.baseline : fn.arn], [aws_lambda_function.workload.arn])
  }
}

resource "aws_iam_role_policy" "baseline_state_machine" {
  name   = "invoke"
  role   = aws_iam_role.baseline_state_machine.id
  policy = data.aws_iam_policy_document.baseline_state_machine.json
}

locals {
  # Every task ends in the cleanup on error, as in the module's workflow.
  baseline_catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "DeleteAfterError" }]
}

resource "aws_sfn_state_machine" "baseline" {
  name     = local.baseline_name
  role_arn = aws_iam_role.baseline_state_machine.arn
  type     = "STANDARD"

  definition = jsonencode({
    Comment = "make bench baseline: create and wait in a Lambda, fixed Wait, check, workload, delete and wait in a Lambda."
    StartAt = "CreateNatGatewayAndRoutes"
    States = {
      CreateNatGatewayAndRoutes = {
        Type           = "Task"
        Resource       = "arn:aws:states:::lambda:invoke"
        Parameters     = { FunctionName = aws_lambda_function.baseline["create"].arn, Payload = {} }
        ResultSelector = { "nat_gateway_id.$" = "$.Payload.nat_gateway_id" }
        ResultPath     = "$.nat"
        TimeoutSeconds = 900
        Catch          = local.baseline_catch
        Next           = "WaitFixed"
      }
      WaitFixed = {
        Type    = "Wait"
        Seconds = var.baseline_fixed_wait_seconds
        Next    = "CheckNatGateway"
      }
      CheckNatGateway = {
        Type     = "Task"
        Resource = "arn:aws:states:::lambda:invoke"
        Parameters = {
          FunctionName = aws_lambda_function.baseline["check"].arn
          Payload      = { "nat_gateway_id.$" = "$.nat.nat_gateway_id" }
        }
        ResultSelector = { "state.$" = "$.Payload.state" }
        ResultPath     = "$.check"
        TimeoutSeconds = 60
        Catch          = local.baseline_catch
        Next           = "IsNatGatewayAvailable"
      }
      IsNatGatewayAvailable = {
        Type    = "Choice"
        Choices = [{ Variable = "$.check.state", StringEquals = "available", Next = "RunWorkload" }]
        Default = "DeleteAfterError"
      }
      RunWorkload = {
        Type           = "Task"
        Resource       = "arn:aws:states:::lambda:invoke"
        Parameters     = { FunctionName = aws_lambda_function.workload.arn, "Payload.$" = "$.workload_input" }
        ResultSelector = { "output.$" = "$.Payload" }
        ResultPath     = "$.workload"
        TimeoutSeconds = 900
        Catch          = local.baseline_catch
        Next           = "DeleteRoutesAndNatGateway"
      }
      DeleteRoutesAndNatGateway = {
        Type           = "Task"
        Resource       = "arn:aws:states:::lambda:invoke"
        Parameters     = { FunctionName = aws_lambda_function.baseline["delete"].arn, "Payload.$" = "$" }
        ResultSelector = { "deleted.$" = "$.Payload.deleted" }
        ResultPath     = "$.release"
        TimeoutSeconds = 900
        Next           = "RunSucceeded"
      }
      RunSucceeded = { Type = "Succeed" }
      DeleteAfterError = {
        Type           = "Task"
        Resource       = "arn:aws:states:::lambda:invoke"
        Parameters     = { FunctionName = aws_lambda_function.baseline["delete"].arn, "Payload.$" = "$" }
        ResultPath     = "$.release"
        TimeoutSeconds = 900
        Next           = "RunFailed"
      }
      RunFailed = { Type = "Fail", Error = "BaselineRunFailed", Cause = "see the execution history" }
    }
  })

  depends_on = [aws_iam_role_policy.baseline_state_machine]
}
