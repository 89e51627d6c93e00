"""One hook point in front of every API action the local AWS serves.

moto answers each request through `BaseResponse.call_action`. Wrapping it once
lets the emulator (a) serialise the services whose writes must be atomic,
(b) move time-driven state (NAT Gateways) forward before an action reads it,
and (c) inject faults, without patching each action separately.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse

# A hook sees (service, action, response object) before the action runs; it may
# raise a moto ServiceException, which reaches the caller as an AWS error.
Hook = Callable[[str, str, BaseResponse], None]

# DynamoDB conditional writes and EC2 idempotency tokens are atomic on AWS. moto
# evaluates them in request threads without a lock, so two concurrent requests
# could both pass a condition. These services get one lock each.
_SERIALISED_SERVICES = ("ec2", "dynamodb")

_hooks: list[Hook] = []
_locks: dict[str, threading.RLock] = {name: threading.RLock() for name in _SERIALISED_SERVICES}
# moto's own call_action, kept once install() has wrapped it.
_original: dict[str, Callable[[BaseResponse], Any]] = {}


def add_hook(hook: Hook) -> None:
    """Run `hook` before every action (once per hook, however often it is added)."""
    if hook not in _hooks:
        _hooks.append(hook)


def remove_hook(hook: Hook) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def service_lock(service: str) -> threading.RLock:
    """The lock held while an action of `service` runs (EC2 and DynamoDB only)."""
    return _locks[service]


def install() -> None:
    """Wrap moto's `call_action`; idempotent."""
    if "call_action" in _original:
        return
    _original["call_action"] = BaseResponse.call_action
    BaseResponse.call_action = _call_action  # type: ignore[method-assign]


def _call_action(self: BaseResponse) -> Any:
    service = self.service_name or ""
    lock = _locks.get(service)
    if lock is None:
        return _run(self, service)
    with lock:
        return _run(self, service)


def _run(response: BaseResponse, service: str) -> Any:
    action = response._get_action() or ""
    try:
        for hook in list(_hooks):
            hook(service, action, response)
    except ServiceException as error:
        status, headers, body = response.serialized(ActionResult(error))
        headers, body = response._enrich_response(headers, body)
        return status, headers, body
    return _original["call_action"](response)
