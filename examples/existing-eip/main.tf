# A partner allowlists one address you already own: keep the Elastic IP out
# of this stack (it survives terraform destroy) and hand its allocation ID to
# the module. The job is an existing Step Functions workflow that calls the
# partner; its output becomes the run's output.

data "aws_eip" "allowlisted" {
  id = var.eip_allocation_id
}

module "nat_on_demand" {
  source = "../../"

  name                    = var.name
  public_subnet_id        = var.public_subnet_id
  private_route_table_ids = var.private_route_table_ids
  eip_allocation_id       = data.aws_eip.allowlisted.id
  poll_interval_seconds   = var.poll_interval_seconds

  # Only the partner's ranges go through the NAT Gateway; the rest of the
  # internet stays unreachable from the private subnets.
  destination_cidr_blocks = var.partner_cidr_blocks

  workload = {
    type              = "state_machine"
    state_machine_arn = var.workload_state_machine_arn
    timeout_seconds   = 1800
  }
}
