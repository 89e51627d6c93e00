"""EC2 fidelity: NAT Gateways, Elastic IPs and routes as AWS runs them.

moto 5.2.5 makes a NAT Gateway `available` at once, deletes it at once, ignores
ClientToken and tag filters, and never turns a route into a blackhole. The
module under test depends on each of those behaviours, so this layer puts them
back, small and in one place:

- NAT Gateway lifecycle in time (pending -> available | failed; deleting ->
  deleted -> gone), applied lazily before every EC2 action from
  `settings.clock` and `settings.timings`;
- ClientToken idempotency of CreateNatGateway;
- DescribeNatGateways filters and not-found errors;
- asynchronous failures (no internet gateway, EIP already associated, forced);
- blackhole routes and route targets that must exist;
- ReleaseAddress refused while a NAT Gateway holds the address.

All state changes happen inside an EC2 action, which `dispatch` runs under the
EC2 lock: a check-then-create (ClientToken) is atomic as on AWS. Per-backend
state lives on the moto backend object itself, so moto's backend reset
(`/moto-api/reset`, `mock_aws` start) discards it with the backend.
"""

from __future__ import annotations

import datetime
import fnmatch
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import utcnow
from moto.ec2.exceptions import EC2ClientError, InvalidFilter
from moto.ec2.models import ec2_backends
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.models.elastic_ip_addresses import ElasticAddressBackend
from moto.ec2.models.nat_gateways import NatGateway, NatGatewayBackend
from moto.ec2.models.route_tables import Route, RouteBackend
from moto.ec2.responses.elastic_ip_addresses import ElasticIPAddresses
from moto.ec2.responses.nat_gateways import NatGateways

from emulator import dispatch, settings

# NAT Gateway states that still hold the Elastic IP and the network interface.
_HOLDING_STATES = ("pending", "available", "deleting")
# A route to a NAT Gateway in one of these states (or to one no longer listed)
# carries no traffic: DescribeRouteTables reports it as `blackhole`.
_BLACKHOLE_STATES = ("deleting", "deleted", "failed")
# DescribeNatGateways accepts these filter names (plus `tag:<key>`); see the
# EC2 API reference for DescribeNatGateways.
_NAT_FILTERS = ("nat-gateway-id", "state", "subnet-id", "vpc-id", "tag-key", "tag-value")

_TOKENS_ATTR = "_emulator_nat_client_tokens"
_LIFECYCLE_ATTR = "_emulator_lifecycle"


@dataclass(frozen=True)
class _ForcedFailure:
    code: str
    message: str
    subnet_id: str | None


@dataclass
class _Lifecycle:
    """Where a NAT Gateway is in its AWS lifecycle, in `settings.clock` seconds."""

    # When the current state ends (None: it does not end by itself).
    due: float | None
    # (FailureCode, FailureMessage) the creation ends with; None: it succeeds.
    failure: tuple[str, str] | None
    allocation_id: str | None


@dataclass
class _TokenUse:
    request: str
    nat_gateway: Any


@dataclass
class _State:
    forced_failures: list[_ForcedFailure] = field(default_factory=list)
    installed: bool = False
    originals: dict[str, Callable[..., Any]] = field(default_factory=dict)


_state = _State()
_forced_lock = threading.Lock()


# --------------------------------------------------------------------------- public API


def install() -> None:
    """Patch moto's EC2 models and register the time hook; idempotent."""
    if _state.installed:
        return
    dispatch.install()
    dispatch.add_hook(_before_action)
    _patch(NatGatewayBackend, "create_nat_gateway", _create_nat_gateway)
    _patch(NatGatewayBackend, "delete_nat_gateway", _delete_nat_gateway)
    _patch(NatGatewayBackend, "describe_nat_gateways", _describe_nat_gateways)
    _patch(NatGateways, "create_nat_gateway", _create_nat_gateway_action)
    _patch(RouteBackend, "create_route", _create_route)
    _patch(RouteBackend, "replace_route", _replace_route)
    _patch(ElasticAddressBackend, "release_address", _release_address)
    _patch(ElasticIPAddresses, "release_address", _release_address_action)
    _state.originals["Route.state"] = Route.state.fget  # type: ignore[attr-defined]
    Route.state = property(_route_state)  # type: ignore[assignment,method-assign]
    # AWS reports FailureCode/FailureMessage only for failed NAT Gateways and
    # DeleteTime only for deleted ones: absent (None) until then.
    for attribute in ("failure_code", "failure_message", "delete_time"):
        setattr(NatGateway, attribute, None)
    _state.installed = True


def force_next_nat_failure(code: str, message: str, subnet_id: str | None = None) -> None:
    """Make the next CreateNatGateway (in `subnet_id`, or anywhere) end `failed`.

    AWS reports some failures only after the NAT Gateway was accepted, e.g.
    `InsufficientFreeAddressesInSubnet`; fault-injection tests use this to get them.
    """
    with _forced_lock:
        _state.forced_failures.append(_ForcedFailure(code, message, subnet_id))


def clear_forced_failures() -> None:
    with _forced_lock:
        _state.forced_failures.clear()


def reset() -> None:
    """Forget forced failures and ClientTokens (NAT Gateways stay as moto has them)."""
    clear_forced_failures()
    with dispatch.service_lock("ec2"):
        for account_backends in list(ec2_backends.values()):
            for backend in list(account_backends.values()):
                backend.__dict__.pop(_TOKENS_ATTR, None)


# --------------------------------------------------------------------------- time


def advance(backend: Any) -> None:
    """Move the backend's NAT Gateways on to now (for readers that bypass the API)."""
    _advance(backend, settings.clock.now())


def _before_action(service: str, action: str, response: BaseResponse) -> None:
    # AWS moves NAT Gateways on while nobody looks; here they move, in due
    # order, just before any EC2 action can observe them.
    if service == "ec2":
        _advance(response.ec2_backend, settings.clock.now())  # type: ignore[attr-defined]


def _lifecycle(nat: Any) -> _Lifecycle | None:
    return getattr(nat, _LIFECYCLE_ATTR, None)


def _advance(backend: Any, now: float) -> None:
    while True:
        due = [
            (life.due, nat)
            for nat in list(backend.nat_gateways.values())
            if (life := _lifecycle(nat)) is not None and life.due is not None and life.due <= now
        ]
        if not due:
            return
        at, nat = min(due, key=lambda item: item[0])
        _step(backend, nat, at)


def _step(backend: Any, nat: Any, at: float) -> None:
    life = _lifecycle(nat)
    assert life is not None
    if nat.state == "pending" and life.failure is None:
        # AWS: `pending` for ~1.5-2 min, then `available`.
        nat.state = "available"
        life.due = None
    elif nat.state == "pending" and life.failure is not None:
        # AWS: a NAT Gateway that cannot be set up ends `failed` with
        # FailureCode/FailureMessage, and its network interface goes away.
        nat.state = "failed"
        nat.failure_code, nat.failure_message = life.failure
        _remove_interface(backend, nat)
        life.due = at + settings.timings.nat_deleted_listed_seconds
    elif nat.state == "deleting":
        # AWS: `deleting` for ~40-80 s, then `deleted` with DeleteTime; only
        # then is the Elastic IP disassociated and the interface removed.
        nat.state = "deleted"
        nat.delete_time = _wall_time(at)
        _release_eip(backend, nat)
        _remove_interface(backend, nat)
        life.due = at + settings.timings.nat_deleted_listed_seconds
    else:
        # AWS: deleted and failed NAT Gateways stay listed for about an hour,
        # then DescribeNatGateways no longer knows them.
        backend.nat_gateways.pop(nat.id, None)
        backend.tags.pop(nat.id, None)
        life.due = None


def _wall_time(at: float) -> datetime.datetime:
    return utcnow() - datetime.timedelta(seconds=max(0.0, settings.clock.now() - at))


def _release_eip(backend: Any, nat: Any) -> None:
    for eip in backend.addresses:
        if eip.eni is not None and eip.eni is nat._eni:
            backend.disassociate_address(address=eip.public_ip)
    for address in nat.address_set:
        address.pop("associationId", None)


def _remove_interface(backend: Any, nat: Any) -> None:
    backend.enis.pop(nat._eni.id, None)


# --------------------------------------------------------------------------- CreateNatGateway


def _create_nat_gateway_action(self: Any) -> ActionResult:
    # AWS (EC2 API idempotency guide): a CreateNatGateway retried with the same
    # ClientToken and the same parameters returns the NAT Gateway the first call
    # made, in whatever state it is now; with other parameters it is
    # IdempotentParameterMismatch. Tokens are per account and Region.
    token = self._get_param("ClientToken")
    if not token:
        return _original("NatGateways.create_nat_gateway")(self)  # type: ignore[no-any-return]
    tokens: dict[str, _TokenUse] = self.ec2_backend.__dict__.setdefault(_TOKENS_ATTR, {})
    request = json.dumps(
        {k: v for k, v in self.params.items() if k not in ("ClientToken", "DryRun")},
        sort_keys=True,
        default=str,
    )
    used = tokens.get(token)
    if used is None:
        result = _original("NatGateways.create_nat_gateway")(self)
        used = tokens[token] = _TokenUse(request, result.result["NatGateway"])
    elif used.request != request:
        raise EC2ClientError(
            "IdempotentParameterMismatch",
            "Arguments on this idempotent request are inconsistent with arguments used in"
            " previous request(s).",
        )
    return ActionResult({"ClientToken": token, "NatGateway": used.nat_gateway})


def _create_nat_gateway(
    self: Any,
    subnet_id: str,
    allocation_id: str | None,
    tags: dict[str, str] | None = None,
    connectivity_type: str | None = "public",
) -> Any:
    # AWS rejects an unknown subnet or allocation at once (moto would leave an
    # orphan network interface behind on the second).
    subnet = self.get_subnet(subnet_id)
    if allocation_id and not any(a.allocation_id == allocation_id for a in self.addresses):
        raise EC2ClientError(
            "InvalidAllocationID.NotFound",
            f"The allocation ID '{allocation_id}' does not exist",
        )
    failure = _creation_failure(self, subnet, allocation_id, connectivity_type)
    create = _original("NatGatewayBackend.create_nat_gateway")
    if failure is None:
        nat = create(self, subnet_id, allocation_id, tags, connectivity_type)
    else:
        # A NAT Gateway that fails never gets the Elastic IP associated.
        nat = create(self, subnet_id, None, tags, connectivity_type)
        if allocation_id:
            nat.address_set[0]["allocationId"] = allocation_id
    nat.state = "pending"
    setattr(
        nat,
        _LIFECYCLE_ATTR,
        _Lifecycle(
            due=settings.clock.now() + settings.timings.nat_pending_seconds,
            failure=failure,
            allocation_id=allocation_id,
        ),
    )
    return nat


def _creation_failure(
    backend: Any, subnet: Any, allocation_id: str | None, connectivity_type: str | None
) -> tuple[str, str] | None:
    forced = _take_forced_failure(subnet.id)
    if forced is not None:
        return forced
    if connectivity_type == "private":
        return None
    # AWS: a public NAT Gateway in a VPC without an attached internet gateway
    # ends `failed` with Gateway.NotAttached. (AWS's default VPC comes with an
    # internet gateway; moto's does not, so it counts as attached.)
    if not backend.vpcs[subnet.vpc_id].is_default and not any(
        igw.vpc is not None and igw.vpc.id == subnet.vpc_id
        for igw in backend.internet_gateways.values()
    ):
        return ("Gateway.NotAttached", f"Network {subnet.vpc_id} has no Internet gateway attached")
    # AWS: an Elastic IP associated with anything else (another NAT Gateway
    # included, until that one is `deleted`) ends `failed` with
    # Resource.AlreadyAssociated.
    for eip in backend.addresses:
        if eip.allocation_id == allocation_id and (eip.association_id or eip.eni or eip.instance):
            return (
                "Resource.AlreadyAssociated",
                f"Elastic IP address [{allocation_id}] is already associated",
            )
    return None


def _take_forced_failure(subnet_id: str) -> tuple[str, str] | None:
    with _forced_lock:
        for forced in _state.forced_failures:
            if forced.subnet_id in (None, subnet_id):
                _state.forced_failures.remove(forced)
                return (forced.code, forced.message)
    return None


# --------------------------------------------------------------------------- Delete/Describe


def _not_found(nat_gateway_id: str) -> EC2ClientError:
    return EC2ClientError("NatGatewayNotFound", f"NAT gateway {nat_gateway_id} was not found")


def _delete_nat_gateway(self: Any, nat_gateway_id: str) -> Any:
    nat = self.nat_gateways.get(nat_gateway_id)
    if nat is None:
        # AWS: NatGatewayNotFound (HTTP 400); moto crashes with a 500.
        raise _not_found(nat_gateway_id)
    life = _lifecycle(nat)
    # AWS: deleting a NAT Gateway that is already deleting, deleted or failed
    # succeeds and changes nothing.
    if nat.state in ("pending", "available") and life is not None:
        nat.state = "deleting"
        life.due = settings.clock.now() + settings.timings.nat_deleting_seconds
    return nat


def _describe_nat_gateways(self: Any, filters: Any, nat_gateway_ids: list[str] | None) -> Any:
    nat_gateways = list(self.nat_gateways.values())
    for nat_gateway_id in nat_gateway_ids or []:
        # AWS: asking for an id it does not (or no longer) list is an error.
        if nat_gateway_id not in self.nat_gateways:
            raise _not_found(nat_gateway_id)
    if nat_gateway_ids:
        nat_gateways = [nat for nat in nat_gateways if nat.id in nat_gateway_ids]
    for name in filters or {}:
        # AWS rejects a filter name it does not know; moto ignores it.
        if name not in _NAT_FILTERS and not name.startswith("tag:"):
            raise InvalidFilter(name, "InvalidParameterValue")
    # AWS: filters AND together, the values of one filter OR together, and
    # `*`/`?` are wildcards. (moto's generic_filter treats several values of a
    # list-valued filter as a subset test, so it is not used here.)
    return [
        nat
        for nat in nat_gateways
        if all(
            any(
                fnmatch.fnmatchcase(value, pattern)
                for value in _filter_values(nat, name)
                for pattern in patterns
            )
            for name, patterns in (filters or {}).items()
        )
    ]


def _filter_values(nat: Any, name: str) -> list[str]:
    attribute = {
        "nat-gateway-id": "id",
        "state": "state",
        "subnet-id": "subnet_id",
        "vpc-id": "vpc_id",
    }.get(name)
    value = (
        getattr(nat, attribute)
        if attribute
        else TaggedEC2Resource.get_filter_value(nat, name, "DescribeNatGateways")
    )
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None]


# --------------------------------------------------------------------------- routes


def _route_state(self: Any) -> str:
    # AWS: a route to a NAT Gateway that is deleting, deleted, failed or no
    # longer listed is a `blackhole`; moto always says `active`.
    nat = self.nat_gateway
    if nat is not None and (
        nat.state in _BLACKHOLE_STATES or nat.ec2_backend.nat_gateways.get(nat.id) is not nat
    ):
        return "blackhole"
    return _original("Route.state")(self)  # type: ignore[no-any-return]


def _check_route_target(backend: Any, route_table_id: str, nat_gateway_id: str | None) -> None:
    # AWS: CreateRoute/ReplaceRoute to a NAT Gateway id it does not know is
    # InvalidNatGatewayID.NotFound; moto stores a route with no target. An
    # unknown route table still wins, as it does on AWS.
    if nat_gateway_id and nat_gateway_id not in backend.nat_gateways:
        backend.get_route_table(route_table_id)
        raise EC2ClientError(
            "InvalidNatGatewayID.NotFound",
            f"The natGateway ID '{nat_gateway_id}' does not exist",
        )


def _create_route(self: Any, *args: Any, **kwargs: Any) -> Any:
    return _with_route_target_check("RouteBackend.create_route", self, *args, **kwargs)


def _replace_route(self: Any, *args: Any, **kwargs: Any) -> Any:
    return _with_route_target_check("RouteBackend.replace_route", self, *args, **kwargs)


def _with_route_target_check(key: str, backend: Any, *args: Any, **kwargs: Any) -> Any:
    # moto's callers pass NatGatewayId by position or by keyword.
    original = _original(key)
    arguments = inspect.signature(original).bind(backend, *args, **kwargs).arguments
    _check_route_target(backend, arguments["route_table_id"], arguments.get("nat_gateway_id"))
    return original(backend, *args, **kwargs)


# --------------------------------------------------------------------------- Elastic IPs


def _release_address(
    self: Any, address: str | None = None, allocation_id: str | None = None
) -> None:
    # AWS refuses to release an Elastic IP that a NAT Gateway still holds
    # (pending, available or deleting) with AuthFailure, "You do not have
    # permission to access the specified resource." (HTTP 400), not
    # InvalidIPAddress.InUse: seen in kubernetes/kops#938 and #1604,
    # genevieve/leftovers#33, eformat/sno-for-100#5; the aws provider's EIP
    # delete retries ReleaseAddress on AuthFailure for exactly this reason.
    eip = next(
        (
            eip
            for eip in self.addresses
            if eip.allocation_id
            and (eip.allocation_id == allocation_id or (address and eip.public_ip == address))
        ),
        None,
    )
    if eip is not None and _held_by_nat(self, eip.allocation_id):
        raise _AddressHeldByNat()
    _original("ElasticAddressBackend.release_address")(
        self, address=address, allocation_id=allocation_id
    )


class _AddressHeldByNat(EC2ClientError):
    def __init__(self) -> None:
        super().__init__(
            "AuthFailure", "You do not have permission to access the specified resource."
        )


def _release_address_action(self: Any) -> Any:
    try:
        return _original("ElasticIPAddresses.release_address")(self)
    except _AddressHeldByNat as error:
        # moto's EC2 model gives AuthFailure HTTP 401 (AWS's status for bad
        # credentials); AWS sends this refusal with 400.
        _, headers, body = self.serialized(ActionResult(error))
        headers["status"] = 400
        return body, headers


def _held_by_nat(backend: Any, allocation_id: str) -> bool:
    for nat in backend.nat_gateways.values():
        life = _lifecycle(nat)
        if (
            life is not None
            and life.failure is None
            and life.allocation_id == allocation_id
            and nat.state in _HOLDING_STATES
        ):
            return True
    return False


# --------------------------------------------------------------------------- patching


def _patch(owner: type, name: str, replacement: Callable[..., Any]) -> None:
    _state.originals[f"{owner.__name__}.{name}"] = getattr(owner, name)
    setattr(owner, name, replacement)


def _original(key: str) -> Callable[..., Any]:
    return _state.originals[key]
