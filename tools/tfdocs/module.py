"""The inputs and outputs a Terraform module declares, read with python-hcl2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from tfdocs.hcl import Atom, Node, TypeSyntaxError, parse_type, string_value, value_tree

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: Node | None  # None: no type constraint, which Terraform reads as any
    default: Node | None  # None: no default, so the input is required
    source: str  # the file that declares it, for error messages

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool
    source: str


@dataclass(frozen=True)
class Module:
    variables: tuple[Variable, ...]
    outputs: tuple[Output, ...]

    def problems(self) -> list[str]:
        """What a module's documentation cannot do without: descriptions and types."""
        found: list[str] = []
        for variable in self.variables:
            if not variable.description:
                found.append(f"{variable.source}: variable {variable.name!r} has no description")
            if variable.type is None:
                found.append(f"{variable.source}: variable {variable.name!r} has no type")
        for output in self.outputs:
            if not output.description:
                found.append(f"{output.source}: output {output.name!r} has no description")
        return found


def read_module(directory: Path) -> Module:
    """Every variable and output of the module in `directory`, file by file in name order."""
    variables: list[Variable] = []
    outputs: list[Output] = []
    for path in sorted(directory.glob("*.tf")):
        # Override files merge into other blocks; they declare nothing new.
        if path.name == "override.tf" or path.name.endswith("_override.tf"):
            continue
        with path.open() as handle:
            document = hcl2.load(handle)
        source = path.name
        variables += [_variable(name, body, source) for name, body in _blocks(document, "variable")]
        outputs += [_output(name, body, source) for name, body in _blocks(document, "output")]
    return Module(tuple(variables), tuple(outputs))


def _blocks(document: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (string_value(label), body)
        for block in document.get(kind, [])
        for label, body in block.items()
    ]


def _variable(name: str, body: dict[str, Any], source: str) -> Variable:
    default = body.get("default", _NO_DEFAULT)
    return Variable(
        name=name,
        description=_description(body),
        type=_type(body["type"]) if "type" in body else None,
        default=None if default is _NO_DEFAULT else value_tree(default),
        source=source,
    )


def _output(name: str, body: dict[str, Any], source: str) -> Output:
    return Output(
        name=name,
        description=_description(body),
        sensitive=body.get("sensitive") is True,
        source=source,
    )


def _description(body: dict[str, Any]) -> str:
    description = body.get("description")
    return string_value(description).strip() if isinstance(description, str) else ""


def _type(text: Any) -> Node:
    try:
        return parse_type(str(text))
    except TypeSyntaxError:
        # Shown as python-hcl2 printed it rather than not at all.
        return Atom(str(text))
