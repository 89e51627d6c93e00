# A nightly patching window: every night at 02:00 Berlin time (give or take
# 15 minutes) the private subnets get the internet for window_seconds, while
# SSM or the instances' own agents fetch their updates. A longer weekend
# window is declared but paused; enable it when needed.

module "nat_on_demand" {
  source = "../../"

  name                    = var.name
  public_subnet_id        = var.public_subnet_id
  private_route_table_ids = var.private_route_table_ids
  poll_interval_seconds   = var.poll_interval_seconds

  workload = {
    type            = "hold"
    hold_seconds    = var.window_seconds
    timeout_seconds = var.weekend_window_seconds
  }

  schedules = {
    nightly = {
      description                  = "Nightly patching window"
      schedule_expression          = "cron(0 2 * * ? *)"
      schedule_expression_timezone = var.time_zone
      flexible_time_window_minutes = 15
    }
    weekend = {
      description                  = "Saturday morning: a longer window for major upgrades"
      schedule_expression          = "cron(0 6 ? * SAT *)"
      schedule_expression_timezone = var.time_zone
      input                        = jsonencode({ run_label = "weekend", hold_seconds = var.weekend_window_seconds })
      enabled                      = var.weekend_window_enabled
    }
  }
}
