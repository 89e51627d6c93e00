# The smallest call: an existing VPC's public subnet and the private subnets
# of a job (resolved to their route tables at plan time), and an existing
# Lambda function as the workload.

module "nat_on_demand" {
  source = "../../"

  name               = var.name
  public_subnet_id   = var.public_subnet_id
  private_subnet_ids = var.private_subnet_ids

  workload = {
    type                = "lambda"
    lambda_function_arn = var.workload_lambda_arn
  }
}
