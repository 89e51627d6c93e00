# IAM for every principal of the module, least privilege: each mutating action is
# scoped to this instance's resources (by ARN or by its instance tag).

################################################################################
# Who may assume the roles
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

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

################################################################################
# Controller: the run's steps
################################################################################

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

  # X-Ray takes trace data for "*" only: it has no resource-level permissions.
  dynamic "statement" {
    for_each = var.tracing_enabled ? ["xray"] : []

    content {
      sid       = "SendTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "controller" {
  name   = "controller"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.controller.json
}

################################################################################
# Egress probe
################################################################################

resource "aws_iam_role" "probe" {
  count = var.verify_egress ? 1 : 0

  name               = local.probe_name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = local.tags
}

# Lambda creates and deletes the function's network interfaces in the private
# subnets with the function's own role: AWS's managed policy for exactly that.
resource "aws_iam_role_policy_attachment" "probe_vpc_access" {
  count = var.verify_egress ? 1 : 0

  role       = aws_iam_role.probe[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

data "aws_iam_policy_document" "probe_tracing" {
  statement {
    sid       = "SendTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "probe_tracing" {
  count = var.verify_egress && var.tracing_enabled ? 1 : 0

  name   = "send-traces"
  role   = aws_iam_role.probe[0].id
  policy = data.aws_iam_policy_document.probe_tracing.json
}

################################################################################
# State machine: invokes the steps and runs the workload
################################################################################

resource "aws_iam_role" "state_machine" {
  name               = "${var.name}-state-machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json

  tags = local.tags
}

locals {
  lambda_workload_arn = var.workload.type == "lambda" ? var.workload.lambda_function_arn : null
  # Task ARNs name the cluster: arn:...:task/<cluster-name>/<task-id>.
  ecs_cluster_name       = try(element(split("/", local.workload_ecs.cluster_arn), 1), null)
  child_state_machine    = var.workload.type == "state_machine" ? var.workload.state_machine_arn : null
  child_executions       = try("${replace(local.child_state_machine, ":stateMachine:", ":execution:")}:*", null)
  managed_rule_arn_start = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule"
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid     = "InvokeController"
    actions = ["lambda:InvokeFunction"]
    resources = concat(
      [aws_lambda_function.controller.arn, "${aws_lambda_function.controller.arn}:*"],
      var.verify_egress ? [aws_lambda_function.probe[0].arn, "${aws_lambda_function.probe[0].arn}:*"] : [],
    )
  }

  # --- lambda workload

  dynamic "statement" {
    for_each = local.lambda_workload_arn != null ? [local.lambda_workload_arn] : []

    content {
      sid       = "InvokeWorkload"
      actions   = ["lambda:InvokeFunction"]
      resources = [statement.value, "${statement.value}:*"]
    }
  }

  # --- ecs_task workload (runTask.sync: run, watch, stop on timeout; the
  # managed rule through which Step Functions learns the task stopped)

  dynamic "statement" {
    for_each = local.workload_ecs != null ? [local.workload_ecs] : []

    content {
      sid       = "RunWorkloadTask"
      actions   = ["ecs:RunTask"]
      resources = [statement.value.task_definition_arn]

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [statement.value.cluster_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = local.workload_ecs != null ? [local.workload_ecs] : []

    content {
      sid       = "WatchWorkloadTask"
      actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
      resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.ecs_cluster_name}/*"]

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [statement.value.cluster_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = length(try(local.workload_ecs.pass_role_arns, [])) > 0 ? [local.workload_ecs] : []

    content {
      sid       = "PassWorkloadTaskRoles"
      actions   = ["iam:PassRole"]
      resources = statement.value.pass_role_arns

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["ecs-tasks.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.workload_ecs != null ? ["StepFunctionsGetEventsForECSTaskRule"] : []

    content {
      sid       = "SyncWithWorkloadTask"
      actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
      resources = ["${local.managed_rule_arn_start}/${statement.value}"]
    }
  }

  # --- state_machine workload (startExecution.sync:2)

  dynamic "statement" {
    for_each = local.child_state_machine != null ? [local.child_state_machine] : []

    content {
      sid       = "StartWorkloadExecution"
      actions   = ["states:StartExecution"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.child_executions != null ? [local.child_executions] : []

    content {
      sid       = "WatchWorkloadExecution"
      actions   = ["states:DescribeExecution", "states:StopExecution"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.child_state_machine != null ? ["StepFunctionsGetEventsForStepFunctionsExecutionRule"] : []

    content {
      sid       = "SyncWithWorkloadExecution"
      actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
      resources = ["${local.managed_rule_arn_start}/${statement.value}"]
    }
  }

  # --- logging and tracing. The log delivery actions and X-Ray take "*" only
  # (no resource-level permissions); Step Functions uses them to deliver the
  # execution history to the vended log group and traces to X-Ray.

  dynamic "statement" {
    for_each = var.state_machine_log_level != "OFF" ? ["logs"] : []

    content {
      sid = "DeliverLogs"
      actions = [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.tracing_enabled ? ["xray"] : []

    content {
      sid       = "SendTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "state-machine"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

################################################################################
# Triggers: schedules and event rules may only start a run
################################################################################

data "aws_iam_policy_document" "start_run" {
  statement {
    sid       = "StartRun"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  count = length(var.schedules) > 0 ? 1 : 0

  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json

  tags = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = length(var.schedules) > 0 ? 1 : 0

  name   = "start-run"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.start_run.json
}

resource "aws_iam_role" "events" {
  count = length(var.event_patterns) > 0 ? 1 : 0

  name               = "${var.name}-events"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json

  tags = local.tags
}

resource "aws_iam_role_policy" "events" {
  count = length(var.event_patterns) > 0 ? 1 : 0

  name   = "start-run"
  role   = aws_iam_role.events[0].id
  policy = data.aws_iam_policy_document.start_run.json
}

################################################################################
# Reaper
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

  # Lambda sends a pass that failed for good to the dead-letter queue with the
  # function's own role.
  statement {
    sid       = "SendDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.reaper_dead_letters.arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn != null ? [var.kms_key_arn] : []

    content {
      sid       = "EncryptDeadLetters"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }

  # X-Ray takes trace data for "*" only: it has no resource-level permissions.
  dynamic "statement" {
    for_each = var.tracing_enabled ? ["xray"] : []

    content {
      sid       = "SendTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "reaper" {
  name   = "reaper"
  role   = aws_iam_role.reaper.id
  policy = data.aws_iam_policy_document.reaper.json
}

# Trusts scheduler.amazonaws.com of this account, as the triggers' role does.
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
