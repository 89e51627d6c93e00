"""What one module instance manages, read once from the function's environment.

The Terraform module sets these variables; a missing or malformed one is a
deployment bug, reported as ConfigurationError naming the variable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from nat_on_demand.errors import ConfigurationError

PREFIX = "NAT_ON_DEMAND_"

# Tag keys that identify what this module created. Lookups always filter on the
# instance tag, never on a bare Name tag another stack might share.
TAG_INSTANCE = "nat-on-demand:instance"
TAG_LEASE = "nat-on-demand:lease"
TAG_GENERATION = "nat-on-demand:generation"


@dataclass(frozen=True)
class Config:
    """One module instance: its NAT Gateway slot, the routes it manages, its lease table."""

    instance: str
    public_subnet_id: str
    allocation_id: str
    route_table_ids: tuple[str, ...]
    destination_cidr_blocks: tuple[str, ...]
    lease_table: str
    ready_timeout_seconds: int
    poll_interval_seconds: int
    workload_timeout_seconds: int
    nat_tags: Mapping[str, str] = field(default_factory=dict)
    # Keep a NAT Gateway without routes this long after the last run releases it.
    idle_grace_seconds: int = 0
    # End an idle grace before the NAT Gateway's next billed hour would start.
    idle_within_billed_hour: bool = False
    # How often the reaper runs on its schedule; bounds how late it acts.
    reaper_interval_seconds: int = 300
    # The controller's Lambda timeout: a lock older than this (plus a margin)
    # belongs to an invocation that can no longer be running.
    controller_timeout_seconds: int = 60
    # The state machine whose executions hold the lease (the reaper asks it).
    state_machine_arn: str | None = None
    # What the state machine runs between AttachRoutes and Release (see workloads.py).
    workload_type: str = "lambda"
    # Default length of a `hold` window; a run may ask for less or more, up to the timeout.
    hold_seconds: int | None = None
    # The container of an `ecs_task` workload that a run's command/environment override.
    ecs_container_name: str | None = None

    @property
    def lease_id(self) -> str:
        """The lease item's key: one NAT Gateway slot, keyed by its public subnet.

        Keyed by subnet so per-AZ NAT Gateways can become several slots later.
        """
        return f"nat#{self.public_subnet_id}"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        return cls(
            instance=_text(env, "NAME"),
            public_subnet_id=_text(env, "PUBLIC_SUBNET_ID"),
            allocation_id=_text(env, "EIP_ALLOCATION_ID"),
            route_table_ids=tuple(_string_list(env, "ROUTE_TABLE_IDS")),
            destination_cidr_blocks=tuple(_string_list(env, "DESTINATION_CIDR_BLOCKS")),
            lease_table=_text(env, "LEASE_TABLE"),
            ready_timeout_seconds=_positive_int(env, "NAT_READY_TIMEOUT_SECONDS"),
            poll_interval_seconds=_positive_int(env, "POLL_INTERVAL_SECONDS"),
            workload_timeout_seconds=_positive_int(env, "WORKLOAD_TIMEOUT_SECONDS"),
            nat_tags=_string_map(env, "NAT_TAGS", required=False),
            idle_grace_seconds=_non_negative_int(env, "IDLE_GRACE_SECONDS", default=0),
            idle_within_billed_hour=_flag(env, "IDLE_WITHIN_BILLED_HOUR"),
            reaper_interval_seconds=_non_negative_int(env, "REAPER_INTERVAL_SECONDS", default=300),
            controller_timeout_seconds=_non_negative_int(
                env, "CONTROLLER_TIMEOUT_SECONDS", default=60
            ),
            state_machine_arn=_raw(env, "STATE_MACHINE_ARN", required=False),
            workload_type=_raw(env, "WORKLOAD_TYPE", required=False) or "lambda",
            hold_seconds=_optional_positive_int(env, "HOLD_SECONDS"),
            ecs_container_name=_raw(env, "ECS_CONTAINER_NAME", required=False),
        )


@dataclass(frozen=True)
class ProbeConfig:
    """The egress probe: which URL answers with the caller's IP, and which IP to expect."""

    echo_url: str
    expected_ip: str
    timeout_seconds: float = 5.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ProbeConfig:
        env = os.environ if environ is None else environ
        return cls(
            echo_url=_text(env, "ECHO_URL"),
            expected_ip=_text(env, "EXPECTED_IP"),
            timeout_seconds=float(_optional_positive_int(env, "ECHO_TIMEOUT_SECONDS") or 5),
        )


@cache
def load() -> Config:
    """The configuration of this function, parsed once per execution environment."""
    return Config.from_environment()


def _raw(env: Mapping[str, str], name: str, *, required: bool = True) -> str | None:
    value = env.get(PREFIX + name)
    if value is None or value == "":
        if required:
            raise ConfigurationError(f"environment variable {PREFIX}{name} is not set")
        return None
    return value


def _text(env: Mapping[str, str], name: str) -> str:
    value = _raw(env, name)
    assert value is not None
    return value


def _json(env: Mapping[str, str], name: str, *, required: bool = True) -> object:
    raw = _raw(env, name, required=required)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{PREFIX}{name} is not valid JSON: {error}") from error


def _string_list(env: Mapping[str, str], name: str) -> list[str]:
    value = _json(env, name)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{PREFIX}{name} must be a non-empty JSON list of strings")
    return value


def _string_map(env: Mapping[str, str], name: str, *, required: bool) -> dict[str, str]:
    value = _json(env, name, required=required)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigurationError(f"{PREFIX}{name} must be a JSON object of strings")
    return value


def _optional_positive_int(env: Mapping[str, str], name: str) -> int | None:
    if _raw(env, name, required=False) is None:
        return None
    return _positive_int(env, name)


def _non_negative_int(env: Mapping[str, str], name: str, *, default: int) -> int:
    raw = _raw(env, name, required=False)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(f"{PREFIX}{name} must be an integer, got {raw!r}") from error
    if value < 0:
        raise ConfigurationError(f"{PREFIX}{name} must not be negative, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (_raw(env, name, required=False) or "false").lower()
    if raw not in ("true", "false"):
        raise ConfigurationError(f"{PREFIX}{name} must be true or false, got {raw!r}")
    return raw == "true"


def _positive_int(env: Mapping[str, str], name: str) -> int:
    raw = _text(env, name)
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(f"{PREFIX}{name} must be an integer, got {raw!r}") from error
    if value <= 0:
        raise ConfigurationError(f"{PREFIX}{name} must be positive, got {value}")
    return value
