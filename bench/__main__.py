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
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hcl2

from bench import figures, footprint, report
from bench.report import Column
from bench.runs import Design, DesignRunner, RunRecord
from bench.scale import Scale, make_scale
from bench.scaling import RouteScaling
from emulator import lambda_runtime, settings
from emulator.api_calls import ApiCallRecorder
from emulator.server import LocalAws
from emulator.terraform import BUILD_DIR, REPO_ROOT, Terraform

BENCH_ROOT = REPO_ROOT / "bench" / "terraform"
# Written only when the module has idle_grace_seconds (see _write_grace_instance).
GRACE_FILE = BENCH_ROOT / "zz_bench_idle_grace.tf.json"
NAME = "bench"

# The idle-grace instance's reaper schedule, rate(1 minute): an idle grace ends
# at the first reaper pass after it.
GRACE_REAPER_MINUTES = 1

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
    # python-hcl2 keeps the quotes of block labels.
    return {name.strip('"') for block in parsed.get("variable", []) for name in block}


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
        "workload": {
            "type": "lambda",
            "lambda_function_arn": "${aws_lambda_function.workload.arn}",
        },
        "poll_interval_seconds": "${var.poll_interval_seconds}",
        "idle_grace_seconds": scale.idle_grace_seconds,
        # The reaper ends an idle grace: its shortest schedule, for the shortest wait.
        "reaper_schedule_expression": f"rate({GRACE_REAPER_MINUTES} minute)",
        "depends_on": ["aws_route_table_association.public"],
    }
    output = {
        "description": "The idle-grace instance, as in output.designs.",
        "value": {
            "state_machine_arn": "${module.on_demand_grace.state_machine_arn}",
            "route_table_ids": "${module.on_demand_grace.route_table_ids}",
            "nat_gateway_tag": "${module.on_demand_grace.nat_gateway_tag}",
            "functions": ["${module.on_demand_grace.controller_function_name}"],
            "reaper_function": "${module.on_demand_grace.reaper_function_name}",
        },
    }
    document = {"module": {"on_demand_grace": instance}, "output": {"grace": output}}
    GRACE_FILE.write_text(json.dumps(document, indent=2) + "\n")


def _designs(outputs: dict[str, Any], scale: Scale) -> list[Design]:
    found = [
        ("baseline", "waiter baseline", outputs["designs"]["baseline"]),
        ("on-demand", "nat-on-demand", outputs["designs"]["on-demand"]),
    ]
    if "grace" in outputs:
        found.append(("on-demand-grace", "nat-on-demand + idle grace", outputs["grace"]))
    designs = []
    for key, label, out in found:
        run_input: dict[str, Any] = {"workload_input": {"hold_seconds": scale.hold_seconds}}
        if key != "baseline":
            run_input["run_label"] = f"make-bench-{key}"
        grace = key == "on-demand-grace"
        designs.append(
            Design(
                key=key,
                label=label,
                state_machine_arn=out["state_machine_arn"],
                route_table_ids=tuple(out["route_table_ids"]),
                nat_gateway_tag=(out["nat_gateway_tag"]["key"], out["nat_gateway_tag"]["value"]),
                functions=tuple(out["functions"]),
                run_input=run_input,
                idle_grace_seconds=float(scale.idle_grace_seconds or 0) if grace else 0.0,
                reaper_function=out.get("reaper_function"),
                reaper_period_seconds=GRACE_REAPER_MINUTES * 60 * scale.factor if grace else None,
            )
        )
    return designs


def _report_lines_agree(aws: LocalAws, functions: set[str], recorded_ms: int) -> bool:
    """Sum of Billed Duration in the functions' REPORT log lines equals the records' sum."""
    logs = aws.client("logs")
    total = 0.0
    for name in sorted(functions):
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{name}", filterPattern="REPORT"
        )
        for page in pages:
            for event in page["events"]:
                if event["message"].startswith("REPORT "):
                    total += figures.parse_report_line(event["message"])["Billed Duration"]
    return round(total) == recorded_ms


class Bench:
    """One `make bench`: apply, measure, destroy; `problems` make it fail."""

    def __init__(self, args: argparse.Namespace, scale: Scale) -> None:
        self.args = args
        self.scale = scale
        self.problems: list[str] = []
        self.records: list[RunRecord] = []
        self.result: dict[str, Any] = {}

    def run(self) -> None:
        with LocalAws() as aws, ApiCallRecorder() as recorder:
            _write_grace_instance(self.scale)
            terraform = Terraform(BENCH_ROOT, name="bench", extra_env=aws.environment())
            # The local AWS is new: a state left by an interrupted bench names nothing.
            terraform.state.unlink(missing_ok=True)
            variables = {
                "name": NAME,
                "poll_interval_seconds": self.scale.poll_interval_seconds,
                "baseline_waiter_delay_seconds": self.scale.waiter_delay_seconds,
                "baseline_waiter_max_attempts": self.scale.waiter_max_attempts,
                "baseline_fixed_wait_seconds": self.scale.fixed_wait_seconds,
            }
            try:
                outputs = self._apply(terraform, variables)
                designs = _designs(outputs, self.scale)
                for design in designs:
                    self._run_design(aws, recorder, design)
                # A bench bug in a later part must not lose the runs measured so far.
                self._guarded("reaper passes", self._reaper_schedule_cost, aws, designs)
                self._guarded("route scaling", self._route_scaling, aws, recorder)
                self._guarded("footprint", self._footprint)
            finally:
                _say("== terraform destroy")
                terraform.destroy(variables)
                left = terraform.resources()
                if left:
                    self.problems.append("terraform destroy left: " + ", ".join(left))
                GRACE_FILE.unlink(missing_ok=True)

    def _guarded(self, part: str, measure: Callable[..., None], *args: Any) -> None:
        try:
            measure(*args)
        except Exception:  # reported as a problem: the bench then fails
            self.problems.append(f"{part} failed:\n{traceback.format_exc()}")

    def _apply(self, terraform: Terraform, variables: dict[str, Any]) -> dict[str, Any]:
        _say("== terraform apply bench/terraform")
        step = time.monotonic()
        terraform.init()
        terraform.apply(variables)
        _say(f"   applied in {time.monotonic() - step:.0f} s")
        return terraform.output()

    def _run_design(self, aws: LocalAws, recorder: ApiCallRecorder, design: Design) -> None:
        _say(f"== {self.args.runs} pairs of back-to-back runs: {design.label}")
        step = time.monotonic()
        runner = DesignRunner(aws, recorder, design)
        try:
            found = runner.run_pairs(self.args.runs, on_run=lambda n: _say(f"   pair {n} done"))
        except RuntimeError as error:
            self.problems.append(str(error))
            found = []
        self.records += found
        self.problems += runner.problems + runner.leaks()
        self.problems += [
            f"{r.execution_arn} ended {r.status}: {r.error}"
            for r in found
            if r.status != "SUCCEEDED"
        ]
        self.result.setdefault("report_lines_match_records", {})[design.key] = _report_lines_agree(
            aws, runner.function_names(), runner.billed_ms_seen
        )
        self.result.setdefault("scheduled_reaper_passes", {})[design.key] = (
            runner.scheduled_reaper_passes
        )
        _say(f"   {time.monotonic() - step:.0f} s")

    def _reaper_schedule_cost(self, aws: LocalAws, designs: list[Design]) -> None:
        """Billed ms of scheduled reaper passes that find nothing: a cost per day, not per run."""
        design = next((d for d in designs if d.key == "on-demand" and d.reaper_function), None)
        if design is None or design.reaper_function is None:
            return
        _say("== scheduled reaper passes with nothing to clean")
        lam = aws.client("lambda")
        lambda_runtime.take_invocations()
        for _ in range(self.args.reaper_passes):
            lam.invoke(
                FunctionName=design.reaper_function,
                Payload=json.dumps({"reason": "schedule"}).encode(),
            )
        passes = [
            r
            for r in lambda_runtime.take_invocations()
            if r.function_name == design.reaper_function
        ]
        self.result["reaper_pass"] = report.reaper_pass_figures(passes)

    def _route_scaling(self, aws: LocalAws, recorder: ApiCallRecorder) -> None:
        _say(f"== route changes with {self.args.route_tables} route tables")
        step = time.monotonic()
        scaling = RouteScaling(aws, recorder)
        counts = [int(n) for n in self.args.route_tables.split(",")]
        self.result["route_scaling"] = scaling.measure(counts, self.args.route_table_runs)
        self.problems += scaling.problems
        _say(f"   {time.monotonic() - step:.0f} s")

    def _footprint(self) -> None:
        _say("== Lambda zips and cold import")
        data_dir = BENCH_ROOT / ".terraform"
        module_zip = data_dir / "nat-on-demand" / f"{NAME}-on-demand-lambda.zip"
        self.result["zips"] = {
            "on-demand": footprint.zip_figures(module_zip),
            "baseline": footprint.zip_figures(data_dir / "bench" / "baseline.zip"),
        }
        self.result["cold_import"] = footprint.import_times(module_zip, self.args.import_runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1, help="factor on AWS's timings")
    parser.add_argument("--runs", type=int, default=3, help="pairs of runs per design")
    parser.add_argument("--hold-seconds", type=float, default=1.0, help="workload duration")
    parser.add_argument("--route-tables", default="1,10,100", help="route table counts")
    parser.add_argument("--route-table-runs", type=int, default=3, help="repetitions per count")
    parser.add_argument("--import-runs", type=int, default=7, help="cold imports timed")
    parser.add_argument("--reaper-passes", type=int, default=5, help="idle reaper passes timed")
    parser.add_argument("--output", type=Path, default=BUILD_DIR / "bench.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    grace_supported = "idle_grace_seconds" in module_variables()
    scale = make_scale(args.scale, args.hold_seconds, grace_supported)
    settings.timings.nat_pending_seconds = scale.nat_pending_seconds
    settings.timings.nat_deleting_seconds = scale.nat_deleting_seconds
    _say(report.settings_lines(scale.as_dict(), args.runs))

    bench = Bench(args, scale)
    bench.run()
    summary = report.summarise_runs(bench.records, COLUMNS, scale)
    unsupported = [] if grace_supported else [COLUMNS[-1].label]
    result = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench",
        "arguments": vars(args) | {"output": str(args.output)},
        "scale": scale.as_dict(),
        "idle_grace_supported": grace_supported,
        "summary": summary,
        **bench.result,
        "runs": [r.as_dict() for r in bench.records],
        "problems": bench.problems,
        "seconds": round(time.monotonic() - started),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")

    _say()
    _say(report.render(result, unsupported))
    _say(f"JSON: {args.output}; {result['seconds']} s in all.")
    if bench.problems:
        _say("BENCH FAILED:\n  " + "\n  ".join(bench.problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
