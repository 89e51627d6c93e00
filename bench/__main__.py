"""`make bench`: what a run costs and how fast the internet arrives, module vs waiter baseline.

Applies bench/terraform (nat-on-demand as a user calls it, plus the
waiter-in-Lambda baseline) to the local AWS with NAT Gateway timings scaled
by one factor, runs pairs of back-to-back runs of each design, measures route
changes with 1, 10 and 100 route tables and the Lambda package's footprint,
destroys everything, prints Markdown tables and writes build/bench.json.

Exits non-zero only when a run fails or leaves something behind (a NAT
Gateway pending or available, a route): the figures themselves are never
asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hcl2

from bench import figures, footprint, report
from bench.report import Column, Scale
from bench.runs import Design, DesignRunner, RunRecord
from bench.scaling import RouteScaling
from emulator import settings
from emulator.api_calls import ApiCallRecorder
from emulator.server import LocalAws
from emulator.terraform import BUILD_DIR, REPO_ROOT, Terraform

BENCH_ROOT = REPO_ROOT / "bench" / "terraform"
# Written only when the module has idle_grace_seconds (see _write_grace_instance).
GRACE_FILE = BENCH_ROOT / "zz_bench_idle_grace.tf.json"
NAME = "bench"

# AWS's typical timings, which the scale factor shrinks (DESIGN.md, botocore's model).
AWS_NAT_PENDING_SECONDS = 100.0
AWS_NAT_DELETING_SECONDS = 60.0
AWS_WAITER_DELAY_SECONDS = 15.0
AWS_WAITER_MAX_ATTEMPTS = 40
AWS_BASELINE_FIXED_WAIT_SECONDS = 30
AWS_MODULE_POLL_SECONDS = 10
AWS_IDLE_GRACE_SECONDS = 60

COLUMNS = [
    Column("baseline", "first", "waiter baseline, run 1", lambda_waits=True),
    Column("baseline", "second", "waiter baseline, run 2 right after", lambda_waits=True),
    Column("on-demand", "first", "nat-on-demand, run 1"),
    Column("on-demand", "second", "nat-on-demand, run 2 right after (no idle grace)"),
    Column("on-demand-grace", "first", "nat-on-demand + idle grace, run 1"),
    Column("on-demand-grace", "second", "nat-on-demand + idle grace, run 2 right after"),
]


def _say(text: str = "") -> None:
    print(text, flush=True)


def module_variables() -> set[str]:
    with (REPO_ROOT / "variables.tf").open() as handle:
        parsed = hcl2.load(handle)
    return {name for block in parsed.get("variable", []) for name in block}


def make_scale(factor: float, hold_seconds: float, grace_supported: bool) -> Scale:
    return Scale(
        factor=factor,
        nat_pending_seconds=AWS_NAT_PENDING_SECONDS * factor,
        nat_deleting_seconds=AWS_NAT_DELETING_SECONDS * factor,
        waiter_delay_seconds=AWS_WAITER_DELAY_SECONDS * factor,
        waiter_max_attempts=AWS_WAITER_MAX_ATTEMPTS,
        # Wait states and the module's poll interval take whole seconds, at least 1.
        fixed_wait_seconds=max(1, round(AWS_BASELINE_FIXED_WAIT_SECONDS * factor)),
        poll_interval_seconds=max(1, round(AWS_MODULE_POLL_SECONDS * factor)),
        idle_grace_seconds=(
            max(1, round(AWS_IDLE_GRACE_SECONDS * factor)) if grace_supported else None
        ),
        hold_seconds=hold_seconds,
    )


def _write_grace_instance(scale: Scale) -> None:
    """A second module instance with idle grace, in JSON so that it exists only when supported."""
    if scale.idle_grace_seconds is None:
        GRACE_FILE.unlink(missing_ok=True)
        return
    instance = {
        "source": "../..",
        "name": "${var.name}-grace",
        "public_subnet_id": "${aws_subnet.public.id}",
        "private_route_table_ids": '${local.route_table_ids["on-demand-grace"]}',
        "workload_lambda_arn": "${aws_lambda_function.workload.arn}",
        "poll_interval_seconds": "${var.poll_interval_seconds}",
        "idle_grace_seconds": scale.idle_grace_seconds,
        "depends_on": ["aws_route_table_association.public"],
    }
    output = {
        "description": "The idle-grace instance, as in output.designs.",
        "value": {
            "state_machine_arn": "${module.on_demand_grace.state_machine_arn}",
            "route_table_ids": "${module.on_demand_grace.route_table_ids}",
            "nat_gateway_tag": "${module.on_demand_grace.nat_gateway_tag}",
            "function_prefix": "${var.name}-grace-",
        },
    }
    GRACE_FILE.write_text(
        json.dumps({"module": {"on_demand_grace": instance}, "output": {"grace": output}}, indent=2)
        + "\n"
    )


def _designs(outputs: dict[str, Any], scale: Scale) -> list[Design]:
    workload = {"hold_seconds": scale.hold_seconds}
    found = [
        ("baseline", "waiter baseline", outputs["designs"]["baseline"], {}),
        ("on-demand", "nat-on-demand", outputs["designs"]["on-demand"], {}),
    ]
    if "grace" in outputs:
        found.append(("on-demand-grace", "nat-on-demand + idle grace", outputs["grace"], {}))
    designs = []
    for key, label, out, _ in found:
        run_input: dict[str, Any] = {"workload_input": workload}
        if key != "baseline":
            run_input["run_label"] = f"make-bench-{key}"
        designs.append(
            Design(
                key=key,
                label=label,
                state_machine_arn=out["state_machine_arn"],
                route_table_ids=tuple(out["route_table_ids"]),
                nat_gateway_tag=(out["nat_gateway_tag"]["key"], out["nat_gateway_tag"]["value"]),
                function_prefix=out["function_prefix"],
                run_input=run_input,
                idle_grace_seconds=float(scale.idle_grace_seconds or 0)
                if key == "on-demand-grace"
                else 0.0,
            )
        )
    return designs


def _report_lines_agree(aws: LocalAws, prefix: str, recorded_ms: int) -> bool:
    """Sum of Billed Duration in the functions' REPORT log lines equals the records' sum."""
    lam, logs = aws.client("lambda"), aws.client("logs")
    names = [
        fn["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate()
        for fn in page["Functions"]
        if fn["FunctionName"].startswith(prefix)
    ]
    total = 0.0
    for name in names:
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{name}", filterPattern="REPORT"
        ):
            for event in page["events"]:
                if event["message"].startswith("REPORT "):
                    total += figures.parse_report_line(event["message"])["Billed Duration"]
    return round(total) == recorded_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1, help="factor on AWS's timings")
    parser.add_argument("--runs", type=int, default=3, help="pairs of runs per design")
    parser.add_argument("--hold-seconds", type=float, default=1.0, help="workload duration")
    parser.add_argument("--route-tables", default="1,10,100", help="route table counts")
    parser.add_argument("--route-table-runs", type=int, default=3)
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--output", type=Path, default=BUILD_DIR / "bench.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    grace_supported = "idle_grace_seconds" in module_variables()
    scale = make_scale(args.scale, args.hold_seconds, grace_supported)
    settings.timings.nat_pending_seconds = scale.nat_pending_seconds
    settings.timings.nat_deleting_seconds = scale.nat_deleting_seconds
    _say(_header(scale, args.runs))

    problems: list[str] = []
    records: list[RunRecord] = []
    billing_checked: dict[str, bool] = {}
    with LocalAws() as aws, ApiCallRecorder() as recorder:
        _write_grace_instance(scale)
        terraform = Terraform(BENCH_ROOT, name="bench", extra_env=aws.environment())
        variables = {
            "name": NAME,
            "poll_interval_seconds": scale.poll_interval_seconds,
            "baseline_waiter_delay_seconds": scale.waiter_delay_seconds,
            "baseline_waiter_max_attempts": scale.waiter_max_attempts,
            "baseline_fixed_wait_seconds": scale.fixed_wait_seconds,
        }
        try:
            _say("== terraform apply bench/terraform")
            step = time.monotonic()
            terraform.init()
            terraform.apply(variables)
            outputs = terraform.output()
            _say(f"   applied in {time.monotonic() - step:.0f} s")

            for design in _designs(outputs, scale):
                _say(f"== {args.runs} pairs of back-to-back runs: {design.label}")
                step = time.monotonic()
                runner = DesignRunner(aws, recorder, design)
                try:
                    found = runner.run_pairs(args.runs, on_run=lambda n: _say(f"   pair {n} done"))
                except RuntimeError as error:
                    problems.append(str(error))
                    found = []
                records += found
                problems += runner.problems + runner.leaks()
                problems += [
                    f"{r.execution_arn} ended {r.status}: {r.error}"
                    for r in found
                    if r.status != "SUCCEEDED"
                ]
                billing_checked[design.key] = _report_lines_agree(
                    aws, design.function_prefix, runner.billed_ms_seen
                )
                _say(f"   {time.monotonic() - step:.0f} s")

            _say("== route changes with " + args.route_tables + " route tables")
            step = time.monotonic()
            scaling = RouteScaling(aws, recorder)
            counts = [int(n) for n in args.route_tables.split(",")]
            scaling_results = scaling.measure(counts, args.route_table_runs)
            problems += scaling.problems
            _say(f"   {time.monotonic() - step:.0f} s")

            _say("== Lambda zips and cold import")
            data_dir = BENCH_ROOT / ".terraform"
            zips = {
                "on-demand": footprint.zip_figures(
                    data_dir / "nat-on-demand" / f"{NAME}-on-demand-lambda.zip"
                ),
                "baseline": footprint.zip_figures(data_dir / "bench" / "baseline.zip"),
            }
            imports = footprint.import_times(
                data_dir / "nat-on-demand" / f"{NAME}-on-demand-lambda.zip", args.import_runs
            )
        finally:
            _say("== terraform destroy")
            terraform.destroy(variables)
            left = terraform.resources()
            if left:
                problems.append("terraform destroy left: " + ", ".join(left))
            GRACE_FILE.unlink(missing_ok=True)

    summary = report.summarise_runs(records, COLUMNS, scale)
    unsupported = [] if grace_supported else ["nat-on-demand + idle grace, run 2 right after"]
    result = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench",
        "arguments": vars(args) | {"output": str(args.output)},
        "scale": scale.as_dict(),
        "idle_grace_supported": grace_supported,
        "report_lines_match_records": billing_checked,
        "summary": summary,
        "runs": [r.as_dict() for r in records],
        "route_scaling": scaling_results,
        "zips": zips,
        "cold_import": imports,
        "problems": problems,
        "seconds": round(time.monotonic() - started),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")

    _say()
    _say(report.runs_tables(summary, unsupported))
    _say()
    _say(report.scaling_table(scaling_results))
    _say()
    _say(report.footprint_table(zips, imports))
    _say()
    _say(f"JSON: {args.output}; {result['seconds']} s in all.")
    if problems:
        _say("BENCH FAILED:\n  " + "\n  ".join(problems))
        return 1
    return 0


def _header(scale: Scale, runs: int) -> str:
    s = scale.factor
    grace = (
        f"{scale.idle_grace_seconds} s (AWS-time {AWS_IDLE_GRACE_SECONDS} s)"
        if scale.idle_grace_seconds is not None
        else "not supported yet by the module"
    )
    return "\n".join(
        [
            f"make bench: scale s = {s:g} on AWS's timings; each figure the median "
            f"[min-max] of {runs} runs",
            f"  NAT Gateway pending {scale.nat_pending_seconds:g} s "
            f"(AWS ~{AWS_NAT_PENDING_SECONDS:g} s), deleting {scale.nat_deleting_seconds:g} s "
            f"(AWS ~{AWS_NAT_DELETING_SECONDS:g} s)",
            f"  baseline: waiter Delay {scale.waiter_delay_seconds:g} s "
            f"(botocore {AWS_WAITER_DELAY_SECONDS:g} s) x {scale.waiter_max_attempts}, "
            f"fixed Wait {scale.fixed_wait_seconds} s ({AWS_BASELINE_FIXED_WAIT_SECONDS} s)",
            f"  nat-on-demand: poll_interval_seconds {scale.poll_interval_seconds} "
            f"(default {AWS_MODULE_POLL_SECONDS} s; the module's minimum is 1); idle grace {grace}",
            f"  workload holds {scale.hold_seconds:g} s (not scaled, not counted)",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
