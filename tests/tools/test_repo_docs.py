"""Documents that must follow the repository: examples/README.md, CHANGELOG.md, LICENSE."""

from __future__ import annotations

import re

from tfdocs import REPO_ROOT


def test_examples_readme_has_a_section_for_every_example() -> None:
    examples = {path.parent.name for path in (REPO_ROOT / "examples").glob("*/main.tf")}
    text = (REPO_ROOT / "examples" / "README.md").read_text()
    sections = set(re.findall(r"^## (\S+)$", text, re.MULTILINE))

    assert sections == examples, "examples/README.md: one '## <directory>' section per example"


def test_changelog_has_an_unreleased_section() -> None:
    text = (REPO_ROOT / "CHANGELOG.md").read_text()

    assert "## [Unreleased]" in text


def test_license_is_the_apache_2_0_text_pyproject_declares() -> None:
    license_text = (REPO_ROOT / "LICENSE").read_text()
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()

    assert 'license = "Apache-2.0"' in pyproject
    assert "Apache License\n                           Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
