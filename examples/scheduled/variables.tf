variable "region" {
  description = "AWS region of the existing VPC."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the nat-on-demand instance."
  type        = string
  default     = "nat-on-demand-nightly"
}

variable "public_subnet_id" {
  description = "Existing public subnet (routed to an internet gateway) for the NAT Gateway."
  type        = string
}

variable "private_route_table_ids" {
  description = "Existing route tables of the subnets being patched."
  type        = list(string)
}

variable "time_zone" {
  description = "Time zone of the schedules (IANA name)."
  type        = string
  default     = "Europe/Berlin"
}

variable "window_seconds" {
  description = "Length of the nightly window."
  type        = number
  default     = 1800
}

variable "weekend_window_seconds" {
  description = "Length of the weekend window (also the longest window a run may ask for)."
  type        = number
  default     = 7200
}

variable "weekend_window_enabled" {
  description = "Whether the weekend window runs."
  type        = bool
  default     = false
}

variable "poll_interval_seconds" {
  description = "Seconds between checks of a pending NAT Gateway."
  type        = number
  default     = 10
}
