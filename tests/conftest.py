"""Fixtures shared by every test: no real AWS credentials, ever."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from emulator import settings
from emulator.server import LocalAws
from emulator.terraform import base_environment

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    # moto loads ~1,300 public AMIs into every new EC2 backend (a second per
    # test); nothing here uses AMIs.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}

# Set at import as well: session fixtures and clients created before the first
# test must not see a developer's real credentials either.
for _name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_name, None)
os.environ.update(_FAKE_ENV)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so that nothing a test does can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in _FAKE_ENV.items():
        monkeypatch.setenv(name, value)


# The local AWS of live tests (workflow, terraform) is fast but keeps AWS's
# order: a NAT Gateway is pending for a second, deleting for half a second,
# and a run checks it every second.
NAT_PENDING_SECONDS = 1.0
NAT_DELETING_SECONDS = 0.5
POLL_INTERVAL_SECONDS = 1

# moto keeps every service's state in process-wide backends: unit tests reset
# them before each test, which would wipe a live stack in the same process.
_LIVE_DIRECTORIES = ("workflow", "terraform")


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """The local AWS server for this test process, with Terraform pointed at it."""
    settings.timings.nat_pending_seconds = NAT_PENDING_SECONDS
    settings.timings.nat_deleting_seconds = NAT_DELETING_SECONDS
    saved = dict(os.environ)
    with LocalAws() as aws:
        # pytest-terraform runs terraform with this process's environment.
        os.environ.update(base_environment())
        os.environ.update(aws.environment())
        # Examples take the poll interval as a variable; names are case-sensitive.
        os.environ["TF_VAR_poll_interval_seconds"] = str(POLL_INTERVAL_SECONDS)  # noqa: SIM112
        yield aws
    os.environ.clear()
    os.environ.update(saved)


def _is_live(item: pytest.Item) -> bool:
    parts = item.path.relative_to(item.config.rootpath).parts
    return parts[:1] == ("tests",) and parts[1:2] in [(d,) for d in _LIVE_DIRECTORIES]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = {_is_live(item) for item in items}
    if len(live) > 1:
        pytest.exit(
            "tests/workflow and tests/terraform run in their own pytest invocation, apart from "
            "tests/unit and tests/emulator (moto's state is per process and unit tests reset "
            "it). `make test` runs both; or: pytest tests/unit tests/emulator, then "
            "pytest tests/workflow tests/terraform.",
            returncode=4,
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """`fault matrix: N scenarios, N clean, 0 leaked`, when the fault matrix ran."""
    outcomes = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == "fault_matrix"
    ]
    if outcomes:
        clean = outcomes.count("clean")
        terminalreporter.write_line(
            f"fault matrix: {len(outcomes)} scenarios, {clean} clean, "
            f"{len(outcomes) - clean} leaked"
        )
