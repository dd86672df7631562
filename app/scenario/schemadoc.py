"""Markdown tables of any pydantic model tree: one section per model, one row per field.

Each row gives the field's name, its type in plain words (links to the sections of nested models), its
default, the bounds, sizes and pattern its metadata puts on the values, and its description. The
scenario reference (`app.scenario.docs`) and the study reference (`app.studies.docs`) are both built
from these helpers, so the two pages read alike and neither can drift from its schema.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models mentioned anywhere in a type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in models_in(arg)]


def section_models(root: type[BaseModel], order: Sequence[str] = ()) -> list[type[BaseModel]]:
    """Every model reachable from ``root``: those named in ``order`` first, in that order, then the rest
    in the order they were found, so a new model is never left undocumented."""
    seen: dict[str, type[BaseModel]] = {}
    stack = [root]
    while stack:
        model = stack.pop(0)
        if model.__name__ in seen:
            continue
        seen[model.__name__] = model
        for field in model.model_fields.values():
            stack.extend(models_in(field.annotation))
    ordered = [seen[n] for n in order if n in seen]
    return ordered + [m for n, m in seen.items() if n not in order]


def anchor(name: str) -> str:
    """The Markdown anchor of a section heading `### Name`."""
    return name.lower()


def type_name(annotation: Any) -> str:
    """A plain-language type for the table."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if annotation is type(None):
        return "empty"
    if origin is Annotated:
        inner = limits(args[0], metadata(args[1:]))
        return type_name(args[0]) + (f" ({inner})" if inner else "")
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        text = " or ".join(type_name(a) for a in parts)
        return text + " or empty" if len(parts) < len(args) else text
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{anchor(annotation.__name__)})"
    simple = {float: "number", int: "integer", str: "text", bool: "true/false"}
    if annotation in simple:
        return simple[annotation]
    return str(annotation).replace("typing.", "")


def number(value: Any) -> str:
    """A number as a table shows it: 3 rather than 3.0, 2e12 rather than 2000000000000.0."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e9:
            return str(int(value))
        if abs(value) >= 1e9:
            return f"{value:.6g}".replace("e+", "e")
    return str(value)


def _flow(value: Any) -> str:
    """A value as it would be written in a YAML file on one line: {name: baseline}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "null"
    return number(value) if isinstance(value, (int, float)) else str(value)


def default(field: FieldInfo) -> str:
    """The field's default in words: **required**, empty, `0.5`, `[]` (none), (section defaults)..."""
    if field.default_factory is not None:
        made = field.default_factory()  # type: ignore[call-arg]
        if isinstance(made, BaseModel):
            return "(section defaults)"
        if isinstance(made, list) and not made:
            return "`[]` (none)"
        if isinstance(made, dict) and not made:
            return "`{}` (none)"
        if isinstance(made, list) and all(isinstance(m, BaseModel) for m in made):
            return f"`{_flow([m.model_dump(exclude_defaults=True) for m in made])}`"
        return f"`{made!r}`"
    if field.default is PydanticUndefined:
        return "**required**"
    if field.default is None:
        return "empty"
    if isinstance(field.default, str):
        return f"`{field.default}`"
    return f"`{number(field.default)}`"


def metadata(items: Any) -> list[Any]:
    """Constraint objects, unpacked from any FieldInfo among them (Annotated[float, Field(...)])."""
    return [m for item in items for m in (item.metadata if isinstance(item, FieldInfo) else [item])]


def amount(value: Any) -> str:
    """A bound as it reads in a table: 50,000 rather than 50000 (years and 1e12 stay as written)."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    whole = is_number and float(value).is_integer()
    return f"{int(value):,}" if whole and 1e4 <= abs(value) < 1e10 else number(value)


def limits(annotation: Any, meta: list[Any]) -> str:
    """The bounds, sizes and pattern a field's metadata puts on its values, in words."""
    unit = "characters" if annotation is str else "items"
    parts: list[str] = []
    for m in meta:
        if isinstance(m, annotated_types.Gt):
            parts.append(f"> {amount(m.gt)}")
        elif isinstance(m, annotated_types.Ge):
            parts.append(f"≥ {amount(m.ge)}")
        elif isinstance(m, annotated_types.Lt):
            parts.append(f"< {amount(m.lt)}")
        elif isinstance(m, annotated_types.Le):
            parts.append(f"≤ {amount(m.le)}")
        elif isinstance(m, annotated_types.MinLen):
            parts.append(f"at least {m.min_length} item{'s' if m.min_length != 1 else ''}")
        elif isinstance(m, annotated_types.MaxLen):
            parts.append(f"at most {amount(m.max_length)} {unit}")
        elif isinstance(m, StringConstraints) and m.max_length is not None:
            parts.append(f"at most {amount(m.max_length)} characters")
        elif getattr(m, "pattern", None):
            parts.append(f"matches `{m.pattern}`")
    return ", ".join(parts)


def constraints(field: FieldInfo) -> str:
    return limits(field.annotation, field.metadata)


def cell(text: str) -> str:
    """Text fit for one cell of a Markdown table: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; every cell goes through :func:`cell`."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def section(model: type[BaseModel], place: str | None = None, checks: Sequence[str] | None = None, level: int = 3) -> str:
    """One model's section: its heading, where it is written, its docstring, its field table, and the
    checks across its fields given in words."""
    name = model.__name__
    lines = [f"{'#' * level} {name}", ""]
    if place:
        lines += [f"Written at {place}.", ""]
    doc = model.__dict__.get("__doc__")
    if doc:
        lines += [" ".join(doc.split()), ""]
    lines += ["| field | type | default | constraints | description |", "|---|---|---|---|---|"]
    for field_name, field in model.model_fields.items():
        row = [
            f"`{field_name}`",
            type_name(field.annotation),
            default(field),
            constraints(field),
            field.description or "",
        ]
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    if checks:
        lines += ["", "Checks across fields:", ""] + [f"- {c}" for c in checks]
    return "\n".join(lines)
