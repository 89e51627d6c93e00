"""HCL text as python-hcl2 8.1.4 returns it, turned back into what the author wrote.

python-hcl2 keeps string literals with their quotes and escapes (`"\\"a\\""`),
wraps non-literal expressions in `${...}` (types such as `${list(string)}`,
numbers such as `${1e3}`) and keeps heredocs as quoted `<<EOT` text. This
module undoes that, and prints type constraints and values as HCL, either on
one line (for a table cell) or laid out over several (for a code block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)\n(.*?)\n?[ \t]*\2\s*\Z", re.DOTALL)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def is_quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] == '"'


def string_value(text: str) -> str:
    """The value of an HCL string literal or heredoc as python-hcl2 returns it."""
    body = text[1:-1] if is_quoted(text) else text
    heredoc = _HEREDOC.match(body)
    if heredoc:
        return _heredoc_value(heredoc.group(3), indented=heredoc.group(1) == "-")
    return _unescape(body)


def _heredoc_value(body: str, *, indented: bool) -> str:
    lines = body.split("\n")
    if indented:
        # <<- strips the smallest indentation of the non-blank lines.
        margin = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        lines = [line[margin:] for line in lines]
    # Heredocs take no backslash escapes, only the template ones.
    return "\n".join(lines).replace("$${", "${").replace("%%{", "%{")


def _unescape(body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            code = body[index + 1]
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                index += 2
                continue
            width = {"u": 4, "U": 8}.get(code)
            if width:
                out.append(chr(int(body[index + 2 : index + 2 + width], 16)))
                index += 2 + width
                continue
        if body.startswith(("$${", "%%{"), index):
            out.append(body[index] + "{")
            index += 3
            continue
        out.append(char)
        index += 1
    return "".join(out)


def bare_expression(text: str) -> str:
    """`list(string)` for python-hcl2's `${list(string)}`; other text unchanged."""
    if text.startswith("${") and text.endswith("}") and not is_quoted(text):
        return text[2:-1]
    return text


# A type constraint or value is printed from a small tree, so that the one-line
# and the multi-line forms always agree.


@dataclass(frozen=True)
class Atom:
    """A keyword (`string`, `null`), literal (`"UTC"`, `60`) or any other expression."""

    text: str


@dataclass(frozen=True)
class Call:
    """A type constructor such as `optional(number, 60)` or `map(string)`."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Obj:
    """`{ key = value, ... }`; keys as written (quoted or bare)."""

    items: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class Seq:
    """`[a, b]`."""

    items: tuple[Node, ...]


Node = Atom | Call | Obj | Seq


class TypeSyntaxError(ValueError):
    """A type expression this small parser does not understand."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
      | (?P<punct>[()\[\]{},=:])
    )""",
    re.VERBOSE,
)


def parse_type(text: str) -> Node:
    """Parse a type constraint (`object({a = optional(string, "x")})`) into a tree."""
    tokens = _tokenize(bare_expression(text.strip()))
    node, index = _parse(tokens, 0)
    if index != len(tokens):
        raise TypeSyntaxError(f"unexpected {tokens[index]!r} in type {text!r}")
    return node


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise TypeSyntaxError(f"cannot read type {text!r} at {text[position:]!r}")
        tokens.append(match.group(match.lastgroup or "punct"))
        position = match.end()
    return tokens


def _parse(tokens: list[str], index: int) -> tuple[Node, int]:
    if index >= len(tokens):
        raise TypeSyntaxError("type expression ends too early")
    token = tokens[index]
    if token == "{":
        return _parse_object(tokens, index + 1)
    if token == "[":
        items, index = _parse_list(tokens, index + 1, "]")
        return Seq(tuple(items)), index
    if index + 1 < len(tokens) and tokens[index + 1] == "(":
        args, end = _parse_list(tokens, index + 2, ")")
        return Call(token, tuple(args)), end
    if token in "()[]{},=:":
        raise TypeSyntaxError(f"unexpected {token!r} in type expression")
    return Atom(token), index + 1


def _parse_list(tokens: list[str], index: int, closing: str) -> tuple[list[Node], int]:
    items: list[Node] = []
    while index < len(tokens) and tokens[index] != closing:
        item, index = _parse(tokens, index)
        items.append(item)
        if index < len(tokens) and tokens[index] == ",":
            index += 1
    if index >= len(tokens):
        raise TypeSyntaxError(f"missing {closing!r} in type expression")
    return items, index + 1


def _parse_object(tokens: list[str], index: int) -> tuple[Node, int]:
    items: list[tuple[str, Node]] = []
    while index < len(tokens) and tokens[index] != "}":
        key = tokens[index]
        if index + 1 >= len(tokens) or tokens[index + 1] not in ("=", ":"):
            raise TypeSyntaxError(f"expected '=' after {key!r} in object type")
        value, index = _parse(tokens, index + 2)
        items.append((key, value))
        if index < len(tokens) and tokens[index] == ",":
            index += 1
    if index >= len(tokens):
        raise TypeSyntaxError("missing '}' in object type")
    return Obj(tuple(items)), index + 1


def value_tree(value: Any) -> Node:
    """A tree for a value (a default) as python-hcl2 returns it."""
    if value is None or isinstance(value, bool):
        return Atom({None: "null", True: "true", False: "false"}[value])
    if isinstance(value, int | float):
        return Atom(repr(value))
    if isinstance(value, str):
        if is_quoted(value) and _HEREDOC.match(value[1:-1]):
            return Atom(_quote(string_value(value)))
        return Atom(bare_expression(value))
    if isinstance(value, list):
        return Seq(tuple(value_tree(item) for item in value))
    if isinstance(value, dict):
        return Obj(
            tuple(
                (str(key), value_tree(item))
                for key, item in value.items()
                if not str(key).startswith("__")  # python-hcl2's own markers
            )
        )
    raise TypeError(f"unexpected value from python-hcl2: {value!r}")


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def one_line(node: Node, *, elide_objects: bool = False) -> str:
    """`object({ a = string, b = optional(number, 60) })`; `object({...})` when eliding."""
    if isinstance(node, Atom):
        return node.text
    if isinstance(node, Call):
        args = ", ".join(one_line(arg, elide_objects=elide_objects) for arg in node.args)
        return f"{node.name}({args})"
    if isinstance(node, Seq):
        items = ", ".join(one_line(item, elide_objects=elide_objects) for item in node.items)
        return f"[{items}]"
    if not node.items:
        return "{}"
    if elide_objects:
        return "{...}"
    pairs = ", ".join(f"{key} = {one_line(value)}" for key, value in node.items)
    return "{ " + pairs + " }"


def multi_line(node: Node, indent: str = "", width: int = 72) -> str:
    """The node laid out as `terraform fmt` would: one attribute a line, `=` aligned."""
    if isinstance(node, Atom):
        return node.text
    if isinstance(node, Call):
        args = ", ".join(multi_line(arg, indent, width) for arg in node.args)
        return f"{node.name}({args})"
    if isinstance(node, Seq):
        flat = one_line(node)
        if "\n" not in flat and len(indent) + len(flat) <= width and not _has_object(node):
            return flat
        inner = indent + "  "
        lines = [inner + multi_line(item, inner, width) + "," for item in node.items]
        return "[\n" + "\n".join(lines) + "\n" + indent + "]"
    if not node.items:
        return "{}"
    return "{\n" + "\n".join(_aligned(node.items, indent + "  ", width)) + "\n" + indent + "}"


def _aligned(items: tuple[tuple[str, Node], ...], indent: str, width: int) -> list[str]:
    """Attributes with `=` aligned over each run of one-line values, as fmt does."""
    rendered = [(key, multi_line(value, indent, width)) for key, value in items]
    lines: list[str] = []
    run: list[tuple[str, str]] = []
    for key, text in rendered:
        if "\n" in text:  # fmt aligns neither across nor with a multi-line value
            lines.extend(_run_lines(run, indent))
            lines.extend(_run_lines([(key, text)], indent))
            run = []
        else:
            run.append((key, text))
    lines.extend(_run_lines(run, indent))
    return lines


def _run_lines(run: list[tuple[str, str]], indent: str) -> list[str]:
    pad = max((len(key) for key, _ in run), default=0)
    return [f"{indent}{key.ljust(pad)} = {text}" for key, text in run]


def _has_object(node: Node) -> bool:
    if isinstance(node, Obj):
        return bool(node.items)
    if isinstance(node, Seq):
        return any(_has_object(item) for item in node.items)
    if isinstance(node, Call):
        return any(_has_object(arg) for arg in node.args)
    return False
