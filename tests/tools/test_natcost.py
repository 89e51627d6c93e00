"""The cost estimator (tools/natcost): billing rules, schedules, prices, the README's figures."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from typing import Any

import pytest

from natcost import schedule
from natcost.__main__ import main
from natcost.model import (
    POLL_CONTROLLER_STATES,
    POLL_STATES,
    RUN_CONTROLLER_STATES,
    RUN_STATES,
    Line,
    NatGatewayLife,
    Usage,
    UsageError,
    estimate,
    simulate,
)
from natcost.prices import PRICES_FILE, PriceFileError, RegionPrices, load_prices
from tfdocs import REPO_ROOT

US_EAST_1 = load_prices("us-east-1")
TOKYO = load_prices("ap-northeast-1")
DAY = 86_400


def daily(runs: float, minutes: float, **kwargs: Any) -> Usage:
    """`runs` a day, evenly spaced over a 30-day month, `minutes` of workload each."""
    return Usage(starts=schedule.evenly(runs, 30), run_seconds=minutes * 60, **kwargs)


def usd(lines: tuple[Line, ...], item: str) -> float:
    return next(line.usd for line in lines if line.item == item)


def test_one_15_minute_run_a_day_in_us_east_1_bills_30_nat_gateway_hours() -> None:
    result = estimate(daily(1, 15), US_EAST_1)

    assert result.month.runs == 30
    assert len(result.month.nat_gateways) == 30
    assert result.month.billed_nat_hours == 30
    assert usd(result.on_demand, "NAT Gateway hours") == pytest.approx(1.35)
    assert usd(result.on_demand, "Public IPv4 (Elastic IP)") == pytest.approx(3.60)
    # 10 polls of a NAT Gateway ready after 100 s: 7 + 3 x 10 transitions, 3 + 10 calls.
    assert result.transitions == 30 * 37
    assert usd(result.on_demand, "Step Functions") == pytest.approx(0.02775)
    assert result.controller_calls == 30 * 13
    assert result.controller_gb_seconds == pytest.approx(390 * 1.0 * 0.25)
    assert usd(result.on_demand, "Lambda (controller)") == pytest.approx(
        390 * 0.20 / 1e6 + 97.5 * 0.0000166667
    )
    # The reaper's scheduled passes: every 5 minutes, 1 s at 256 MB.
    assert usd(result.on_demand, "Lambda (reaper)") == pytest.approx(
        8_640 * 0.20 / 1e6 + 2_160 * 0.0000166667
    )
    assert result.on_demand_usd == pytest.approx(5.0171811)
    assert result.always_on_usd == pytest.approx(32.40 + 3.60)
    assert result.breakeven_hours_per_day == pytest.approx((36.0 - 3.6671811) / 1.35)


def test_a_run_past_the_hour_bills_two_started_hours() -> None:
    # 100 s to create + 59 minutes of workload: 60 min 40 s, two started hours.
    result = estimate(daily(1, 59), US_EAST_1)

    assert result.month.billed_nat_hours == 60
    assert usd(result.on_demand, "NAT Gateway hours") == pytest.approx(2.70)


def test_runs_within_the_idle_grace_share_one_nat_gateway() -> None:
    apart = simulate(daily(4, 15))
    shared = simulate(daily(4, 15, idle_grace_seconds=6 * 3_600))

    assert (len(apart.nat_gateways), apart.billed_nat_hours) == (120, 120)
    assert (len(shared.nat_gateways), shared.billed_nat_hours) == (1, 720)
    assert shared.polls == 10  # only the first run waits for a NAT Gateway


def test_the_reaper_deletes_an_idle_nat_gateway_at_its_first_pass_after_the_grace() -> None:
    # Released at 100 + 900 s; grace until 1,600 s; passes every 300 s: deleted at 1,800 s.
    assert simulate(Usage(starts=(0.0,), run_seconds=900, idle_grace_seconds=600)).nat_gateways == (
        NatGatewayLife(0.0, 1_800.0),
    )
    # An hourly reaper keeps it into a second billed hour.
    hourly = simulate(
        Usage(
            starts=(0.0,),
            run_seconds=900,
            idle_grace_seconds=3_000,
            reaper_interval_seconds=3_600,
        )
    )
    assert hourly.billed_nat_hours == 2


def test_a_grace_within_the_billed_hour_shares_only_inside_a_paid_hour() -> None:
    every_45_minutes = {"runs": 32, "minutes": 5}

    no_grace = simulate(daily(**every_45_minutes))
    grace = simulate(daily(**every_45_minutes, idle_grace_seconds=3_600))
    within = simulate(
        daily(**every_45_minutes, idle_grace_seconds=3_600, idle_grace_within_billed_hour=True)
    )

    assert no_grace.billed_nat_hours == 32 * 30  # a NAT Gateway and a started hour a run
    assert grace.billed_nat_hours == 720  # never idle long enough to be deleted
    # Two runs an hour and a half share one NAT Gateway, deleted before its second hour.
    assert (len(within.nat_gateways), within.billed_nat_hours) == (16 * 30, 16 * 30)


def test_overlapping_runs_share_one_nat_gateway_without_grace() -> None:
    month = simulate(daily(24 * 6, 30))  # every 10 minutes, 30 minutes each

    assert len(month.nat_gateways) == 1
    assert month.billed_nat_hours == 720  # still up at the month's end: billed to it


def test_a_run_joining_a_pending_nat_gateway_polls_until_it_is_ready() -> None:
    month = simulate(Usage(starts=(0.0, 50.0), run_seconds=60, nat_create_seconds=100))

    assert len(month.nat_gateways) == 1
    assert month.polls == 10 + 5
    assert month.nat_gateways[0].deleted == 100 + 60


def test_many_short_nat_gateways_cost_more_than_always_on() -> None:
    result = estimate(daily(48, 5), TOKYO)  # every 30 min, no grace: 1,440 NAT Gateways

    assert result.month.billed_nat_hours == 1_440
    assert result.on_demand_usd > result.always_on_usd
    assert result.breakeven_hours_per_day < 48


def test_data_processed_is_charged_in_both_setups() -> None:
    result = estimate(daily(1, 15, gb_per_run=2), US_EAST_1)

    assert usd(result.on_demand, "Data processed") == pytest.approx(2.70)
    assert usd(result.always_on, "Data processed") == pytest.approx(2.70)


def test_always_on_pays_a_nat_gateway_and_an_address_per_az() -> None:
    result = estimate(daily(1, 15, always_on_azs=3), US_EAST_1)

    assert usd(result.always_on, "NAT Gateway hours") == pytest.approx(3 * 720 * 0.045)
    assert usd(result.always_on, "Public IPv4 (Elastic IP)") == pytest.approx(3 * 720 * 0.005)
    assert usd(result.on_demand, "Public IPv4 (Elastic IP)") == pytest.approx(720 * 0.005)


def test_tokyo_prices_the_nat_gateway_hour_at_0_062() -> None:
    result = estimate(daily(1, 15), TOKYO)

    assert usd(result.on_demand, "NAT Gateway hours") == pytest.approx(30 * 0.062)
    assert usd(result.always_on, "NAT Gateway hours") == pytest.approx(44.64)


def test_usage_out_of_range_is_refused_with_every_reason() -> None:
    with pytest.raises(UsageError, match=r"run seconds must be more than 0.*idle grace"):
        estimate(daily(1, 0, idle_grace_seconds=-1), US_EAST_1)


def test_schedules_give_start_times_over_the_month() -> None:
    assert schedule.evenly(1, 30) == tuple(day * DAY for day in range(30))
    assert len(schedule.parse("rate(6 hours)", 30)) == 120
    assert len(schedule.parse("rate(1 day)", 30)) == 30
    assert schedule.parse("cron(30 2 * * ? *)", 2) == (2 * 3_600 + 1_800, DAY + 2 * 3_600 + 1_800)
    # The month starts on a Monday: 22 weekdays in 30 days, 9 runs each.
    assert len(schedule.parse("cron(0 9-17 ? * MON-FRI *)", 30)) == 22 * 9
    assert len(schedule.parse("cron(*/15 * * * ? *)", 1)) == 96
    assert len(schedule.parse("cron(0 0 ? * 1,7 *)", 7)) == 2  # AWS: 1 = SUN, 7 = SAT


@pytest.mark.parametrize(
    "expression",
    ["every day", "rate(0 hours)", "cron(0 2 * * ?)", "cron(0 2 L * ? *)", "cron(0 25 * * ? *)"],
)
def test_unreadable_schedules_are_refused(expression: str) -> None:
    with pytest.raises(schedule.ScheduleError):
        schedule.parse(expression, 30)


def test_every_region_has_every_figure_with_source_date_and_basis() -> None:
    with PRICES_FILE.open("rb") as handle:
        regions = tomllib.load(handle)

    assert set(regions) >= {"us-east-1", "ap-northeast-1"}
    for region in regions:
        prices = load_prices(region)
        assert len(prices.figures()) == 6
        for _key, price in prices.figures():
            assert price.source and re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.as_of)
    assert US_EAST_1.unconfirmed() == []


def test_an_unknown_region_names_the_known_ones() -> None:
    with pytest.raises(PriceFileError, match=r"no prices for 'eu-west-9'.*us-east-1"):
        load_prices("eu-west-9")


def test_figures_are_the_public_prices_of_late_2026() -> None:
    assert (US_EAST_1.nat_gateway_hour.usd, US_EAST_1.nat_gateway_gb.usd) == (0.045, 0.045)
    assert US_EAST_1.public_ipv4_hour.usd == 0.005
    assert US_EAST_1.sfn_1000_transitions.usd == 0.025
    assert (US_EAST_1.lambda_gb_second.usd, US_EAST_1.lambda_million_requests.usd) == (
        0.0000166667,
        0.20,
    )
    assert TOKYO.nat_gateway_hour.usd == 0.062
    assert isinstance(TOKYO, RegionPrices)


def test_counted_states_are_the_workflows_success_path() -> None:
    """Drift guard: change RUN_STATES and friends when the ASL changes."""
    states = json.loads((REPO_ROOT / "stepfunctions" / "workflow.asl.json.tftpl").read_text())
    success_path = _reachable_without_catch(states)
    controller_tasks = {
        name
        for name in success_path
        if states["States"][name].get("Parameters", {}).get("FunctionName")
        == "${controller_function_arn}"
    }

    assert success_path == set(RUN_STATES) | set(POLL_STATES)
    assert controller_tasks == set(RUN_CONTROLLER_STATES) | set(POLL_CONTROLLER_STATES)


def _reachable_without_catch(definition: dict[str, Any]) -> set[str]:
    """States a run can enter without an error: Next, Choices and Default, no Catch."""
    seen: set[str] = set()
    todo = [definition["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = definition["States"][name]
        todo += [choice["Next"] for choice in state.get("Choices", [])]
        todo += [state[key] for key in ("Next", "Default") if key in state]
    return seen


def test_cli_prints_the_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs-per-day", "1", "--run-minutes", "15"]) == 0
    out = " ".join(capsys.readouterr().out.split())

    assert "30 billed hours, each started hour in full" in out
    assert "Total a month 5.02 36.00" in out
    assert "saves 30.98 USD a month (86 %) against always-on in 1 AZ" in out
    assert "Assumptions:" in out


def test_cli_reports_bad_input_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--schedule", "weekly"]) == 2
    assert "natcost: 'weekly'" in capsys.readouterr().err


def test_readme_cost_examples_are_the_estimators_current_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    examples = re.findall(r"```console\n\$ make cost ARGS=([^\n]+)\n(.*?)```", readme, re.DOTALL)

    assert len(examples) >= 2
    for quoted_args, quoted_output in examples:
        assert main(shlex.split(shlex.split(quoted_args)[0])) == 0
        assert capsys.readouterr().out == quoted_output, f"README example {quoted_args} is stale"


def test_readme_quotes_the_price_files_figures() -> None:
    text = " ".join((REPO_ROOT / "README.md").read_text().split())

    assert f"{US_EAST_1.nat_gateway_hour.usd} USD per hour" in text
    assert f"{US_EAST_1.nat_gateway_gb.usd} USD per GB processed" in text
    assert f"Tokyo {TOKYO.nat_gateway_hour.usd} per hour" in text
    assert f"{US_EAST_1.public_ipv4_hour.usd} USD per hour" in text
    assert f"{US_EAST_1.sfn_1000_transitions.usd} USD per 1,000 state transitions" in text
