# A containerised job on Fargate in an existing VPC's private subnets: the
# run creates the NAT Gateway, runs the task, waits until it stops, and fails
# (after teardown) if the container exits non-zero. A run may override the
# container's command and environment (see the README's execution input).

data "aws_region" "current" {}

data "aws_subnet" "private" {
  id = var.private_subnet_ids[0]
}

################################################################################
# The job: cluster, task definition, roles, logs, security group
################################################################################

resource "aws_ecs_cluster" "this" {
  # checkov:skip=CKV_AWS_65: Container Insights is billed per task; the example runs one short job.
  name = var.name
}

resource "aws_cloudwatch_log_group" "job" {
  # checkov:skip=CKV_AWS_158: The job's own logs; encrypted at rest by CloudWatch Logs with an AWS key.
  # checkov:skip=CKV_AWS_338: The example keeps a week of logs.
  name              = "/ecs/${var.name}"
  retention_in_days = 7
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# ECS pulls the image and writes the logs with this role.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# The job's own AWS calls use this role (it needs none here).
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_ecs_task_definition" "job" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([
    {
      name      = "job"
      image     = var.image
      essential = true
      # The job writes nothing but its output.
      readonlyRootFilesystem = true
      # Prints the address the internet sees: the module's Elastic IP.
      command = ["sh", "-c", "wget -qO- https://checkip.amazonaws.com"]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.job.name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = "job"
        }
      }
    }
  ])
}

resource "aws_security_group" "job" {
  # checkov:skip=CKV2_AWS_5: The module's runs attach it to the job's tasks (workload.ecs.security_group_ids); checkov cannot see that.
  name        = "${var.name}-job"
  description = "The job: HTTPS out, nothing in"
  vpc_id      = data.aws_subnet.private.vpc_id

  egress {
    description = "HTTPS to the internet, through the NAT Gateway during a run"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

################################################################################
# nat-on-demand
################################################################################

module "nat_on_demand" {
  source = "../../"

  name                  = var.name
  public_subnet_id      = var.public_subnet_id
  private_subnet_ids    = var.private_subnet_ids
  poll_interval_seconds = var.poll_interval_seconds

  workload = {
    type            = "ecs_task"
    timeout_seconds = 3600
    ecs = {
      cluster_arn         = aws_ecs_cluster.this.arn
      task_definition_arn = aws_ecs_task_definition.job.arn
      # subnet_ids default to private_subnet_ids
      security_group_ids = [aws_security_group.job.id]
      container_name     = "job"
      pass_role_arns     = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
    }
  }
}
