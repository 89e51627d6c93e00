################################################################################
# nat-on-demand, as a user calls it (no idle grace)
################################################################################

module "on_demand" {
  source = "../.."

  name                    = "${var.name}-on-demand"
  public_subnet_id        = aws_subnet.public.id
  private_route_table_ids = local.route_table_ids["on-demand"]
  poll_interval_seconds   = var.poll_interval_seconds

  workload = {
    type                = "lambda"
    lambda_function_arn = aws_lambda_function.workload.arn
  }

  depends_on = [aws_route_table_association.public]
}
