variable "region" {
  description = "AWS region to create the example in."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the nat-on-demand instance (prefixes everything the example creates)."
  type        = string
  default     = "nat-on-demand-complete"
}

variable "poll_interval_seconds" {
  description = "Seconds between checks of a pending NAT Gateway (AWS takes 1.5-2 minutes to make one available)."
  type        = number
  default     = 10
}

variable "egress_echo_url" {
  description = "IP-echo service the egress probe asks which address it sees (must answer with the caller's IP)."
  type        = string
  default     = "https://checkip.amazonaws.com"
}

variable "workload_timeout_seconds" {
  description = "Seconds a run waits for the workload before failing it."
  type        = number
  default     = 900
}

variable "nat_ready_timeout_seconds" {
  description = "Seconds a run waits for its NAT Gateway to become available."
  type        = number
  default     = 600
}

variable "run_timeout_seconds" {
  description = "Seconds after which a run is ended as TIMED_OUT (null: derived from the other timeouts)."
  type        = number
  default     = null
}

variable "idle_grace_seconds" {
  description = "Seconds the NAT Gateway stays, without routes, after the last run, for a back-to-back run to reuse."
  type        = number
  default     = 0
}
