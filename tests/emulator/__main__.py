"""Command line of the local AWS: `python -m emulator <command>` (see `make help`).

terraform-config   write the plugin mirror and CLI config into build/
validate DIR...    terraform init -backend=false && validate, each DIR
plan DIR           plan DIR against a fresh local AWS
demo               the main job end to end (make demo)
serve              run the local AWS until Ctrl-C, printing its endpoint
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import hcl2

from emulator import demo, terraform_cli
from emulator.archive_provider import ArchiveRequest, build_archive
from emulator.server import LocalAws
from emulator.terraform import BUILD_DIR, REPO_ROOT, Terraform, TerraformFailed


def _validate(directories: list[str]) -> int:
    for directory in directories:
        path = Path(directory).resolve()
        name = (
            "validate-" + str(path.relative_to(REPO_ROOT)).replace("/", "-").strip("-.") or "root"
        )
        started = time.monotonic()
        Terraform(path, name=name).validate()
        print(f"valid: {path.relative_to(REPO_ROOT) or '.'} ({time.monotonic() - started:.0f} s)")
    return 0


def _plan(directory: str) -> int:
    with LocalAws() as aws:
        terraform = Terraform(Path(directory).resolve(), name="plan", extra_env=aws.environment())
        terraform.init()
        process = terraform.run("plan", "-input=false", "-no-color", f"-state={terraform.state}")
        print(process.stdout)
    return 0


def _serve() -> int:
    with LocalAws() as aws:
        print(f"Local AWS at {aws.endpoint_url}; Ctrl-C to stop. For a shell:")
        for key, value in aws.environment().items():
            print(f"  export {key}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _package() -> int:
    """Zip lambda/ with the excludes main.tf gives its archive_file, into build/."""
    with (REPO_ROOT / "main.tf").open() as handle:
        module = hcl2.load(handle)
    blocks = [
        block for data in module["data"] for key, block in data.items() if "archive_file" in key
    ]
    settings = next(iter(blocks[0].values()))
    output = BUILD_DIR / "nat-on-demand-lambda.zip"
    output.parent.mkdir(parents=True, exist_ok=True)
    sums = build_archive(
        ArchiveRequest(
            output_path=str(output),
            source_dir=str(REPO_ROOT / "lambda"),
            excludes=[_unquote(pattern) for pattern in settings.get("excludes", [])],
        )
    )
    print(f"{output.relative_to(REPO_ROOT)}: {sums.size} bytes, base64sha256 {sums.base64sha256}")
    return 0


def _terraform_config() -> int:
    terraform_cli.build_plugin_mirror(BUILD_DIR)
    print(terraform_cli.write_cli_config(BUILD_DIR))
    return 0


_COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "terraform-config": lambda _args: _terraform_config(),
    "package": lambda _args: _package(),
    "validate": lambda args: _validate(args or ["."]),
    "plan": lambda args: _plan(args[0] if args else "examples/complete"),
    "demo": demo.main,
    "serve": lambda _args: _serve(),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command = _COMMANDS.get(argv[0])
    if command is None:
        print(f"unknown command {argv[0]!r}\n{__doc__}", file=sys.stderr)
        return 2
    try:
        return command(argv[1:])
    except TerraformFailed as failure:
        print(failure, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
