# One VPC for both designs: a public subnet with an internet gateway where
# every NAT Gateway goes, and separate private subnets and route tables for
# each design, so that a run of one never meets the routes of another.

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  az = data.aws_availability_zones.available.names[0]

  # Each design gets route_tables_per_design private subnets with their own route tables.
  designs = ["on-demand", "on-demand-grace", "baseline"]
  private = {
    for pair in setproduct(range(length(local.designs)), range(var.route_tables_per_design)) :
    "${local.designs[pair[0]]}-${pair[1]}" => {
      design = local.designs[pair[0]]
      cidr   = cidrsubnet("10.30.0.0/16", 8, 10 + pair[0] * 50 + pair[1])
    }
  }
}

resource "aws_vpc" "this" {
  cidr_block = "10.30.0.0/16"

  tags = { Name = var.name }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.30.0.0/24"
  availability_zone = local.az

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
  for_each = local.private

  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value.cidr
  availability_zone = local.az

  tags = { Name = "${var.name}-${each.key}" }
}

resource "aws_route_table" "private" {
  for_each = local.private

  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-${each.key}" }
}

resource "aws_route_table_association" "private" {
  for_each = local.private

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

locals {
  route_table_ids = {
    for design in local.designs : design => [
      for key, table in aws_route_table.private : table.id if local.private[key].design == design
    ]
  }
  subnet_ids = {
    for design in local.designs : design => [
      for key, subnet in aws_subnet.private : subnet.id if local.private[key].design == design
    ]
  }
}
