"""Load scenario files with errors that name the file, the line and the field.

YAML is parsed twice: once into a node tree (which keeps line numbers) and once into plain
data that pydantic validates. Each validation error's location (``population.premovement.sigma``)
is walked down the node tree to find its line, and unknown keys get a "did you mean" hint from
the fields allowed at that place.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from scenarios.schema import Scenario

__all__ = ["ScenarioError", "load_scenario", "parse_scenario"]


class ScenarioError(ValueError):
    """A scenario file that cannot be used. ``problems`` holds one line per problem, each
    naming the file, line and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            super().__init__(f"{len(problems)} problems:\n  - " + "\n  - ".join(problems))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` on any problem."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError([f"{p}: file not found"])
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{p}: not a YAML text file (byte {exc.start} is not UTF-8)"]) from None
    return parse_scenario(text, source=str(p))


def parse_scenario(text: str, *, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; ``source`` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise ScenarioError([f"{where}: not valid YAML ({exc.problem or exc.context})"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}: not valid YAML ({exc})"]) from None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ScenarioError(
            [f"{source}: not a scenario file: expected a YAML mapping of keys such as 'name', 'site', 'duration_s', got {got}"]
        )
    duplicates = _duplicate_keys(root, source)
    if duplicates:
        raise ScenarioError(duplicates)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, root, source)) from None


#: pydantic tags a union member's error location with the member's type ('list[str]',
#: 'literal['all']', 'float'); these are not fields the user wrote.
_TYPE_TAGS = {"str", "int", "float", "bool", "dict", "list", "none"}


def _user_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if not (isinstance(p, str) and (p in _TYPE_TAGS or p.endswith("]"))))


def _problems(exc: ValidationError, root: yaml.Node, source: str) -> list[str]:
    """One message per place: the alternatives of a union at one field become one line."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for err in exc.errors():
        err = dict(err)
        err["loc"] = _user_loc(tuple(err["loc"]))
        grouped.setdefault(err["loc"], []).append(err)
    found = []
    for errs in grouped.values():
        first = errs[0]
        if len(errs) > 1 and first["type"] != "extra_forbidden":
            first = dict(first)
            first["msg"] = " or ".join(dict.fromkeys(e["msg"] for e in errs))
        found.append(_describe(first, root, source))
    return [msg for _, msg in sorted(found, key=_line_key)]


def _duplicate_keys(root: yaml.Node, source: str) -> list[str]:
    """One message per key given twice in one mapping (YAML would silently keep the last)."""
    problems: list[str] = []

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in node.value:
                key = str(k.value)
                if key in first:
                    dotted = ".".join((*path, key))
                    problems.append(f"{source}, line {k.start_mark.line + 1}: key '{dotted}' is given twice "
                                    f"(first on line {first[key]})")
                else:
                    first[key] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, str(i)))

    walk(root, ())
    return problems


def _line_key(item: tuple[int, str]) -> int:
    return item[0]


def _describe(err: Any, root: yaml.Node, source: str) -> tuple[int, str]:
    """(line, message) for one pydantic error."""
    loc = tuple(err["loc"])
    node = _node_at(root, loc)
    lineno = node.start_mark.line + 1 if node is not None else 0
    return lineno, _message(err, loc, f"{source}, line {lineno}" if lineno else source)


def _message(err: Any, loc: tuple[Any, ...], where: str) -> str:
    dotted = ".".join(str(x) for x in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        listing = f"; allowed here: {', '.join(sorted(allowed))}" if allowed else ""
        return f"{where}: unknown key '{dotted}'{suggestion}{listing}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    got = ""
    if err["type"] not in ("missing", "value_error") and "input" in err and not isinstance(err["input"], (dict, list)):
        got = f" (got {err['input']!r})"
    return f"{where}: field '{dotted}': {msg}{got}"


def _node_at(root: yaml.Node, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest YAML node along ``loc`` (a key node for unknown keys)."""
    node: yaml.Node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    node = v if part != loc[-1] else k
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc`` (walking list items and optionals)."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        model = _model_in(model.model_fields[part].annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
