"""The egress probe handler, as the state machine invokes it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from nat_on_demand import config as configuration
from nat_on_demand.errors import EgressCheckFailed, InvalidEvent
from nat_on_demand.handlers import probe
from unit.test_controller import ARN, FakeContext

EVENT = {"execution_arn": ARN, "nat_gateway_id": "nat-0a1b2c3d4e5f60718"}


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"203.0.113.10\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    monkeypatch.setenv(configuration.PREFIX + "ECHO_URL", url)
    yield url
    httpd.shutdown()


def test_the_probe_passes_when_the_internet_sees_the_elastic_ip(
    echo_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(configuration.PREFIX + "EXPECTED_IP", "203.0.113.10")

    result = probe.handler(EVENT, FakeContext())

    assert result == {
        "seen_ip": "203.0.113.10",
        "expected_ip": "203.0.113.10",
        "echo_url": echo_url,
    }


def test_the_probe_fails_naming_expected_and_seen_ip(
    echo_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(configuration.PREFIX + "EXPECTED_IP", "198.51.100.1")

    with pytest.raises(EgressCheckFailed, match=r"from 203\.0\.113\.10, expected 198\.51\.100\.1"):
        probe.handler(EVENT, FakeContext())


def test_the_probe_rejects_a_malformed_event():
    with pytest.raises(InvalidEvent, match="probe event"):
        probe.handler({"execution_arn": ARN}, FakeContext())
