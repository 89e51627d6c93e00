"""The lease: which runs hold the NAT Gateway of one slot, in one DynamoDB item.

Every change is a single conditional UpdateItem, so concurrent runs never
read-modify-write: DynamoDB applies conditional writes to one item one at a
time. Attributes of the item (key `pk`, the slot's lease id):

- holders: string set of the execution ARNs holding the NAT Gateway;
- nat_gateway_id: the slot's current NAT Gateway, absent when there is none;
- generation: bumped whenever a NAT Gateway is given up; the create token of
  the next NAT Gateway derives from it, so all runs of a generation share one;
- retiring_nat_gateway_id / retiring_by: a NAT Gateway being torn down, and
  the run tearing it down. Until it is `deleted` its Elastic IP is still
  associated, so no new NAT Gateway can be made: new runs wait;
- nat_recorded_at: epoch seconds when nat_gateway_id was recorded;
- idle_since / idle_until: the NAT Gateway has had no holder since
  idle_since and is kept (without routes) until idle_until, for a
  back-to-back run to reuse; the reaper retires it after that;
- lock_owner / lock_since: someone is removing routes while nobody holds the
  lease (a last release under idle grace, or the reaper sweeping dead
  routes). New runs wait until it is released, or stale: a route they added
  meanwhile could be deleted, since EC2 deletes a route by destination;
- nat_history: every NAT Gateway id this slot ever recorded, to recognise our
  own dead routes after EC2 stops listing the NAT Gateway (about an hour);
- updated_at: epoch seconds of the last change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from nat_on_demand import aws


@dataclass(frozen=True)
class Lease:
    holders: frozenset[str]
    nat_gateway_id: str | None
    generation: int
    retiring_nat_gateway_id: str | None
    retiring_by: str | None
    nat_history: frozenset[str]
    nat_recorded_at: int = 0
    idle_since: int | None = None
    idle_until: int | None = None
    lock_owner: str | None = None
    lock_since: int = 0

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> Lease:
        item = item or {}
        return cls(
            holders=frozenset(item.get("holders", {}).get("SS", [])),
            nat_gateway_id=item.get("nat_gateway_id", {}).get("S"),
            generation=int(item.get("generation", {}).get("N", "0")),
            retiring_nat_gateway_id=item.get("retiring_nat_gateway_id", {}).get("S"),
            retiring_by=item.get("retiring_by", {}).get("S"),
            nat_history=frozenset(item.get("nat_history", {}).get("SS", [])),
            nat_recorded_at=int(item.get("nat_recorded_at", {}).get("N", "0")),
            idle_since=_optional_int(item, "idle_since"),
            idle_until=_optional_int(item, "idle_until"),
            lock_owner=item.get("lock_owner", {}).get("S"),
            lock_since=int(item.get("lock_since", {}).get("N", "0")),
        )

    def lock_is_stale(self, now: float, stale_after: float) -> bool:
        return self.lock_owner is not None and now - self.lock_since > stale_after


def _optional_int(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name, {}).get("N")
    return None if value is None else int(value)


class LeaseTable:
    """Conditional operations on the lease item of one slot."""

    def __init__(self, table_name: str, lease_id: str) -> None:
        self.table_name = table_name
        self.lease_id = lease_id

    def get(self) -> Lease:
        with aws.calling(f"GetItem {self.table_name} {self.lease_id}"):
            response = aws.dynamodb().get_item(
                TableName=self.table_name, Key=self._key(), ConsistentRead=True
            )
        return Lease.from_item(response.get("Item"))

    def join(self, holder: str) -> Lease:
        """Add `holder` (again: a no-op, sets have no duplicates); an idle NAT is held again."""
        item = self._update(
            "ADD holders :holder_set SET updated_at = :now, "
            "generation = if_not_exists(generation, :zero) REMOVE idle_since, idle_until",
            {":holder_set": {"SS": [holder]}, ":zero": {"N": "0"}},
        )
        assert item is not None
        return Lease.from_item(item)

    def leave_unless_last(self, holder: str) -> Lease | None:
        """Drop `holder` if others still hold the lease; None if it is the last or absent."""
        item = self._update(
            "DELETE holders :holder_set SET updated_at = :now",
            {":holder_set": {"SS": [holder]}, ":holder": {"S": holder}, ":one": {"N": "1"}},
            condition="contains(holders, :holder) AND size(holders) > :one",
        )
        return None if item is None else Lease.from_item(item)

    def leave_as_last(self, holder: str, lease: Lease) -> bool:
        """Drop the last holder and, in the same write, retire the NAT Gateway it held.

        Fails (False) if anyone joined, left or changed the NAT Gateway since
        `lease` was read; the caller reads again.
        """
        values: dict[str, Any] = {
            ":holder_set": {"SS": [holder]},
            ":holder": {"S": holder},
            ":one": {"N": "1"},
        }
        condition = "contains(holders, :holder) AND size(holders) = :one"
        if lease.nat_gateway_id is None:
            return (
                self._update(
                    "DELETE holders :holder_set SET updated_at = :now",
                    values,
                    condition=condition + " AND attribute_not_exists(nat_gateway_id)",
                )
                is not None
            )
        values |= {":nat": {"S": lease.nat_gateway_id}, ":generation": {"N": str(lease.generation)}}
        return (
            self._update(
                "DELETE holders :holder_set "
                "SET generation = generation + :one, retiring_nat_gateway_id = :nat, "
                "retiring_by = :holder, updated_at = :now REMOVE nat_gateway_id",
                values,
                condition=condition + " AND generation = :generation AND nat_gateway_id = :nat",
            )
            is not None
        )

    def leave_as_last_idle(self, holder: str, lease: Lease, idle_until: int) -> bool:
        """Drop the last holder, keep the NAT Gateway idle until `idle_until`, take the lock.

        The lock keeps new runs from adding routes while this release removes them.
        """
        assert lease.nat_gateway_id is not None
        return (
            self._update(
                "DELETE holders :holder_set SET idle_since = :now, idle_until = :until, "
                "lock_owner = :holder, lock_since = :now, updated_at = :now",
                {
                    ":holder_set": {"SS": [holder]},
                    ":holder": {"S": holder},
                    ":one": {"N": "1"},
                    ":until": {"N": str(idle_until)},
                    ":nat": {"S": lease.nat_gateway_id},
                    ":generation": {"N": str(lease.generation)},
                },
                condition="contains(holders, :holder) AND size(holders) = :one "
                "AND nat_gateway_id = :nat AND generation = :generation "
                "AND attribute_not_exists(lock_owner)",
            )
            is not None
        )

    def take_lock(self, owner: str) -> Lease | None:
        """Take the lock while nobody holds the lease (the reaper, before sweeping routes)."""
        item = self._update(
            "SET lock_owner = :owner, lock_since = :now, updated_at = :now",
            {":owner": {"S": owner}},
            condition="attribute_not_exists(holders) AND attribute_not_exists(lock_owner) "
            "AND attribute_not_exists(retiring_nat_gateway_id)",
        )
        return None if item is None else Lease.from_item(item)

    def release_lock(self, owner: str, since: int | None = None) -> bool:
        """Release the lock if `owner` still has it (and, to break a stale one, since `since`)."""
        values: dict[str, Any] = {":owner": {"S": owner}}
        condition = "lock_owner = :owner"
        if since is not None:
            values[":since"] = {"N": str(since)}
            condition += " AND lock_since = :since"
        return (
            self._update(
                "SET updated_at = :now REMOVE lock_owner, lock_since", values, condition=condition
            )
            is not None
        )

    def retire_idle(self, lease: Lease, by: str) -> bool:
        """Retire an idle NAT Gateway whose grace has ended, unless a run took it meanwhile."""
        assert lease.nat_gateway_id is not None and lease.idle_until is not None
        return (
            self._update(
                "SET generation = generation + :one, retiring_nat_gateway_id = :nat, "
                "retiring_by = :by, updated_at = :now "
                "REMOVE nat_gateway_id, idle_since, idle_until",
                {
                    ":one": {"N": "1"},
                    ":nat": {"S": lease.nat_gateway_id},
                    ":by": {"S": by},
                    ":until": {"N": str(lease.idle_until)},
                },
                condition="attribute_not_exists(holders) AND attribute_not_exists(lock_owner) "
                "AND nat_gateway_id = :nat AND idle_until = :until",
            )
            is not None
        )

    def retire_unheld(self, lease: Lease, by: str) -> bool:
        """Retire a NAT Gateway that nobody holds and that is not idle (its release was lost)."""
        assert lease.nat_gateway_id is not None
        return (
            self._update(
                "SET generation = generation + :one, retiring_nat_gateway_id = :nat, "
                "retiring_by = :by, updated_at = :now REMOVE nat_gateway_id",
                {":one": {"N": "1"}, ":nat": {"S": lease.nat_gateway_id}, ":by": {"S": by}},
                condition="attribute_not_exists(holders) AND attribute_not_exists(lock_owner) "
                "AND attribute_not_exists(idle_until) AND nat_gateway_id = :nat",
            )
            is not None
        )

    def record_nat(self, generation: int, nat_gateway_id: str) -> bool:
        """Make `nat_gateway_id` the slot's NAT Gateway, if `generation` is still current."""
        return (
            self._update(
                "SET nat_gateway_id = :nat, nat_recorded_at = :now, updated_at = :now "
                "ADD nat_history :nat_set",
                {
                    ":nat": {"S": nat_gateway_id},
                    ":nat_set": {"SS": [nat_gateway_id]},
                    ":generation": {"N": str(generation)},
                },
                condition="generation = :generation "
                "AND attribute_not_exists(retiring_nat_gateway_id) "
                "AND (attribute_not_exists(nat_gateway_id) OR nat_gateway_id = :nat)",
            )
            is not None
        )

    def drop_nat(self, nat_gateway_id: str, *, wait_for_deletion: bool) -> bool:
        """Give up the current NAT Gateway (failed, deleted by someone, or vanished).

        With `wait_for_deletion`, new runs wait until it is `deleted` (its
        Elastic IP is associated until then); otherwise they create a new one.
        """
        update = "SET generation = generation + :one, updated_at = :now"
        if wait_for_deletion:
            update += ", retiring_nat_gateway_id = :nat"
        return (
            self._update(
                update + " REMOVE nat_gateway_id",
                {":nat": {"S": nat_gateway_id}, ":one": {"N": "1"}},
                condition="nat_gateway_id = :nat",
            )
            is not None
        )

    def clear_retiring(self, nat_gateway_id: str) -> bool:
        """Forget a retired NAT Gateway once it is deleted."""
        return (
            self._update(
                "SET updated_at = :now REMOVE retiring_nat_gateway_id, retiring_by",
                {":nat": {"S": nat_gateway_id}},
                condition="retiring_nat_gateway_id = :nat",
            )
            is not None
        )

    def _key(self) -> dict[str, Any]:
        return {"pk": {"S": self.lease_id}}

    def _update(
        self,
        expression: str,
        values: dict[str, Any],
        *,
        condition: str | None = None,
    ) -> dict[str, Any] | None:
        """Run one UpdateItem; the new item, or None if the condition failed."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}, **values},
            "ReturnValues": "ALL_NEW",
        }
        if condition is not None:
            request["ConditionExpression"] = condition
        try:
            response = aws.dynamodb().update_item(**request)
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                return None
            raise aws.to_domain_error(error, f"UpdateItem {self.table_name}") from error
        return dict(response.get("Attributes", {}))
