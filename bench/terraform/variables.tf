variable "region" {
  description = "Region of the local AWS the bench applies to."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of everything the bench creates."
  type        = string
  default     = "bench"
}

variable "route_tables_per_design" {
  description = "Private subnets, each with its own route table, given to each design."
  type        = number
  default     = 2
}

variable "poll_interval_seconds" {
  description = "nat-on-demand's poll_interval_seconds (the module's default 10 s, scaled; at least 1)."
  type        = number
  default     = 10
}

variable "baseline_waiter_delay_seconds" {
  description = "Delay of the baseline's botocore waiters (botocore's model: 15 s, scaled)."
  type        = number
  default     = 15
}

variable "baseline_waiter_max_attempts" {
  description = "MaxAttempts of the baseline's botocore waiters (botocore's model: 40)."
  type        = number
  default     = 40
}

variable "baseline_fixed_wait_seconds" {
  description = "The baseline state machine's fixed Wait after creating (30 s, scaled; a whole number)."
  type        = number
  default     = 30
}

variable "baseline_memory_mb" {
  description = "Memory of the baseline's functions (Lambda's default, which the simple designs keep)."
  type        = number
  default     = 128
}
