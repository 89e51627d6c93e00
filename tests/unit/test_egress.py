"""The egress check against a real HTTP server on this machine."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from nat_on_demand import egress
from nat_on_demand.errors import EgressCheckFailed


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"203.0.113.10\n"
    hang_up: bool = False


class _Handler(http.server.BaseHTTPRequestHandler):
    answer = Answer()

    def do_GET(self) -> None:
        if self.answer.hang_up:
            self.close_connection = True
            return
        self.send_response(self.answer.status)
        self.send_header("Content-Length", str(len(self.answer.body)))
        self.end_headers()
        self.wfile.write(self.answer.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture
def answer() -> Iterator[Answer]:
    _Handler.answer = Answer()
    yield _Handler.answer


def test_the_expected_ip_passes(server: str, answer: Answer):
    assert egress.check(server, "203.0.113.10", 2) == "203.0.113.10"


def test_another_ip_fails_naming_both(server: str, answer: Answer):
    answer.body = b"198.51.100.7"

    with pytest.raises(EgressCheckFailed) as raised:
        egress.check(server, "203.0.113.10", 2)

    assert "198.51.100.7" in str(raised.value)
    assert "expected 203.0.113.10" in str(raised.value)


def test_no_answer_is_no_connectivity(server: str, answer: Answer):
    answer.hang_up = True

    with pytest.raises(EgressCheckFailed, match=r"no connectivity to http://127\.0\.0\.1"):
        egress.check(server, "203.0.113.10", 2)


def test_a_closed_port_is_no_connectivity():
    with pytest.raises(EgressCheckFailed, match="no connectivity"):
        egress.check("http://127.0.0.1:9/", "203.0.113.10", 2)


def test_an_http_error_is_reported_with_its_status(server: str, answer: Answer):
    answer.status = 503
    answer.body = b"busy"

    with pytest.raises(EgressCheckFailed, match="HTTP 503"):
        egress.check(server, "203.0.113.10", 2)


@pytest.mark.parametrize(
    ("body", "ip"),
    [
        (b"203.0.113.10\n", "203.0.113.10"),
        (b'{"ip": "203.0.113.10"}', "203.0.113.10"),
        (b'{"origin": "203.0.113.10, 10.0.0.1"}', "203.0.113.10"),
    ],
)
def test_echo_answers_in_text_or_json(body: bytes, ip: str):
    assert egress.seen_ip(body, "https://echo") == ip


def test_an_answer_that_is_not_an_ip_fails():
    with pytest.raises(EgressCheckFailed, match="did not answer with an IPv4 address"):
        egress.seen_ip(b"<html>captive portal</html>", "https://echo")
