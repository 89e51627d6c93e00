"""An IP-echo service for the local AWS, standing in for https://checkip.amazonaws.com.

On AWS an echo service answers with the address a request comes from: for a
Lambda function in private subnets, the public IP of the NAT Gateway that
its subnets' route tables send internet traffic to. Here every request comes
from 127.0.0.1, so the server works the same answer out of the local AWS,
for one VPC function (the egress probe):

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

Test hooks: `answer_with(ip)` makes the internet see another address (the
traffic leaves through someone else's NAT Gateway); `refuse()` cuts it off;
`follow_routes()` goes back to working the answer out.
"""

from __future__ import annotations

import http.server
import ipaddress
import threading
from typing import Any

from emulator.server import LocalAws

# An address in TEST-NET-2 (RFC 5737), like a service on the internet.
DEFAULT_PUBLIC_ADDRESS = "198.51.100.20"


class EchoServer:
    """Answers GET with the public IP the function's traffic would leave from."""

    def __init__(
        self,
        aws: LocalAws,
        function_name: str,
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
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def start(self) -> EchoServer:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = server.answer()
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

    def answer(self) -> str | None:
        """The public IP the function's traffic leaves from, or None (no connectivity)."""
        with self._lock:
            self.requests += 1
            forced, refusing = self._forced, self._refusing
        if refusing:
            return None
        if forced is not None:
            return forced
        try:
            subnets = self._function_subnets()
            exits = {self._exit_ip(subnet) for subnet in subnets}
        except Exception:  # whatever the local AWS says, no answer is no connectivity
            return None
        if len(exits) != 1:
            return None
        return exits.pop()

    def _function_subnets(self) -> list[str]:
        config = self.aws.client("lambda").get_function_configuration(
            FunctionName=self.function_name
        )
        return list((config.get("VpcConfig") or {}).get("SubnetIds") or [])

    def _exit_ip(self, subnet_id: str) -> str | None:
        ec2 = self.aws.client("ec2")
        route = self._route(self._route_table(ec2, subnet_id))
        if route is None or route.get("State") != "active" or not route.get("NatGatewayId"):
            return None
        nats = ec2.describe_nat_gateways(NatGatewayIds=[route["NatGatewayId"]])["NatGateways"]
        if not nats or nats[0]["State"] != "available":
            return None
        addresses = nats[0].get("NatGatewayAddresses") or [{}]
        return addresses[0].get("PublicIp")

    @staticmethod
    def _route_table(ec2: Any, subnet_id: str) -> dict[str, Any]:
        explicit = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
        )["RouteTables"]
        if explicit:
            return dict(explicit[0])
        vpc_id = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"]
        main = ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"]
        return dict(main[0])

    def _route(self, table: dict[str, Any]) -> dict[str, Any] | None:
        """The most specific route for the service's address (longest prefix wins)."""
        covering = [
            (ipaddress.IPv4Network(route["DestinationCidrBlock"]), route)
            for route in table.get("Routes", [])
            if "DestinationCidrBlock" in route
            and self.public_address in ipaddress.IPv4Network(route["DestinationCidrBlock"])
        ]
        if not covering:
            return None
        return dict(max(covering, key=lambda item: item[0].prefixlen)[1])
