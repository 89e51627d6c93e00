"""The run watcher records what an operator polling AWS would have seen, in order."""

from __future__ import annotations

from typing import Any

from emulator.timeline import Watcher


class _Looks:
    """EC2 answers that change with each look the watcher takes."""

    def __init__(self, nat_states: list[str], routed: list[bool]) -> None:
        self.nat_states = nat_states
        self.routed = routed
        self.look = 0

    def describe_nat_gateways(self, **_: Any) -> dict[str, Any]:
        state = self.nat_states[min(self.look, len(self.nat_states) - 1)]
        return {"NatGateways": [{"NatGatewayId": "nat-0123456789abcdef0", "State": state}]}

    def describe_route_tables(self, **_: Any) -> dict[str, Any]:
        routed = self.routed[min(self.look, len(self.routed) - 1)]
        self.look += 1
        routes = [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}]
        if routed:
            routes.append(
                {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0123456789abcdef0"}
            )
        return {"RouteTables": [{"RouteTableId": "rtb-1", "Routes": routes}]}


def _watcher(looks: _Looks) -> Watcher:
    return Watcher(
        lambda _service: looks,
        tag=("nat-on-demand:instance", "t"),
        route_table_ids=["rtb-1"],
        destinations=["0.0.0.0/0"],
        interval=3600,
    )


def _watch(looks: _Looks, polls: int) -> list[tuple[str, str]]:
    watcher = _watcher(looks)
    for _ in range(polls):
        watcher._poll()
    return [(e.subject, e.what) for e in watcher.events]


def test_a_deletion_passed_between_two_looks_still_reads_deleting_then_deleted():
    looks = _Looks(["available", "available", "deleted"], [False, True, False])

    assert _watch(looks, 3) == [
        ("nat-0123456789abcdef0", "available"),
        ("rtb-1", "route added"),
        ("rtb-1", "route removed"),
        ("nat-0123456789abcdef0", "deleting"),
        ("nat-0123456789abcdef0", "deleted"),
    ]


def test_a_deletion_seen_under_way_is_recorded_once():
    looks = _Looks(["available", "deleting", "deleted"], [True, False, False])

    assert _watch(looks, 3) == [
        ("nat-0123456789abcdef0", "available"),
        ("rtb-1", "route removed"),
        ("nat-0123456789abcdef0", "deleting"),
        ("nat-0123456789abcdef0", "deleted"),
    ]


def test_a_nat_gateway_deleted_before_the_watch_began_is_not_news():
    watcher = _watcher(_Looks(["deleted"], [False]))

    watcher.start()
    watcher.stop()

    assert watcher.events == []
