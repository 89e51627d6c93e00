variable "region" {
  description = "AWS region of the existing VPC."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the nat-on-demand instance, the cluster and the task family."
  type        = string
  default     = "nat-on-demand-ecs"
}

variable "public_subnet_id" {
  description = "Existing public subnet (routed to an internet gateway) for the NAT Gateway."
  type        = string
}

variable "private_subnet_ids" {
  description = "Existing private subnets the task runs in; their route tables get the NAT Gateway during a run."
  type        = list(string)
}

variable "image" {
  description = "Container image of the job."
  type        = string
  default     = "public.ecr.aws/docker/library/busybox:stable"
}

variable "poll_interval_seconds" {
  description = "Seconds between checks of a pending NAT Gateway."
  type        = number
  default     = 10
}
