# The smallest call: an existing VPC's public subnet and private route tables,
# and an existing Lambda function as the workload.

module "nat_on_demand" {
  source = "../../"

  name                    = var.name
  public_subnet_id        = var.public_subnet_id
  private_route_table_ids = var.private_route_table_ids
  workload_lambda_arn     = var.workload_lambda_arn
}
