# A whole VPC with nat-on-demand: one public subnet with an internet gateway
# (where the NAT Gateway goes), two private subnets with their own route
# tables, and a workload Lambda in the private subnets that reports what it
# sees while the run holds the NAT Gateway. Before the workload, a probe in
# the private subnets checks that the internet sees the Elastic IP; a run
# also starts whenever an object lands in the inbox bucket.

data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394: The example takes the first two zones of whatever region it is applied in.
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, 2)
}

################################################################################
# Network
################################################################################

resource "aws_vpc" "this" {
  # checkov:skip=CKV2_AWS_11: A demonstration VPC; flow logs would be the user's choice (and cost) in a real one.
  cidr_block           = "10.20.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

# Nothing may use the VPC's default security group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.20.0.0/24"
  availability_zone = local.azs[0]

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.20.${count.index + 1}.0/24"
  availability_zone = local.azs[count.index]

  tags = { Name = "${var.name}-private-${count.index}" }
}

# No inline routes: the module adds and removes 0.0.0.0/0 during a run, and an
# inline route block would make Terraform fight it.
resource "aws_route_table" "private" {
  count = 2

  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-private-${count.index}" }
}

resource "aws_route_table_association" "private" {
  count = 2

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

################################################################################
# Workload: a Lambda function in the private subnets
################################################################################

data "archive_file" "workload" {
  type        = "zip"
  source_file = "${path.module}/workload/handler.py"
  output_path = "${path.root}/.terraform/${var.name}-workload.zip"
}

data "aws_iam_policy_document" "workload_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workload" {
  name               = "${var.name}-workload"
  assume_role_policy = data.aws_iam_policy_document.workload_assume.json
}

resource "aws_iam_role_policy_attachment" "workload_vpc" {
  role       = aws_iam_role.workload.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

data "aws_iam_policy_document" "workload" {
  statement {
    actions   = ["ec2:DescribeRouteTables", "ec2:DescribeNatGateways"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "workload" {
  name   = "describe-network"
  role   = aws_iam_role.workload.id
  policy = data.aws_iam_policy_document.workload.json
}

resource "aws_security_group" "workload" {
  name        = "${var.name}-workload"
  description = "Workload: egress only"
  vpc_id      = aws_vpc.this.id

  egress {
    description = "HTTPS to the internet, through the NAT Gateway during a run"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_cloudwatch_log_group" "workload" {
  # checkov:skip=CKV_AWS_158: The example's own logs; encrypted at rest by CloudWatch Logs with an AWS key.
  # checkov:skip=CKV_AWS_338: The example keeps a week of logs.
  name              = "/aws/lambda/${var.name}-workload"
  retention_in_days = 7
}

resource "aws_lambda_function" "workload" {
  # checkov:skip=CKV_AWS_50: The example workload is not traced.
  # checkov:skip=CKV_AWS_115: One invocation per run; no limit needed.
  # checkov:skip=CKV_AWS_116: Step Functions invokes it synchronously and handles its errors.
  # checkov:skip=CKV_AWS_173: Its environment holds route table IDs only.
  # checkov:skip=CKV_AWS_272: The example zips its source at apply; there is no signing profile.
  function_name    = "${var.name}-workload"
  role             = aws_iam_role.workload.arn
  filename         = data.archive_file.workload.output_path
  source_code_hash = data.archive_file.workload.output_base64sha256
  handler          = "handler.handler"
  runtime          = "python3.12"
  timeout          = 60

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.workload.id]
  }

  environment {
    variables = {
      ROUTE_TABLE_IDS = join(",", aws_route_table.private[*].id)
    }
  }

  depends_on = [
    aws_iam_role_policy_attachment.workload_vpc,
    aws_iam_role_policy.workload,
    aws_cloudwatch_log_group.workload,
  ]
}

################################################################################
# nat-on-demand
################################################################################

################################################################################
# Trigger: objects landing in a bucket
################################################################################

resource "aws_s3_bucket" "inbox" {
  # checkov:skip=CKV_AWS_18: A drop box for the event-rule demonstration; access logs would need a second bucket.
  # checkov:skip=CKV_AWS_21: Objects only start runs; nothing needs their versions.
  # checkov:skip=CKV_AWS_144: A demonstration bucket; replication is the user's choice.
  # checkov:skip=CKV_AWS_145: Encrypted at rest with S3's own keys (SSE-S3, the default).
  # checkov:skip=CKV2_AWS_61: force_destroy empties it on destroy; no lifecycle rules needed.
  bucket_prefix = "${var.name}-inbox-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "inbox" {
  bucket = aws_s3_bucket.inbox.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_notification" "inbox" {
  bucket      = aws_s3_bucket.inbox.id
  eventbridge = true
}

################################################################################
# nat-on-demand
################################################################################

module "nat_on_demand" {
  source = "../../"

  name             = var.name
  public_subnet_id = aws_subnet.public.id
  # Resolved to their route tables (here one each) at plan time.
  private_subnet_ids    = aws_subnet.private[*].id
  poll_interval_seconds = var.poll_interval_seconds

  workload = {
    type                = "lambda"
    lambda_function_arn = aws_lambda_function.workload.arn
    timeout_seconds     = var.workload_timeout_seconds
  }

  nat_ready_timeout_seconds = var.nat_ready_timeout_seconds
  run_timeout_seconds       = var.run_timeout_seconds
  idle_grace_seconds        = var.idle_grace_seconds

  verify_egress   = true
  egress_echo_url = var.egress_echo_url

  event_patterns = {
    inbox = {
      description = "An object landed in the inbox bucket: fetch what it points at"
      event_pattern = jsonencode({
        source        = ["aws.s3"]
        "detail-type" = ["Object Created"]
        detail        = { bucket = { name = [aws_s3_bucket.inbox.id] } }
      })
    }
  }

  # The public route table must route to the internet gateway, and the
  # private subnets use their own tables, before the module reads them.
  depends_on = [aws_route_table_association.public, aws_route_table_association.private]

  tags = { Example = "complete" }
}
