"""Count the API calls the local AWS serves: by service, action and caller.

`make bench` compares designs by the EC2 calls they make; a test can assert
that a step makes no more calls than it should. A recorder is a dispatch hook,
so it sees every action of every service, whoever sends it (the test process,
a Lambda handler, Terraform). The caller is told apart by the access key id
the request was signed with: each Lambda function on the local AWS signs with
`lambda_runtime.access_key_of(its name)`, so a watcher polling from outside
never counts as a function's calls, nor one function's as another's.

A call is recorded when it reaches the action, before moto runs it: a call
that then fails (RouteAlreadyExists, a throttled retry) counts as AWS would
count it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from types import TracebackType

from moto.core.responses import BaseResponse

from emulator import dispatch


@dataclass(frozen=True)
class ApiCall:
    service: str
    action: str
    access_key_id: str
    # time.monotonic() and time.time() when the call reached the local AWS.
    at: float
    wall: float


class ApiCallRecorder:
    """Records every API call while installed; use as a context manager."""

    def __init__(self) -> None:
        self._calls: list[ApiCall] = []
        self._lock = threading.Lock()

    def __enter__(self) -> ApiCallRecorder:
        dispatch.install()
        dispatch.add_hook(self._hook)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        dispatch.remove_hook(self._hook)

    def _hook(self, service: str, action: str, response: BaseResponse) -> None:
        call = ApiCall(service, action, response.get_access_key(), time.monotonic(), time.time())
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def take(self) -> list[ApiCall]:
        """The calls so far, forgetting them."""
        with self._lock:
            taken, self._calls = self._calls, []
            return taken


def count_by_action(
    calls: Iterable[ApiCall], service: str, access_key_ids: Collection[str] | None = None
) -> Counter[str]:
    """How many calls of each action of `service`, optionally from some callers only."""
    return Counter(
        call.action
        for call in calls
        if call.service == service
        and (access_key_ids is None or call.access_key_id in access_key_ids)
    )
