"""`python -m tfdocs write|check [--module DIR] [--readme FILE]` (make docs, make docs-check)."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from tfdocs import REPO_ROOT, updated_readme
from tfdocs.module import read_module
from tfdocs.render import MarkerError

_DIFF_LINES = 60


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tfdocs", description=__doc__)
    parser.add_argument("command", choices=("write", "check"))
    parser.add_argument("--module", type=Path, default=REPO_ROOT, help="module directory")
    parser.add_argument("--readme", type=Path, help="default: README.md in the module directory")
    args = parser.parse_args(argv)
    readme_path: Path = args.readme or args.module / "README.md"

    problems = read_module(args.module).problems()
    for problem in problems:
        print(f"tfdocs: {problem}", file=sys.stderr)

    current = readme_path.read_text()
    try:
        wanted = updated_readme(current, args.module)
    except MarkerError as error:
        print(f"tfdocs: {readme_path}: {error}", file=sys.stderr)
        return 1

    if args.command == "write":
        if wanted != current:
            readme_path.write_text(wanted)
            print(f"tfdocs: rewrote the Inputs and Outputs tables of {readme_path}")
        return 1 if problems else 0

    if wanted != current:
        diff = list(
            difflib.unified_diff(
                current.splitlines(), wanted.splitlines(), "README.md", "generated", lineterm=""
            )
        )
        print("\n".join(diff[:_DIFF_LINES]), file=sys.stderr)
        if len(diff) > _DIFF_LINES:
            print(f"... {len(diff) - _DIFF_LINES} more diff lines", file=sys.stderr)
        print(
            f"tfdocs: {readme_path} is out of date with the module's variables and outputs: "
            "run `make docs` and commit the result",
            file=sys.stderr,
        )
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
