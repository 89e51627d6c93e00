"""`make bench`'s route-table scaling drives both designs' code and leaves nothing behind.

A smoke test with 1 and 3 route tables: it keeps the bench working as the
module's domain code changes, and checks the claim the bench reports, that
route changes grow with route tables while the module's describes do not.
Nothing is timed.
"""

from __future__ import annotations

from bench.scaling import RouteScaling
from emulator.api_calls import ApiCallRecorder
from emulator.server import LocalAws


def test_one_route_change_per_table_and_module_describes_do_not_grow() -> None:
    with LocalAws() as aws, ApiCallRecorder() as recorder:
        scaling = RouteScaling(aws, recorder)
        one, three = scaling.measure([1, 3], repetitions=1)

    assert scaling.problems == []
    for result in (one, three):
        tables = result["route_tables"]
        for design in ("on-demand", "baseline"):
            attach = result[design]["attach"]["ec2_calls"]
            detach = result[design]["detach"]["ec2_calls"]
            assert attach["CreateRoute"] == tables
            assert detach["DeleteRoute"] == tables
            assert detach["DeleteNatGateway"] == 1
        assert result["baseline"]["attach"]["ec2_calls"]["DescribeRouteTables"] == tables
    describes = [r["on-demand"]["attach"]["ec2_calls"]["DescribeRouteTables"] for r in (one, three)]
    assert describes[0] == describes[1]
