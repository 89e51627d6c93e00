"""One factor for every AWS timing the bench simulates, and the AWS timings it scales."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# AWS's typical timings, which the scale factor shrinks (DESIGN.md, botocore's model).
AWS_NAT_PENDING_SECONDS = 100.0
AWS_NAT_DELETING_SECONDS = 60.0
AWS_WAITER_DELAY_SECONDS = 15.0
AWS_WAITER_MAX_ATTEMPTS = 40
AWS_BASELINE_FIXED_WAIT_SECONDS = 30
AWS_MODULE_POLL_SECONDS = 10
AWS_IDLE_GRACE_SECONDS = 60


@dataclass(frozen=True)
class Scale:
    """One factor for every AWS timing the bench simulates."""

    factor: float
    nat_pending_seconds: float
    nat_deleting_seconds: float
    waiter_delay_seconds: float
    waiter_max_attempts: int
    fixed_wait_seconds: int
    poll_interval_seconds: int
    idle_grace_seconds: int | None
    hold_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def make_scale(factor: float, hold_seconds: float, grace_supported: bool) -> Scale:
    return Scale(
        factor=factor,
        nat_pending_seconds=AWS_NAT_PENDING_SECONDS * factor,
        nat_deleting_seconds=AWS_NAT_DELETING_SECONDS * factor,
        waiter_delay_seconds=AWS_WAITER_DELAY_SECONDS * factor,
        waiter_max_attempts=AWS_WAITER_MAX_ATTEMPTS,
        # Wait states and the module's poll interval take whole seconds, at least 1.
        fixed_wait_seconds=max(1, round(AWS_BASELINE_FIXED_WAIT_SECONDS * factor)),
        poll_interval_seconds=max(1, round(AWS_MODULE_POLL_SECONDS * factor)),
        idle_grace_seconds=(
            max(1, round(AWS_IDLE_GRACE_SECONDS * factor)) if grace_supported else None
        ),
        hold_seconds=hold_seconds,
    )
