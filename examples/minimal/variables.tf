variable "region" {
  description = "AWS region of the existing VPC."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the nat-on-demand instance."
  type        = string
  default     = "nat-on-demand-minimal"
}

variable "public_subnet_id" {
  description = "Existing public subnet (routed to an internet gateway) for the NAT Gateway."
  type        = string
}

variable "private_subnet_ids" {
  description = "Existing private subnets whose traffic a run routes through the NAT Gateway."
  type        = list(string)
}

variable "workload_lambda_arn" {
  description = "Existing Lambda function that a run invokes."
  type        = string
}
