"""The README's Inputs and Outputs tables, generated from the module's variables and outputs.

`make docs` rewrites them between their marker comments; `make docs-check`
(part of `make lint`) fails when they differ from variables.tf and outputs.tf.
"""

from __future__ import annotations

from pathlib import Path

from tfdocs.module import read_module
from tfdocs.render import sections, splice

REPO_ROOT = Path(__file__).resolve().parents[2]


def updated_readme(readme: str, module_dir: Path) -> str:
    """`readme` with every generated section rendered from the module in `module_dir`."""
    for section in sections(read_module(module_dir)):
        readme = splice(readme, section)
    return readme
