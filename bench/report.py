"""The bench's output: Markdown tables for people, JSON for tracking."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench import figures
from bench import scale as aws
from bench.runs import RunRecord
from bench.scale import Scale


@dataclass(frozen=True)
class Column:
    """One row of the runs table: a design's first or second run of each pair."""

    design: str
    order: str
    label: str
    # The design's Lambda functions block in waiters (their billed time scales with 1/s).
    lambda_waits: bool = False


def _cell(summary: figures.Summary | None, digits: int) -> str:
    if summary is None:
        return "n/a"
    if summary.low == summary.high:
        return f"{summary.median:.{digits}f}"
    return f"{summary.median:.{digits}f} [{summary.low:.{digits}f}-{summary.high:.{digits}f}]"


def _usd(summary: figures.Summary | None) -> str:
    return "n/a" if summary is None else f"{summary.median:.6f}"


def aws_billed_ms(record: RunRecord, scale: Scale, lambda_waits: bool) -> float:
    """Billed ms scaled back to AWS: only the time spent sleeping in waiters grows by 1/s."""
    if not lambda_waits:
        return float(record.billed_ms)
    return record.billed_ms + waiter_sleep_ms(record, scale) * (1 / scale.factor - 1)


def waiter_sleep_ms(record: RunRecord, scale: Scale) -> float:
    """The baseline's time asleep in its two waiters, from its DescribeNatGateways calls.

    Each waiter describes once before its first sleep; the check describes once.
    """
    describes = record.ec2_calls.get("DescribeNatGateways", 0)
    sleeps = max(0, describes - 3)
    return sleeps * scale.waiter_delay_seconds * 1000


def _summary(records: Sequence[RunRecord], value: Callable[[RunRecord], Any]) -> Any:
    return figures.summarise(value(r) for r in records)


def summarise_runs(
    records: Sequence[RunRecord], columns: Sequence[Column], scale: Scale
) -> dict[str, Any]:
    """Per column: each figure's median/min/max as measured, and medians back on AWS time."""
    out: dict[str, Any] = {}
    for column in columns:
        rows = [r for r in records if (r.design, r.order) == (column.design, column.order)]
        if not rows:
            continue
        ok = [r for r in rows if r.status == "SUCCEEDED"]

        def aws_gb_s(r: RunRecord, waits: bool = column.lambda_waits) -> float:
            if not r.billed_ms:
                return 0.0
            return r.gb_seconds * aws_billed_ms(r, scale, waits) / r.billed_ms

        measured = {
            "lambda_invocations": _summary(ok, lambda r: r.lambda_invocations),
            "billed_seconds": _summary(ok, lambda r: r.billed_ms / 1000),
            "gb_seconds": _summary(ok, lambda r: r.gb_seconds),
            "transitions": _summary(ok, lambda r: r.transitions),
            "cost_usd": _summary(ok, lambda r: r.cost_usd),
            "available_to_routes_seconds": _summary(ok, lambda r: r.available_to_routes_seconds),
            "start_to_routes_seconds": _summary(ok, lambda r: r.start_to_routes_seconds),
            "workload_end_to_deleted_seconds": _summary(
                ok, lambda r: r.workload_end_to_deleted_seconds
            ),
            "previous_workload_end_to_routes_seconds": _summary(
                ok, lambda r: r.previous_workload_end_to_routes_seconds
            ),
            "run_seconds": _summary(ok, lambda r: r.run_seconds),
            "ec2_calls": _summary(ok, lambda r: sum(r.ec2_calls.values())),
            "dynamodb_calls": _summary(ok, lambda r: sum(r.dynamodb_calls.values())),
        }
        on_aws = {
            "billed_seconds": _summary(
                ok, lambda r, w=column.lambda_waits: aws_billed_ms(r, scale, w) / 1000
            ),
            "gb_seconds": _summary(ok, aws_gb_s),
            "cost_usd": _summary(
                ok,
                lambda r: figures.run_cost_usd(r.transitions, r.lambda_invocations, aws_gb_s(r)),
            ),
        }
        for key in _LATENCIES:
            on_aws[key] = _summary(
                ok, lambda r, k=key: None if getattr(r, k) is None else getattr(r, k) / scale.factor
            )
        out[f"{column.design}/{column.order}"] = {
            "label": column.label,
            "runs": len(rows),
            "failed": len(rows) - len(ok),
            "reused_nat_gateway": sum(1 for r in ok if r.reused_nat_gateway),
            "measured": {k: v.as_dict() if v else None for k, v in measured.items()},
            "on_aws": {k: v.as_dict() if v else None for k, v in on_aws.items()},
        }
    return out


# Seconds between two moments of a run: measured at scale s, about 1/s on AWS.
_LATENCIES = (
    "available_to_routes_seconds",
    "start_to_routes_seconds",
    "previous_workload_end_to_routes_seconds",
    "workload_end_to_deleted_seconds",
)


def _get(section: dict[str, Any], key: str) -> figures.Summary | None:
    value = section.get(key)
    if value is None:
        return None
    return figures.Summary(value["median"], value["min"], value["max"], value["runs"])


def runs_tables(summary: dict[str, Any], unsupported: Sequence[str]) -> str:
    """Two tables: what a run costs, and when its internet arrives and goes."""
    cost = [
        "| run | Lambda invocations | billed Lambda s, measured | billed Lambda s on AWS | "
        "GB-s on AWS | state transitions | USD per run on AWS | EC2 calls | DynamoDB calls |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    latency = [
        "| run | NAT available → routes | start → routes | first run's workload end → "
        "routes | workload end → NAT deleted |",
        "|---|---|---|---|---|",
    ]
    for entry in summary.values():
        m, a = entry["measured"], entry["on_aws"]
        label = entry["label"] + (f" ({entry['failed']} failed)" if entry["failed"] else "")
        cost.append(
            f"| {label} | {_cell(_get(m, 'lambda_invocations'), 0)} "
            f"| {_cell(_get(m, 'billed_seconds'), 2)} | {_cell(_get(a, 'billed_seconds'), 1)} "
            f"| {_cell(_get(a, 'gb_seconds'), 2)} | {_cell(_get(m, 'transitions'), 0)} "
            f"| {_usd(_get(a, 'cost_usd'))} | {_cell(_get(m, 'ec2_calls'), 0)} "
            f"| {_cell(_get(m, 'dynamodb_calls'), 0)} |"
        )
        cells = [_latency(_get(m, key), _get(a, key)) for key in _LATENCIES]
        latency.append(f"| {label} | " + " | ".join(cells) + " |")
    for label in unsupported:
        cost.append(f"| {label} | not supported yet | | | | | | | |")
        latency.append(f"| {label} | not supported yet | | | |")
    return (
        "What a run costs (Step Functions and Lambda only; each NAT Gateway a run creates "
        "also costs at least one started hour, 0.045 USD):\n\n"
        + "\n".join(cost)
        + "\n\nWhen the internet arrives and goes, in seconds: measured (≈ on AWS, ÷ s):\n\n"
        + "\n".join(latency)
    )


def _latency(measured: figures.Summary | None, on_aws: figures.Summary | None) -> str:
    if measured is None or on_aws is None:
        return "n/a"
    return f"{_cell(measured, 2)} (≈{on_aws.median:.0f})"


def _calls(calls: dict[str, int]) -> str:
    total = sum(calls.values())
    by_action = ", ".join(f"{action} {count}" for action, count in calls.items())
    return f"{total} ({by_action})" if calls else "0"


def scaling_table(results: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| route tables | design | attach: EC2 calls | detach: EC2 calls | "
        "DynamoDB calls | attach + detach, ms |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for design, label in (("baseline", "waiter baseline"), ("on-demand", "nat-on-demand")):
            attach, detach = result[design]["attach"], result[design]["detach"]
            dynamodb = sum(attach["dynamodb_calls"].values()) + sum(
                detach["dynamodb_calls"].values()
            )
            total = [
                (a + d) * 1000
                for a, d in zip(attach["seconds_each"], detach["seconds_each"], strict=True)
            ]
            lines.append(
                f"| {result['route_tables']} | {label} | {_calls(attach['ec2_calls'])} "
                f"| {_calls(detach['ec2_calls'])} | {dynamodb} "
                f"| {_cell(figures.summarise(total), 0)} |"
            )
    return "\n".join(lines)


def footprint_table(zips: dict[str, dict[str, Any]], imports: dict[str, Any]) -> str:
    controller, boto3 = imports["controller_ms"], imports["boto3_ms"]
    ratio = imports["ratio"]

    def cell(value: dict[str, Any], digits: int) -> str:
        return _cell(figures.Summary(value["median"], value["min"], value["max"], 0), digits)

    return "\n".join(
        [
            "| | nat-on-demand | waiter baseline |",
            "|---|---|---|",
            f"| Lambda zip | {zips['on-demand']['bytes']:,} bytes "
            f"({zips['on-demand']['files']} files) "
            f"| {zips['baseline']['bytes']:,} bytes ({zips['baseline']['files']} files) |",
            f"| cold import of the handler module, ms | {cell(controller, 0)} "
            f"| (boto3 alone) {cell(boto3, 0)} |",
            f"| controller import ÷ boto3 import, per run | {cell(ratio, 2)} | |",
        ]
    )


# The module's default reaper schedule, rate(5 minutes): passes a day.
DEFAULT_REAPER_PASSES_PER_DAY = 24 * 60 // 5


def reaper_pass_figures(passes: Sequence[Any]) -> dict[str, Any]:
    """Reaper passes with nothing to clean, and what the default schedule costs a month."""
    warm = [p.billed_ms for p in passes if not p.cold_start]
    cold = [p.billed_ms for p in passes if p.cold_start]
    summary = figures.summarise(warm)
    memory_mb = passes[0].memory_size_mb if passes else 0
    per_pass_ms = summary.median if summary else 0.0
    gb_s_per_day = DEFAULT_REAPER_PASSES_PER_DAY * figures.gb_seconds(round(per_pass_ms), memory_mb)
    usd_per_month = 30 * (
        gb_s_per_day * figures.USD_PER_GB_SECOND
        + DEFAULT_REAPER_PASSES_PER_DAY * figures.USD_PER_REQUEST
    )
    return {
        "warm_billed_ms": summary.as_dict() if summary else None,
        "cold_billed_ms": cold,
        "memory_mb": memory_mb,
        "passes_per_day": DEFAULT_REAPER_PASSES_PER_DAY,
        "gb_seconds_per_day": gb_s_per_day,
        "usd_per_month": usd_per_month,
    }


def settings_lines(scale: dict[str, Any], runs: int) -> str:
    s = scale["factor"]
    grace = (
        f"{scale['idle_grace_seconds']} s (AWS-time {scale['idle_grace_seconds'] / s:g} s), "
        "ended by the reaper on rate(1 minute), which the bench invokes as the schedule would"
        if scale["idle_grace_seconds"] is not None
        else "not supported yet by the module"
    )
    return "\n".join(
        [
            f"Scale s = {s:g} on AWS's timings; each figure the median [min-max] of {runs} runs.",
            f"- NAT Gateway pending {scale['nat_pending_seconds']:g} s "
            f"(AWS ~{aws.AWS_NAT_PENDING_SECONDS:g} s), deleting "
            f"{scale['nat_deleting_seconds']:g} s (AWS ~{aws.AWS_NAT_DELETING_SECONDS:g} s).",
            f"- Waiter baseline: botocore waiters with Delay {scale['waiter_delay_seconds']:g} s "
            f"(botocore: {aws.AWS_WAITER_DELAY_SECONDS:g} s) x {scale['waiter_max_attempts']} "
            f"attempts; fixed Wait {scale['fixed_wait_seconds']} s "
            f"({aws.AWS_BASELINE_FIXED_WAIT_SECONDS} s); functions at 128 MB.",
            f"- nat-on-demand: poll_interval_seconds {scale['poll_interval_seconds']} (default "
            f"{aws.AWS_MODULE_POLL_SECONDS} s; the module's minimum is 1 s); controller at "
            f"256 MB; idle grace {grace}.",
            f"- Workload: holds {scale['hold_seconds']:g} s, not scaled, left out of the figures.",
        ]
    )


def render(result: dict[str, Any], unsupported: Sequence[str]) -> str:
    """Everything a person reads: settings, the three tables, the reaper's standing cost."""
    parts = [
        settings_lines(result["scale"], result["arguments"]["runs"]),
        runs_tables(result["summary"], unsupported),
    ]
    reaper = result.get("reaper_pass")
    if reaper and reaper["warm_billed_ms"]:
        parts.append(
            "Standing cost of nat-on-demand whether or not anything runs: its reaper on the "
            f"default rate(5 minutes), {reaper['passes_per_day']} passes a day at "
            f"{reaper['warm_billed_ms']['median']:.0f} ms billed each (warm, nothing to clean; "
            f"{reaper['memory_mb']} MB) = {reaper['gb_seconds_per_day']:.2f} GB-s a day, "
            f"about {reaper['usd_per_month']:.4f} USD a month."
        )
    if "route_scaling" in result:
        parts.append(scaling_table(result["route_scaling"]))
    if "zips" in result:
        parts.append(footprint_table(result["zips"], result["cold_import"]))
    return "\n\n".join(parts) + "\n"
