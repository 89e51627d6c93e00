"""Monthly cost of nat-on-demand against always-on NAT Gateways.

The month is simulated run by run: which runs create a NAT Gateway and which
share one, how long each NAT Gateway lives, how many polls each run makes.
Simplifications are listed in ASSUMPTIONS, which the CLI prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from natcost.prices import RegionPrices
from natcost.schedule import SECONDS_PER_DAY

HOUR = 3_600

# States a run enters on the way to RunSucceeded, and in each round of waiting
# for a pending NAT Gateway (stepfunctions/workflow.asl.json.tftpl). Step
# Functions bills one transition per state entered.
RUN_STATES = (
    "StartRun",
    "Acquire",
    "IsNatGatewayReady",
    "AttachRoutes",
    "RunWorkload",
    "Release",
    "RunSucceeded",
)
POLL_STATES = ("WaitForNatGateway", "PollNatGateway", "IsNatGatewayReady")
# Of those, the states that invoke the controller Lambda (RunWorkload invokes
# the user's own function, whose cost is the workload's, not the module's).
RUN_CONTROLLER_STATES = ("Acquire", "AttachRoutes", "Release")
POLL_CONTROLLER_STATES = ("PollNatGateway",)
CONTROLLER_MEMORY_MB = 256  # main.tf, aws_lambda_function.controller
REAPER_MEMORY_MB = 256  # main.tf, aws_lambda_function.reaper
# steps.idle_deadline ends a grace held within the billed hour this long
# before the hour ends, besides one reaper interval.
_IDLE_DEADLINE_MARGIN = 60

ASSUMPTIONS = (
    "A run that starts while a NAT Gateway is up (held by a run, or idle after the last "
    "one until the reaper deletes it) shares it; a later run creates a new one.",
    "With an idle grace, the reaper deletes the NAT Gateway at its first pass after the "
    "grace; the reaper's schedule starts with the month. Without one, the last release "
    "deletes it.",
    "A NAT Gateway is billed from its creation until its deletion starts; each started hour "
    "of that span, counted from creation, is billed in full; the minute AWS takes to delete "
    "it is not counted, nor its time past the month's end.",
    "The module's Elastic IP exists all month, so both setups pay for it; always-on pays "
    "one NAT Gateway and one public IPv4 address per AZ.",
    "Data processed is the same in both setups. Internet data transfer out (also the same), "
    "inter-AZ transfer to a single NAT Gateway, DynamoDB, CloudWatch Logs, EventBridge "
    "Scheduler, the workload itself, runs that fail and free tiers are not counted.",
)


class UsageError(ValueError):
    """A usage figure out of range."""


@dataclass(frozen=True)
class Usage:
    """A month of runs, and the module settings and AWS timings that shape their cost."""

    starts: tuple[float, ...]  # run start times, seconds from the start of the month
    run_seconds: float  # the workload's time, once the routes are in place
    gb_per_run: float = 0.0
    idle_grace_seconds: float = 0.0
    nat_create_seconds: float = 100.0  # AWS: typically 85-125 s
    poll_interval_seconds: float = 10.0  # the module's default
    idle_grace_within_billed_hour: bool = False
    reaper_interval_seconds: float = 300.0  # the module's default, rate(5 minutes)
    days: float = 30.0
    always_on_azs: int = 1
    lambda_ms: float = 1_000.0  # per controller call or reaper pass; cold starts included
    controller_memory_mb: int = CONTROLLER_MEMORY_MB
    reaper_memory_mb: int = REAPER_MEMORY_MB

    def check(self) -> None:
        positive = {
            "run seconds": self.run_seconds,
            "poll interval": self.poll_interval_seconds,
            "reaper interval": self.reaper_interval_seconds,
            "days": self.days,
            "always-on AZs": self.always_on_azs,
            "controller memory": self.controller_memory_mb,
        }
        not_negative = {
            "GB per run": self.gb_per_run,
            "idle grace": self.idle_grace_seconds,
            "NAT Gateway creation time": self.nat_create_seconds,
            "Lambda time": self.lambda_ms,
        }
        problems = [f"{name} must be more than 0" for name, v in positive.items() if v <= 0]
        problems += [f"{name} must not be negative" for name, v in not_negative.items() if v < 0]
        if not self.starts:
            problems.append("the schedule starts no run in the month")
        if problems:
            raise UsageError("; ".join(problems))


@dataclass(frozen=True)
class NatGatewayLife:
    created: float
    deleted: float

    @property
    def billed_hours(self) -> int:
        return math.ceil((self.deleted - self.created) / HOUR)


@dataclass(frozen=True)
class Month:
    """What the runs of a month do: NAT Gateways created and polls made."""

    runs: int
    nat_gateways: tuple[NatGatewayLife, ...]
    polls: int

    @property
    def billed_nat_hours(self) -> int:
        return sum(life.billed_hours for life in self.nat_gateways)


def simulate(usage: Usage) -> Month:
    """Replay the month's runs against one shared NAT Gateway at a time."""
    month_end = usage.days * SECONDS_PER_DAY
    lives: list[NatGatewayLife] = []
    polls = 0
    created = ready = released = deleted = -math.inf
    for start in sorted(usage.starts):
        if start >= deleted:  # nothing up: this run creates a NAT Gateway
            if deleted > -math.inf:
                lives.append(NatGatewayLife(created, min(deleted, month_end)))
            created, ready = start, start + usage.nat_create_seconds
        waiting = max(0.0, ready - start)
        polls += math.ceil(waiting / usage.poll_interval_seconds)
        released = max(released, max(start, ready) + usage.run_seconds)
        deleted = _deletion(usage, created, released)
    # Up past the month's end, it bills the rest next month, as last month's did this one.
    lives.append(NatGatewayLife(created, min(deleted, month_end)))
    return Month(runs=len(usage.starts), nat_gateways=tuple(lives), polls=polls)


def _deletion(usage: Usage, created: float, released: float) -> float:
    """When the module starts deleting a NAT Gateway its last run released at `released`.

    As steps.idle_deadline and the reaper do: no grace, at once; with a grace,
    at the reaper's first pass after it, the grace cut short to end before the
    next billed hour when asked to.
    """
    if usage.idle_grace_seconds <= 0:
        return released
    idle_until = released + usage.idle_grace_seconds
    if usage.idle_grace_within_billed_hour:
        hours_started = max(1, math.ceil((released - created) / HOUR))
        hour_ends = created + hours_started * HOUR
        idle_until = min(
            idle_until, hour_ends - usage.reaper_interval_seconds - _IDLE_DEADLINE_MARGIN
        )
    if idle_until <= released:
        return released
    interval = usage.reaper_interval_seconds
    return math.ceil(idle_until / interval) * interval


@dataclass(frozen=True)
class Line:
    item: str
    quantity: str
    usd: float


@dataclass(frozen=True)
class Estimate:
    usage: Usage
    prices: RegionPrices
    month: Month
    transitions: int
    controller_calls: int
    controller_gb_seconds: float
    on_demand: tuple[Line, ...]
    always_on: tuple[Line, ...]

    @property
    def on_demand_usd(self) -> float:
        return sum(line.usd for line in self.on_demand)

    @property
    def always_on_usd(self) -> float:
        return sum(line.usd for line in self.always_on)

    @property
    def breakeven_hours_per_day(self) -> float:
        """Billed NAT Gateway hours a day at which on-demand costs what always-on does.

        Everything on the on-demand side but NAT Gateway hours (the Elastic IP,
        Step Functions and Lambda for this many runs) is taken as it is.
        """
        nat_hour = self.prices.nat_gateway_hour.usd
        nat_hours_usd = self.month.billed_nat_hours * nat_hour
        other_usd = self.on_demand_usd - nat_hours_usd
        return (self.always_on_usd - other_usd) / (nat_hour * self.usage.days)


def estimate(usage: Usage, prices: RegionPrices) -> Estimate:
    usage.check()
    month = simulate(usage)
    hours = usage.days * 24
    gigabytes = usage.gb_per_run * month.runs
    transitions = month.runs * len(RUN_STATES) + month.polls * len(POLL_STATES)
    calls = month.runs * len(RUN_CONTROLLER_STATES) + month.polls * len(POLL_CONTROLLER_STATES)
    gb_seconds = calls * usage.lambda_ms / 1_000 * usage.controller_memory_mb / 1_024
    passes = math.ceil(usage.days * SECONDS_PER_DAY / usage.reaper_interval_seconds)
    reaper_gb_seconds = passes * usage.lambda_ms / 1_000 * usage.reaper_memory_mb / 1_024
    azs = usage.always_on_azs
    data = Line("Data processed", f"{_number(gigabytes)} GB", gigabytes * prices.nat_gateway_gb.usd)

    on_demand = (
        Line(
            "NAT Gateway hours",
            f"{month.billed_nat_hours:,} h",
            month.billed_nat_hours * prices.nat_gateway_hour.usd,
        ),
        data,
        Line(
            "Public IPv4 (Elastic IP)", f"{_number(hours)} h", hours * prices.public_ipv4_hour.usd
        ),
        Line(
            "Step Functions",
            f"{transitions:,} transitions",
            transitions / 1_000 * prices.sfn_1000_transitions.usd,
        ),
        Line(
            "Lambda (controller)",
            f"{calls:,} calls, {_number(gb_seconds)} GB-s",
            _lambda_usd(prices, calls, gb_seconds),
        ),
        Line(
            "Lambda (reaper)",
            f"{passes:,} passes, {_number(reaper_gb_seconds)} GB-s",
            _lambda_usd(prices, passes, reaper_gb_seconds),
        ),
    )
    always_on = (
        Line(
            "NAT Gateway hours",
            f"{azs} x {_number(hours)} h",
            azs * hours * prices.nat_gateway_hour.usd,
        ),
        data,
        Line(
            "Public IPv4 (Elastic IP)",
            f"{azs} x {_number(hours)} h",
            azs * hours * prices.public_ipv4_hour.usd,
        ),
    )
    return Estimate(
        usage=usage,
        prices=prices,
        month=month,
        transitions=transitions,
        controller_calls=calls,
        controller_gb_seconds=gb_seconds,
        on_demand=on_demand,
        always_on=always_on,
    )


def _lambda_usd(prices: RegionPrices, requests: int, gb_seconds: float) -> float:
    return (
        requests / 1_000_000 * prices.lambda_million_requests.usd
        + gb_seconds * prices.lambda_gb_second.usd
    )


def _number(value: float) -> str:
    """`720`, `30.5`, `1,234.25`: no trailing zeros."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"
