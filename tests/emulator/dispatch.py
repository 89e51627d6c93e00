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
# Hooks that run before the service lock is taken: a fault that makes a call
# hang must not hold up every other EC2 or DynamoDB call meanwhile.
_unlocked_hooks: list[Hook] = []
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


def add_unlocked_hook(hook: Hook) -> None:
    """Run `hook` before every action, before the service lock is taken."""
    if hook not in _unlocked_hooks:
        _unlocked_hooks.append(hook)


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
    action = self._get_action() or ""
    try:
        for hook in list(_unlocked_hooks):
            hook(service, action, self)
    except ServiceException as error:
        return _error_response(self, error)
    lock = _locks.get(service)
    if lock is None:
        return _run(self, service, action)
    with lock:
        return _run(self, service, action)


def _run(response: BaseResponse, service: str, action: str) -> Any:
    try:
        for hook in list(_hooks):
            hook(service, action, response)
    except ServiceException as error:
        return _error_response(response, error)
    return _original["call_action"](response)


def _error_response(response: BaseResponse, error: ServiceException) -> Any:
    status, headers, body = response.serialized(ActionResult(error))
    headers, body = response._enrich_response(headers, body)
    # An error may carry its own HTTP status (e.g. a 500 InternalError that the
    # service model does not list), which SDK retry logic looks at.
    return getattr(error, "http_status", status), headers, body
