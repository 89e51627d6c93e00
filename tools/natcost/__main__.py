"""Monthly cost of nat-on-demand against always-on NAT Gateways (make cost ARGS="...").

Examples:
  python -m natcost --runs-per-day 1 --run-minutes 15
  python -m natcost --schedule "cron(0 9-17 ? * MON-FRI *)" --run-minutes 20 --gb-per-run 2
  python -m natcost --region ap-northeast-1 --schedule "rate(30 minutes)" --run-minutes 5 \\
      --idle-grace-seconds 1800 --azs 3
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from natcost import schedule
from natcost.model import (
    ASSUMPTIONS,
    POLL_CONTROLLER_STATES,
    POLL_STATES,
    RUN_CONTROLLER_STATES,
    RUN_STATES,
    Estimate,
    Line,
    Usage,
    UsageError,
    estimate,
)
from natcost.prices import PRICES_FILE, PriceFileError, load_prices

_ITEM, _QUANTITY, _USD, _WIDTH = 26, 28, 9, 96


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        prices = load_prices(args.region, args.prices)
        if args.schedule:
            starts = schedule.parse(args.schedule, args.days)
        else:
            starts = schedule.evenly(args.runs_per_day or 1.0, args.days)
        usage = Usage(
            starts=starts,
            run_seconds=args.run_minutes * 60,
            gb_per_run=args.gb_per_run,
            idle_grace_seconds=args.idle_grace_seconds,
            nat_create_seconds=args.nat_create_seconds,
            poll_interval_seconds=args.poll_interval_seconds,
            days=args.days,
            always_on_azs=args.azs,
            idle_grace_within_billed_hour=args.idle_grace_within_billed_hour,
            reaper_interval_seconds=args.reaper_minutes * 60,
            lambda_ms=args.lambda_ms,
        )
        result = estimate(usage, prices)
    except (PriceFileError, schedule.ScheduleError, UsageError) as error:
        print(f"natcost: {error}", file=sys.stderr)
        return 2
    cadence = args.schedule or f"{_plain(args.runs_per_day or 1.0)} a day"
    print(report(result, cadence, brief=args.brief))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m natcost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--region", default="us-east-1", help="a region of pricing/prices.toml (us-east-1)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--runs-per-day", type=float, help="runs a day, evenly spaced (1)")
    when.add_argument("--schedule", help='"rate(6 hours)" or "cron(0 2 * * ? *)", as Scheduler')
    add("--run-minutes", type=float, default=15.0, help="workload time of a run (15)")
    add("--gb-per-run", type=float, default=0.0, help="GB through the NAT Gateway a run (0)")
    add("--idle-grace-seconds", type=float, default=0.0, help="NAT kept after a run (0)")
    add(
        "--idle-grace-within-billed-hour",
        action="store_true",
        help="end the grace before the next billed hour, as the module's variable does",
    )
    add("--reaper-minutes", type=float, default=5.0, help="reaper schedule interval (5)")
    add("--azs", type=int, default=1, help="NAT Gateways of the always-on setup, 1 per AZ (1)")
    add("--nat-create-seconds", type=float, default=100.0, help="until available (100)")
    add("--poll-interval-seconds", type=float, default=10.0, help="module default (10)")
    add(
        "--lambda-ms",
        type=float,
        default=1000.0,
        help="billed ms per controller call and per reaper pass (1000, a cautious bound: "
        "make bench measured 40-70 ms warm)",
    )
    add("--days", type=float, default=30.0, help="days in the month (30; 30.42 for 730 h)")
    add("--brief", action="store_true", help="only the table and the verdict")
    add("--prices", type=Path, default=PRICES_FILE, help="price file (pricing/prices.toml)")
    return parser


def report(result: Estimate, cadence: str, *, brief: bool = False) -> str:
    """The comparison as plain text: usage, table, verdict, then what was counted and how."""
    usage, month = result.usage, result.month
    azs = f"always-on, {usage.always_on_azs} AZ" + ("s" if usage.always_on_azs > 1 else "")
    always_on = {line.item: line for line in result.always_on}
    table = [_row("", "nat-on-demand", "", azs)]
    for line in result.on_demand:
        table.append(
            _row(line.item, line.quantity, _usd(line.usd), *_cells(always_on.get(line.item)))
        )
    table.append(
        _row("Total a month", "", _usd(result.on_demand_usd), "", _usd(result.always_on_usd))
    )
    counted = (
        f"Counted per run: {len(RUN_STATES)} state transitions and {len(RUN_CONTROLLER_STATES)} "
        f"controller calls, plus {len(POLL_STATES)} and {len(POLL_CONTROLLER_STATES)} per poll "
        f"of a pending NAT Gateway (every {_plain(usage.poll_interval_seconds)} s); a reaper "
        f"pass every {_plain(usage.reaper_interval_seconds / 60)} min; "
        f"{_plain(usage.lambda_ms)} ms at {usage.controller_memory_mb} MB a Lambda call."
    )
    return "\n".join(
        [
            f"nat-on-demand monthly cost, {result.prices.region} ({result.prices.name}), "
            f"a {_plain(usage.days)}-day month, USD",
            "",
            _wrap(
                f"Runs: {cadence}, {month.runs:,} a month; {_plain(usage.run_seconds / 60)} min "
                f"of workload and {_plain(usage.gb_per_run)} GB each."
            ),
            _wrap(_nat_summary(result)),
            "",
            *table,
            "",
            *_verdict(result),
        ]
        + (
            []
            if brief
            else [
                "",
                _wrap(counted),
                "Assumptions:",
                *(_wrap(f"- {assumption}") for assumption in ASSUMPTIONS),
                _wrap(_price_note(result)),
            ]
        )
    )


def _nat_summary(result: Estimate) -> str:
    usage, lives = result.usage, result.month.nat_gateways
    minutes = sum(life.deleted - life.created for life in lives) / len(lives) / 60
    up = f"{minutes:,.1f} min" if minutes < 120 else f"{minutes / 60:,.1f} h"
    return (
        f"NAT Gateways: {len(lives):,} created, each up {up} on average (ready after "
        f"{_plain(usage.nat_create_seconds)} s, idle grace {_plain(usage.idle_grace_seconds)} s): "
        f"{result.month.billed_nat_hours:,} billed hours, each started hour in full."
    )


def _price_note(result: Estimate) -> str:
    prices = result.prices
    dates = sorted({price.as_of for _, price in prices.figures()})
    note = f"Prices: pricing/prices.toml, {prices.region}, as of {', '.join(dates)}."
    unconfirmed = prices.unconfirmed()
    if unconfirmed:
        listed = ", ".join(f"{key} ({price.basis})" for key, price in unconfirmed)
        note += f" Not confirmed on AWS's own page: {listed}."
    return note


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=_WIDTH, subsequent_indent="  ", break_on_hyphens=False)


def _verdict(result: Estimate) -> list[str]:
    saving = result.always_on_usd - result.on_demand_usd
    azs = f"{result.usage.always_on_azs} AZ" + ("s" if result.usage.always_on_azs > 1 else "")
    if saving >= 0:
        share = saving / result.always_on_usd * 100 if result.always_on_usd else 0.0
        head = (
            f"nat-on-demand saves {saving:,.2f} USD a month ({share:.0f} %) "
            f"against always-on in {azs}."
        )
    else:
        head = f"nat-on-demand costs {-saving:,.2f} USD a month more than always-on in {azs}."
    billed = result.month.billed_nat_hours / result.usage.days
    breakeven = (
        f"Break-even at {result.breakeven_hours_per_day:,.2f} billed NAT Gateway hours a day; "
        f"this usage bills {billed:,.2f}."
    )
    if result.breakeven_hours_per_day > 24:
        breakeven += f" A NAT Gateway up all day still costs less than always-on in {azs}."
    return [_wrap(head), _wrap(breakeven)]


def _cells(line: Line | None) -> tuple[str, str]:
    return ("-", "-") if line is None else (line.quantity, _usd(line.usd))


def _row(item: str, quantity: str, usd: str, other_quantity: str = "", other_usd: str = "") -> str:
    return (
        f"{item:<{_ITEM}}{quantity:<{_QUANTITY}}{usd:>{_USD}}   "
        f"{other_quantity:<{_QUANTITY - 8}}{other_usd:>{_USD}}"
    ).rstrip()


def _usd(value: float) -> str:
    return "<0.01" if 0 < value < 0.005 else f"{value:,.2f}"


def _plain(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
