"""The bench's workload: holds the NAT Gateway for `hold_seconds`, then returns.

The same function runs in both designs; its own invocations are left out of
the designs' Lambda figures.
"""

import time


def handler(event, context):
    seconds = float((event or {}).get("hold_seconds", 0))
    time.sleep(seconds)
    return {"held_seconds": seconds}
