variable "region" {
  description = "AWS region of the existing VPC and Elastic IP."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the nat-on-demand instance."
  type        = string
  default     = "nat-on-demand-partner"
}

variable "public_subnet_id" {
  description = "Existing public subnet (routed to an internet gateway) for the NAT Gateway."
  type        = string
}

variable "private_route_table_ids" {
  description = "Existing route tables of the subnets that call the partner."
  type        = list(string)
}

variable "eip_allocation_id" {
  description = "Allocation ID of the Elastic IP on the partner's allowlist."
  type        = string
}

variable "partner_cidr_blocks" {
  description = "The partner's address ranges, routed through the NAT Gateway during a run."
  type        = list(string)
  default     = ["203.0.113.0/24"]
}

variable "workload_state_machine_arn" {
  description = "Existing state machine that talks to the partner; a run starts it and waits for it."
  type        = string
}

variable "poll_interval_seconds" {
  description = "Seconds between checks of a pending NAT Gateway."
  type        = number
  default     = 10
}
