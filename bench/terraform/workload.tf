################################################################################
# Workload: the same hold function for every design
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

data "archive_file" "workload" {
  type        = "zip"
  source_file = "${path.module}/../workload/handler.py"
  output_path = "${path.root}/.terraform/bench/workload.zip"
}

resource "aws_iam_role" "workload" {
  name               = "${var.name}-workload"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_lambda_function" "workload" {
  function_name    = "${var.name}-workload"
  role             = aws_iam_role.workload.arn
  filename         = data.archive_file.workload.output_path
  source_code_hash = data.archive_file.workload.output_base64sha256
  handler          = "handler.handler"
  runtime          = "python3.12"
  timeout          = 60
}
