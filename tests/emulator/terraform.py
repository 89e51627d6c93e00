"""Running real Terraform against the local AWS.

The aws provider honours AWS_ENDPOINT_URL, so an example needs no override
file: the same HCL a user applies to AWS is applied here unchanged, with
providers from local mirrors (see terraform_cli) and the endpoint, dummy
credentials and region from the environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator import terraform_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("NAT_ON_DEMAND_BUILD_DIR", str(REPO_ROOT / "build")))
EXAMPLES_DIR = REPO_ROOT / "examples"


class TerraformFailed(RuntimeError):
    """A terraform command exited non-zero; the message carries its output."""


def base_environment() -> dict[str, str]:
    """os.environ plus what Terraform needs here: mirrors, CLI config, the archive stand-in."""
    env = dict(os.environ)
    env.update(terraform_cli.terraform_env(REPO_ROOT, BUILD_DIR))
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


class Terraform:
    """One root module (an example) with its own data dir and state under build/."""

    def __init__(
        self, directory: Path, *, name: str, extra_env: Mapping[str, str] | None = None
    ) -> None:
        self.directory = directory
        self.work_dir = BUILD_DIR / "terraform" / name
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.state = self.work_dir / "terraform.tfstate"
        self.env = base_environment()
        self.env["TF_DATA_DIR"] = str(self.work_dir / "data")
        self.env.update(extra_env or {})

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        binary = shutil.which("terraform") or "terraform"
        process = subprocess.run(
            [binary, *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and process.returncode != 0:
            raise TerraformFailed(
                f"terraform {' '.join(args)} failed in {self.directory} "
                f"(exit {process.returncode}):\n{process.stderr}\n{process.stdout[-4000:]}"
            )
        return process

    def init(self) -> None:
        self.run("init", "-input=false", "-no-color")

    def validate(self) -> None:
        self.run("init", "-input=false", "-no-color", "-backend=false")
        self.run("validate", "-no-color")

    def apply(self, variables: Mapping[str, Any] | None = None) -> str:
        """Apply; what terraform printed (the plan it applied, then the outputs)."""
        return self.run(*self._command("apply", variables), "-auto-approve").stdout

    def destroy(self, variables: Mapping[str, Any] | None = None) -> None:
        self.run(*self._command("destroy", variables), "-auto-approve")

    def plan_has_changes(self, variables: Mapping[str, Any] | None = None) -> bool:
        return bool(self.planned_changes(variables))

    def planned_changes(self, variables: Mapping[str, Any] | None = None) -> str:
        """The plan's text when it wants changes, "" when the state matches the configuration."""
        process = self.run(*self._command("plan", variables), "-detailed-exitcode", check=False)
        if process.returncode not in (0, 2):
            raise TerraformFailed(f"terraform plan failed:\n{process.stderr}")
        return process.stdout if process.returncode == 2 else ""

    def plan_error(self, variables: Mapping[str, Any] | None = None) -> str:
        """The error output of a plan that is expected to fail (empty if it succeeded)."""
        process = self.run(*self._command("plan", variables), check=False)
        return process.stderr if process.returncode != 0 else ""

    def output(self) -> dict[str, Any]:
        raw = self.run("output", "-json", "-no-color", *self._state_args()).stdout
        return {key: value["value"] for key, value in json.loads(raw).items()}

    def show_state(self) -> dict[str, Any]:
        """The state as `terraform show -json` renders it: every resource and data source."""
        raw = self.run("show", "-json", "-no-color", str(self.state)).stdout
        return dict(json.loads(raw))

    def resources(self) -> list[str]:
        """Addresses of the resources in state (empty after a full destroy)."""
        process = self.run("state", "list", *self._state_args(), check=False)
        return [line for line in process.stdout.splitlines() if line.strip()]

    def _state_args(self) -> list[str]:
        return [f"-state={self.state}"]

    def _command(self, verb: str, variables: Mapping[str, Any] | None) -> list[str]:
        return [verb, "-input=false", "-no-color", *self._state_args(), *_var_args(variables)]


def _var_args(variables: Mapping[str, Any] | None) -> list[str]:
    args: list[str] = []
    for key, value in (variables or {}).items():
        rendered = value if isinstance(value, str) else json.dumps(value)
        args.append(f"-var={key}={rendered}")
    return args
