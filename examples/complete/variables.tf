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
