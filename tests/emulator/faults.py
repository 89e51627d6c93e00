"""Faults the local AWS can inject, for the fault-matrix tests.

A fault makes chosen API calls fail (or hang, then fail) the way AWS fails:
an error code and message, an HTTP status, for a number of matching calls.
It applies to every caller alike (Terraform, boto3 in tests, Lambda handlers
in their worker processes, Step Functions' own SDK calls), because it sits in
front of moto's action dispatch. NAT Gateway outcomes (`failed` with a
FailureCode) are injected in `emulator.ec2.force_next_nat_failure`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import BaseResponse

from emulator import dispatch, lambda_runtime

# Throttling as EC2 returns it; botocore's standard retry mode retries it.
THROTTLED = ("RequestLimitExceeded", "Request limit exceeded.", 503)


class InjectedError(ServiceException):
    """An AWS error that a fault makes an action return."""

    def __init__(self, code: str, message: str, http_status: int) -> None:
        super().__init__(code, message)
        self.http_status = http_status


@dataclass
class Fault:
    """`times` calls of `service`/`action` (that `when` accepts) fail with `code`."""

    service: str
    action: str
    code: str
    message: str
    http_status: int = 400
    times: float = 1
    # Seconds the call hangs before it fails: a caller with a shorter timeout
    # (a Lambda function) dies waiting, as when AWS stops answering.
    hang_seconds: float = 0.0
    when: Callable[[BaseResponse], bool] | None = None
    # Let this many matching calls through before failing any (e.g. the
    # second CreateRoute of a run fails, after the first table is routed).
    skip: int = 0
    # Fail one matching call in `every` (2: every other call, so a retry succeeds).
    every: int = 1
    hits: int = field(default=0, init=False)
    seen: int = field(default=0, init=False)

    def strikes(self, service: str, action: str, response: BaseResponse) -> bool:
        """Whether this call fails (counts it as seen when it matches)."""
        if service != self.service or action != self.action or self.hits >= self.times:
            return False
        if self.when is not None and not self.when(response):
            return False
        self.seen += 1
        due = self.seen > self.skip and (self.seen - self.skip - 1) % self.every == 0
        if due:
            self.hits += 1
        return due


_lock = threading.Lock()
_faults: list[Fault] = []


def install() -> None:
    """Put fault injection in front of every action; idempotent."""
    dispatch.install()
    dispatch.add_unlocked_hook(_before_action)


def inject(fault: Fault) -> Fault:
    """Start injecting `fault`; returns it so a test can read `hits` afterwards."""
    with _lock:
        _faults.append(fault)
    return fault


def throttle(service: str, action: str, times: float) -> Fault:
    """`times` calls of the action answer as a throttled AWS API does."""
    code, message, status = THROTTLED
    return inject(Fault(service, action, code, message, http_status=status, times=times))


def fail_always(service: str, action: str, code: str, message: str, status: int = 400) -> Fault:
    return inject(Fault(service, action, code, message, http_status=status, times=math.inf))


def clear() -> None:
    """Stop every fault."""
    with _lock:
        _faults.clear()


def lambda_payload(response: BaseResponse) -> Any:
    """The JSON payload of a Lambda Invoke request (for a fault's `when`)."""
    try:
        return json.loads(response.body or "null")
    except (TypeError, ValueError):
        return None


def from_lambda(response: BaseResponse) -> bool:
    """A `when` for calls made by a Lambda function (botocore puts exec-env in its user agent)."""
    return "exec-env/AWS_Lambda" in str(response.headers.get("User-Agent", ""))


def from_function(function_name: str) -> Callable[[BaseResponse], bool]:
    """A `when` for calls made by one Lambda function (by the credentials it signs with)."""
    key = lambda_runtime.access_key_of(function_name)

    def check(response: BaseResponse) -> bool:
        return f"Credential={key}/" in str(response.headers.get("Authorization", ""))

    return check


def invoking(function_name: str, action: str | None = None) -> Callable[[BaseResponse], bool]:
    """A `when` for Lambda Invoke faults: calls of `function_name` (with this `action`)."""

    def check(response: BaseResponse) -> bool:
        if function_name not in response.path:
            return False
        payload = lambda_payload(response)
        return action is None or (isinstance(payload, dict) and payload.get("action") == action)

    return check


def _before_action(_service: str, action: str, response: BaseResponse) -> None:
    # Faults name services as boto3 does ("lambda"); moto says "awslambda".
    service = response.boto3_service_name
    with _lock:
        fault = next((f for f in _faults if f.strikes(service, action, response)), None)
    if fault is None:
        return
    if fault.hang_seconds:
        time.sleep(fault.hang_seconds)
    raise InjectedError(fault.code, fault.message, fault.http_status)
