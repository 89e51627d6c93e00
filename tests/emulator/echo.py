"""An IP-echo service for the local AWS, standing in for https://checkip.amazonaws.com.

On AWS an echo service answers with the address a request comes from: for a
Lambda function in private subnets, the public IP of the NAT Gateway that
its subnets' route tables send internet traffic to. Here every request comes
from 127.0.0.1, so the server works the same answer out of the local AWS
for the VPC function that asks. Which function asks is the one thing the
server cannot see: the URL's path names it (`url_for(name)`: the module's
`egress_echo_url`), else it is the server's default function. Then:

- the function's subnets, from its VpcConfig;
- each subnet's route table: its explicit association, else the VPC's main
  route table (a subnet on the main table has no association of its own);
- in that table, the most specific route whose destination holds the
  service's own address (`public_address`, an internet address);
- that route's target: a NAT Gateway that is `available`, through an `active`
  route, is where the traffic leaves: the answer is its public IP.

Anything else is no connectivity, and the server closes the connection
without an answer: no route, a blackhole route, a NAT Gateway not yet
available, an internet gateway (a Lambda function has no public IP of its
own). Lambda may place the function in any of its subnets, so they must all
lead to the same NAT Gateway; if they do not, the server refuses, so a
misrouted subnet fails every time rather than now and then.

It reads the local AWS's state directly, not through its API: it stands for
the internet, so the fault injection of the fault-matrix tests must neither
hit nor count its lookups. NAT Gateways are moved on in time first, as any
EC2 call would.

Test hooks: `answer_with(ip)` makes the internet see another address (the
traffic leaves through someone else's NAT Gateway); `refuse()` cuts it off;
`follow_routes()` goes back to working the answer out.
"""

from __future__ import annotations

import http.server
import ipaddress
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from moto.awslambda.models import lambda_backends
from moto.ec2.models import ec2_backends

from emulator import dispatch
from emulator import ec2 as ec2_fidelity
from emulator.server import ACCOUNT_ID, LocalAws

# An address in TEST-NET-2 (RFC 5737), like a service on the internet.
DEFAULT_PUBLIC_ADDRESS = "198.51.100.20"


class EchoServer:
    """Answers GET with the public IP the function's traffic would leave from."""

    def __init__(
        self,
        aws: LocalAws,
        function_name: str | None = None,
        public_address: str = DEFAULT_PUBLIC_ADDRESS,
    ) -> None:
        self.aws = aws
        self.function_name = function_name
        self.public_address = ipaddress.IPv4Address(public_address)
        self.requests = 0
        self._forced: str | None = None
        self._refusing = False
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The service's URL, answering for the default function."""
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def url_for(self, function_name: str) -> str:
        """The service's URL as `function_name` should ask it."""
        return f"{self.url}{function_name}"

    def start(self) -> EchoServer:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                named = unquote(urlsplit(self.path).path.strip("/"))
                answer = server.answer(named or server.function_name)
                if answer is None:
                    # No connectivity: the client sees the connection close unanswered.
                    self.close_connection = True
                    return
                body = (answer + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True, name="echo").start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> EchoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test hooks

    def answer_with(self, ip: str) -> None:
        with self._lock:
            self._forced, self._refusing = ip, False

    def refuse(self) -> None:
        with self._lock:
            self._forced, self._refusing = None, True

    def follow_routes(self) -> None:
        with self._lock:
            self._forced, self._refusing = None, False

    # --- the answer

    def answer(self, function_name: str | None = None) -> str | None:
        """The public IP the function's traffic leaves from, or None (no connectivity)."""
        with self._lock:
            self.requests += 1
            forced, refusing = self._forced, self._refusing
        if refusing:
            return None
        if forced is not None:
            return forced
        name = function_name or self.function_name
        if name is None:
            return None
        ec2 = ec2_backends[ACCOUNT_ID][self.aws.region]
        with dispatch.service_lock("ec2"):
            ec2_fidelity.advance(ec2)
            try:
                subnets = self._function_subnets(name)
                exits = {self._exit_ip(ec2, subnet) for subnet in subnets}
            except Exception:  # an unknown function or subnet: no connectivity
                return None
        if len(exits) != 1:
            return None
        return exits.pop()

    def _function_subnets(self, name: str) -> list[str]:
        function = lambda_backends[ACCOUNT_ID][self.aws.region].get_function(name)
        return list((function.vpc_config or {}).get("SubnetIds") or [])

    def _exit_ip(self, ec2: Any, subnet_id: str) -> str | None:
        route = self._route(self._route_table(ec2, subnet_id))
        nat = route.nat_gateway if route is not None else None
        if nat is None or route.state != "active" or nat.state != "available":
            return None
        addresses = [a.get("publicIp") for a in nat.address_set if a.get("publicIp")]
        return addresses[0] if addresses else None

    @staticmethod
    def _route_table(ec2: Any, subnet_id: str) -> Any:
        tables = list(ec2.route_tables.values())
        explicit = [t for t in tables if subnet_id in t._associations.values()]
        if explicit:
            return explicit[0]
        vpc_id = ec2.get_subnet(subnet_id).vpc_id
        return next(t for t in tables if t.vpc_id == vpc_id and t.main_association_id)

    def _route(self, table: Any) -> Any:
        """The most specific route for the service's address (longest prefix wins)."""
        covering = [
            (network, route)
            for route in table.routes
            if route.destination_cidr_block
            and self.public_address
            in (network := ipaddress.IPv4Network(route.destination_cidr_block))
        ]
        if not covering:
            return None
        return max(covering, key=lambda item: item[0].prefixlen)[1]
