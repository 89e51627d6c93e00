"""The reaper: clean up after runs that could not clean up after themselves.

Step Functions runs Catch only for errors inside a task: a stopped (ABORTED)
or timed-out execution, or one whose release path failed past its retries,
leaves its lease entry, and maybe its NAT Gateway and routes, behind. The
reaper runs on every such execution's status change and on a schedule. Each
pass is idempotent and safe while healthy runs are under way:

1. holders whose executions are no longer RUNNING are released on their
   behalf (the last one tears down, as its own release would have);
2. a stale lock (its owner's Lambda timed out) is broken;
3. a retired NAT Gateway whose teardown stopped part way is torn down;
4. an idle NAT Gateway past its grace, or one nobody holds, is torn down;
5. NAT Gateways of this module that no lease points at are torn down once
   older than a controller timeout (their creator can no longer record them);
6. while nobody holds the lease, routes to this module's dead NAT Gateways
   are deleted, under the lease lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from nat_on_demand import nat, routes, steps
from nat_on_demand.config import Config
from nat_on_demand.lease import Lease, LeaseTable

logger = Logger(child=True)

# Answers an execution ARN with its status, or None when it does not exist.
ExecutionStatus = Callable[[str], "str | None"]


@dataclass
class Sweep:
    """What one reaper pass did."""

    released_holders: list[str] = field(default_factory=list)
    torn_down: list[str] = field(default_factory=list)
    routes_deleted: list[routes.RouteChange] = field(default_factory=list)
    broken_locks: list[str] = field(default_factory=list)
    # Of torn_down, those whose idle grace had ended: work the reaper is
    # meant to do, not a clean-up after a run.
    grace_ended: list[str] = field(default_factory=list)
    # How long each NAT Gateway torn down in this pass had existed, when known.
    uptimes: list[float] = field(default_factory=list)
    # Seconds since the longest-unheld live NAT Gateway was last held (or created).
    unheld_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "released_holders": self.released_holders,
            "torn_down_nat_gateway_ids": self.torn_down,
            "routes_deleted": [change.as_dict() for change in self.routes_deleted],
            "broken_locks": self.broken_locks,
            "idle_grace_ended_nat_gateway_ids": self.grace_ended,
            "unheld_seconds": self.unheld_seconds,
        }

    @property
    def cleaned_up(self) -> int:
        """How many things this pass had to clean: each one means a run did not.

        A NAT Gateway deleted because its idle grace ended is not one.
        """
        unexpected = [nat_id for nat_id in self.torn_down if nat_id not in self.grace_ended]
        return len(self.released_holders) + len(unexpected) + len(self.routes_deleted)


def reap(config: Config, execution_status: ExecutionStatus, name: str) -> Sweep:
    """One pass of the reaper; `name` identifies it in the lease lock."""
    sweep = Sweep()
    table = steps.lease_table(config)
    _release_ended_holders(config, table, execution_status, sweep)
    lease = _break_stale_lock(config, table, sweep)
    if lease.retiring_nat_gateway_id is not None:
        steps.settle_retired(config, table, lease)
        lease = table.get()
    _retire_unused(config, table, lease, name, sweep)
    _tear_down_orphans(config, table.get(), sweep)
    _delete_dead_routes(config, table, name, sweep)
    sweep.unheld_seconds = _unheld_seconds(config, table.get())
    return sweep


def _release_ended_holders(
    config: Config, table: LeaseTable, execution_status: ExecutionStatus, sweep: Sweep
) -> None:
    for holder in sorted(table.get().holders):
        status = execution_status(holder)
        if status == "RUNNING":
            continue
        logger.warning(
            "Releasing for an ended run", extra={"holder": holder, "execution_status": status}
        )
        result = steps.release(config, holder)
        sweep.released_holders.append(holder)
        if result.torn_down_nat_gateway_id is not None:
            sweep.torn_down.append(result.torn_down_nat_gateway_id)
        if result.uptime_seconds is not None:
            sweep.uptimes.append(result.uptime_seconds)
        sweep.routes_deleted.extend(result.route_changes)


def _break_stale_lock(config: Config, table: LeaseTable, sweep: Sweep) -> Lease:
    lease = table.get()
    owner = lease.lock_owner
    if owner is None or not lease.lock_is_stale(time.time(), steps.lock_stale_after(config)):
        return lease
    # Its owner was removing the routes of an idle NAT Gateway (or sweeping);
    # finish that first, so a run waiting for the lock finds no stale route.
    if lease.nat_gateway_id is not None and not lease.holders:
        sweep.routes_deleted.extend(
            routes.detach(config, lease.nat_gateway_id, {lease.nat_gateway_id})
        )
    if table.release_lock(owner, since=lease.lock_since):
        logger.warning("Broke stale lease lock", extra={"lock_owner": owner})
        sweep.broken_locks.append(owner)
    return table.get()


def _retire_unused(
    config: Config, table: LeaseTable, lease: Lease, name: str, sweep: Sweep
) -> None:
    nat_id = lease.nat_gateway_id
    if nat_id is None or lease.holders or lease.lock_owner is not None:
        return
    if lease.idle_until is not None:
        if time.time() < lease.idle_until or not table.retire_idle(lease, by=name):
            return
        logger.info("Idle grace ended", extra={"nat_gateway_id": nat_id})
        sweep.grace_ended.append(nat_id)
    elif table.retire_unheld(lease, by=name):
        logger.warning("NAT Gateway had no holder", extra={"nat_gateway_id": nat_id})
    else:
        return
    done = steps.teardown(config, nat_id, lease.nat_history)
    # Routes of an idle NAT Gateway were removed by the last release; any
    # found now were left behind, and count as a clean-up.
    sweep.routes_deleted.extend(done.route_changes)
    sweep.torn_down.append(nat_id)
    if done.uptime_seconds is not None:
        sweep.uptimes.append(done.uptime_seconds)


def _tear_down_orphans(config: Config, lease: Lease, sweep: Sweep) -> None:
    known = {lease.nat_gateway_id, lease.retiring_nat_gateway_id}
    # A NAT Gateway is recorded in the lease within the Lambda invocation that
    # created it; past that invocation's timeout, an unrecorded one is orphaned.
    cutoff = time.time() - steps.lock_stale_after(config)
    for candidate in nat.find_owned(config, states=nat.LIVE_STATES):
        if candidate.id in known or (candidate.created_at or 0) > cutoff:
            continue
        logger.warning("Tearing down orphaned NAT Gateway", extra={"nat_gateway_id": candidate.id})
        done = steps.teardown(config, candidate.id, lease.nat_history)
        sweep.routes_deleted.extend(done.route_changes)
        sweep.torn_down.append(candidate.id)


def _delete_dead_routes(config: Config, table: LeaseTable, name: str, sweep: Sweep) -> None:
    lease = table.get()
    if lease.holders or lease.lock_owner is not None or lease.retiring_nat_gateway_id:
        return
    owned = nat.find_owned(config)
    live = {n.id for n in owned if n.live}
    dead = (lease.nat_history | {n.id for n in owned}) - live
    if not dead:
        return
    # EC2 deletes a route by destination: hold the lock so that no run adds a
    # route to a live NAT Gateway between our describe and our delete.
    locked = table.take_lock(name)
    if locked is None:
        return
    try:
        changes = routes.detach(config, None, dead)
    finally:
        table.release_lock(name)
    for change in changes:
        logger.warning("Deleted dead route", extra=change.as_dict())
    sweep.routes_deleted.extend(changes)


def _unheld_seconds(config: Config, lease: Lease) -> float:
    """How long the longest-unheld live NAT Gateway of this instance has had no holder."""
    now = time.time()
    ages = []
    for candidate in nat.find_owned(config, states=nat.LIVE_STATES):
        current = candidate.id == lease.nat_gateway_id
        if current and lease.holders:
            continue
        since = lease.idle_since if current and lease.idle_since else candidate.created_at
        ages.append(now - (since if since is not None else now))
    return round(max(ages, default=0.0), 1)
