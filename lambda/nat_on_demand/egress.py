"""Egress verification: does the internet see this run's traffic from the module's Elastic IP?

The probe runs in the private subnets after the routes are in place and asks
an IP-echo service (https://checkip.amazonaws.com by default, which answers
with the caller's address as text) which address it sees. Anything but the
Elastic IP, or no answer, fails with EgressCheckFailed; the state machine
retries a few times, since a new route and the function's network interface
can take seconds to carry traffic.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import urllib.error
import urllib.request

from nat_on_demand.errors import EgressCheckFailed

# Echo services answer with a few bytes; anything longer is not one.
_MAX_ANSWER_BYTES = 4096
# Keys JSON echo services put the address under (ipify's ?format=json, httpbin's /ip).
_JSON_KEYS = ("ip", "origin")


def check(url: str, expected_ip: str, timeout_seconds: float) -> str:
    """The address the echo service saw; EgressCheckFailed unless it is `expected_ip`."""
    seen = seen_ip(fetch(url, timeout_seconds), url)
    if seen != expected_ip:
        raise EgressCheckFailed(
            f"{url} saw this run's traffic come from {seen}, expected {expected_ip} "
            "(the module's Elastic IP): the private subnets reach the internet some other way"
        )
    return seen


def fetch(url: str, timeout_seconds: float) -> bytes:
    """The body of a GET of `url`; EgressCheckFailed when there is no good answer."""
    request = urllib.request.Request(url, headers={"User-Agent": "nat-on-demand-egress-probe"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            return bytes(response.read(_MAX_ANSWER_BYTES + 1))
    except urllib.error.HTTPError as error:
        raise EgressCheckFailed(
            f"{url} answered HTTP {error.code} {error.reason}, expected the caller's IP"
        ) from error
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise EgressCheckFailed(
            f"no connectivity to {url} through the NAT Gateway: {reason}"
        ) from error


def seen_ip(body: bytes, url: str) -> str:
    """The IPv4 address in an echo service's answer: plain text, or JSON with `ip`/`origin`."""
    text = body[:_MAX_ANSWER_BYTES].decode("utf-8", "replace").strip()
    candidate = text
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = {}
        values = [document.get(key) for key in _JSON_KEYS if isinstance(document, dict)]
        candidate = next((str(v) for v in values if v), text)
    try:
        return str(ipaddress.IPv4Address(candidate.split(",")[0].strip()))
    except ValueError as error:
        raise EgressCheckFailed(
            f"{url} did not answer with an IPv4 address: {text[:80]!r}"
        ) from error
