"""How the local AWS behaves in time, and the clock it reads.

AWS takes minutes to make a NAT Gateway `available` and about a minute to
delete one. The local AWS keeps those transitions but shortens them: the
demo uses a few seconds so a person can watch, the tests a fraction of one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class Timings:
    """Seconds each AWS transition takes on the local AWS."""

    # AWS: typically 85-125 s from CreateNatGateway to `available`.
    nat_pending_seconds: float = 2.0
    # AWS: typically 40-80 s from DeleteNatGateway to `deleted`.
    nat_deleting_seconds: float = 1.0
    # AWS: a deleted NAT Gateway stays visible to Describe for about an hour.
    nat_deleted_listed_seconds: float = 3600.0
    # AWS: a Fargate task provisions and pulls its image for ~30-60 s.
    ecs_start_seconds: float = 1.0
    # How long a container runs when its command does not say (see emulator.ecs).
    ecs_task_seconds: float = 2.0
    # AWS: a stopped Fargate task deprovisions (releases its interface) for ~30 s.
    ecs_stop_seconds: float = 0.5


class Clock:
    """Monotonic seconds; tests can freeze it and move it by hand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen_at: float | None = None

    def now(self) -> float:
        with self._lock:
            return self._frozen_at if self._frozen_at is not None else time.monotonic()

    def freeze(self) -> None:
        with self._lock:
            self._frozen_at = time.monotonic()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is None:
                raise RuntimeError("advance() needs a frozen clock; call freeze() first")
            self._frozen_at += seconds

    def thaw(self) -> None:
        with self._lock:
            self._frozen_at = None


timings = Timings()
clock = Clock()
