"""What-if overrides: set numbers of a scenario by dotted path, and get back a validated scenario.

A study names a scenario and overrides some of its numbers, e.g. ``market.outside.gain_per_round: 3.0``.
Sweeps and sensitivity ranges use the same paths, so ``apply_overrides`` runs for every sweep point
and every sample: it reads no file and validates the changed scenario once per call.

Path rules
----------
* Sections and fields are joined by dots, from the top of the scenario: ``market.outside.gain_per_round``.
* A list item is picked by its natural key: companies by ``name``, ``compute.gpus`` by ``name``,
  ``market.segments`` by ``id``, ``data.sources`` by ``kind``. ``events`` and any other list without a key
  are picked by position only (an event's title is too long to type).
* Any list item may also be picked by position, from 0, bare or in brackets: ``compute.gpus.0.price_usd``
  and ``compute.gpus[0].price_usd`` are the first GPU of the catalogue.
* **Digits are always a position, never a name.** ``compute.gpus.0`` is the first GPU even if some GPU is
  called "0"; to reach that one, quote the name: ``compute.gpus["0"]``. So a bare-digit path means the same
  whatever the items are called (a position does follow the order of the list).
* A dict of numbers (a company's ``gpus`` by GPU name, its ``domain_skill`` by segment id) is picked by key;
  a dict has no positions, so there digits are a key like any other (``gpus.100`` is the GPU called "100").
  A key the company does not hold yet may be set if the scenario has it (a GPU of the catalogue, a segment
  id): that adds the entry, e.g. ``companies[2].gpus.H100: 1000`` gives the third company 1,000 H100s.
* Names are written as they are, spaces included: ``companies.Aurora AI.cash_musd``. Spaces around an unquoted
  name or position are dropped (``compute . gpus[ 1 ]`` works); in quotes they are kept.
* **A dot outside quotes always separates.** A name with a dot, a bracket, or spaces at its ends must be
  quoted in brackets: ``companies["Acme 2.0"].cash_musd`` (single quotes work too; in quotes a backslash makes
  the next character literal). Brackets without quotes hold a name with no ``]`` in it or a position:
  ``companies[Aurora AI]``, ``companies[2]``. An unquoted ``companies.Acme 2.0.cash_musd`` looks for a company
  called "Acme 2" and its error says to quote the name.

``numeric_paths`` gives each number field in canonical form: keyed items by key, names quoted only when these
rules need it, positions in brackets (``events[0].magnitude``). Booleans, text, choices and ids are not number
fields. An optional number that is empty in the scenario (a dense model's ``active_params_b``, an unscheduled
event's ``round``) can be set, but is listed only with ``include_unset=True``; an empty optional section (a
product company's ``model``) has nothing to set.

Values: an int, a float, or another real number (Fraction, Decimal, numpy scalars). Not a bool, text, a list,
None, NaN or infinity. An int field keeps ints (3.0 is taken as 3; 2.5 gets the field's own message); a float
field gets floats (60000 is written as 60000.0).

Problems: ``OverrideError.problems`` lists every one, in the order of the overrides, each at the path as written
(cut at 200 characters) with a message of at most 300. A value the changed scenario refuses gets the field's own
message ("must be greater than or equal to 0, got -5"); a check of a whole section (a model's active parameters
within its total, a metric range's low below its high, some scoring weight above zero) is told at every override
inside that section; an event scheduled past the last round is told at ``rounds`` (or at the event's ``round``).
Two paths to the same field are a problem at the second.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from inspect import isclass
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from app.scenario.loader import MESSAGE_MAX_CHARS, plain_message, shown
from app.scenario.references import reference_problems
from app.scenario.schema import CompanyStart, Compute, Data, Market, Scenario

__all__ = ["OverrideError", "OverrideProblem", "Resolved", "apply_overrides", "numeric_paths", "resolve_path"]

Loc = tuple[str | int, ...]
PATH_SHOWN_MAX_CHARS = 200  # how much of a path a problem repeats
NAMES_LISTED = 12  # names an unknown-item message lists
SUGGESTIONS = 3  # nearest valid paths an unknown-field message names
HUGE_INT_BITS = 1000  # past ~300 digits no field can hold the number (and repr may refuse it)
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class OverrideProblem:
    """One override that cannot be applied: the path as the user wrote it and why, in plain words."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class OverrideError(ValueError):
    """Overrides that cannot be applied; carries every problem found, in the order of the overrides."""

    def __init__(self, problems: list[OverrideProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Resolved(NamedTuple):
    """Where a path leads: its location in the scenario's data, its canonical path, the field's number type
    (int or float) and its current value (None for an empty optional number or a new dict entry)."""

    loc: Loc
    path: str
    number: type
    current: int | float | None


# --- what each field of the schema holds ------------------------------------------------------------------

@dataclass(frozen=True)
class _Number:
    type: type
    optional: bool = False


@dataclass(frozen=True)
class _Section:
    cls: type[BaseModel]
    optional: bool = False


@dataclass(frozen=True)
class _ListOf:
    item: Any
    key: str | None = None  # the field that names an item, or None: by position only
    noun: str = "item"  # "no GPU called 'H900'; the catalogue has ..."
    plural: str = "items"
    called: str = "called"
    has: str = "the list has"
    optional: bool = False


@dataclass(frozen=True)
class _DictOf:
    value: Any
    keys_from: Loc | None = None  # a keyed list of the scenario whose keys the dict may hold
    key: str = ""
    noun: str = "entry"
    called: str = "called"
    has: str = "the scenario has"
    optional: bool = False


@dataclass(frozen=True)
class _Other:
    what: str  # "a text field", "a yes/no field", ...
    optional: bool = False


_LISTS: dict[tuple[type, str], dict[str, Any]] = {
    (Scenario, "companies"): {"key": "name", "noun": "company", "plural": "companies", "has": "the scenario has"},
    (Compute, "gpus"): {"key": "name", "noun": "GPU", "plural": "GPUs", "has": "the catalogue has"},
    (Market, "segments"): {"key": "id", "noun": "segment", "plural": "segments", "called": "with id",
                           "has": "the segments are"},
    (Data, "sources"): {"key": "kind", "noun": "data source", "plural": "data sources", "called": "of kind",
                        "has": "the sources are"},
    (Scenario, "events"): {"noun": "event", "plural": "events"},
}
_DICTS: dict[tuple[type, str], dict[str, Any]] = {
    (CompanyStart, "gpus"): {"keys_from": ("compute", "gpus"), "key": "name", "noun": "GPU",
                             "has": "the catalogue has"},
    (CompanyStart, "domain_skill"): {"keys_from": ("market", "segments"), "key": "id", "noun": "segment",
                                     "called": "with id", "has": "the segments are"},
}


def _describe(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        return _describe(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return replace(_describe(args[0]), optional=True)
        return _Other("a field of several kinds")
    if tp is bool:
        return _Other("a yes/no field")
    if tp is int or tp is float:
        return _Number(tp)
    if origin is Literal:
        return _Other("a choice of " + ", ".join(repr(a) for a in get_args(tp)))
    if tp is str:
        return _Other("a text field")
    if isclass(tp) and issubclass(tp, BaseModel):
        return _Section(tp)
    if origin is list:
        return _ListOf(_describe(get_args(tp)[0]))
    if origin is dict:
        return _DictOf(_describe(get_args(tp)[1]))
    return _Other("not a number field")


@cache
def _field(cls: type[BaseModel], name: str) -> Any:
    desc = _describe(cls.model_fields[name].annotation)
    if isinstance(desc, _ListOf) and (cls, name) in _LISTS:
        desc = replace(desc, **_LISTS[cls, name])
    if isinstance(desc, _DictOf) and (cls, name) in _DICTS:
        desc = replace(desc, **_DICTS[cls, name])
    return desc


# --- reading and writing paths ----------------------------------------------------------------------------

class _Token(NamedTuple):
    text: str
    position: int | None  # a position (bare or bracketed digits), else None: a name


class _Bad(Exception):
    """A path or value that cannot be used; the message is for the user."""


_QUOTE_HINT = 'quote names with dots or brackets, e.g. companies["Acme 2.0"].cash_musd'


def _tokens(path: str) -> list[_Token]:
    if not path.strip():
        raise _Bad("an empty path; name a number field, e.g. market.outside.gain_per_round")
    out: list[_Token] = []
    pos, n = 0, len(path)
    while True:
        if pos < n and path[pos] == "[":
            token, pos = _bracket(path, pos)
            out.append(token)
        else:
            end = min((i for i in (path.find(".", pos), path.find("[", pos)) if i >= 0), default=n)
            text = path[pos:end]
            if "]" in text:
                raise _Bad(f"a ']' without its '['; {_QUOTE_HINT}")
            out.append(_plain_token(text.strip()))
            pos = end
        if pos == n:
            return out
        if path[pos] == ".":
            pos += 1
            if pos == n:
                raise _Bad("ends with a dot; name a field after it")


def _plain_token(text: str) -> _Token:
    if not text:
        raise _Bad("has an empty name (two dots in a row, or a dot at the start)")
    if _DIGITS.fullmatch(text):
        return _Token(text, int(text) if len(text) < 10 else 10**10)
    return _Token(text, None)


def _bracket(path: str, pos: int) -> tuple[_Token, int]:
    """The name or position in brackets at ``path[pos] == '['``, and where the path goes on after them."""
    i = pos + 1
    while i < len(path) and path[i] == " ":
        i += 1
    if i < len(path) and path[i] in "\"'":
        quote, chars, i = path[i], [], i + 1
        while i < len(path) and path[i] != quote:
            if path[i] == "\\" and i + 1 < len(path):
                i += 1
            chars.append(path[i])
            i += 1
        if i >= len(path):
            raise _Bad(f"a quoted name without its closing {quote}")
        i += 1
        while i < len(path) and path[i] == " ":
            i += 1
        if i >= len(path) or path[i] != "]":
            raise _Bad("a quoted name in brackets must be followed by ']'")
        token = _Token("".join(chars), None)
    else:
        close = path.find("]", i)
        if close < 0:
            raise _Bad(f"a '[' without its ']'; {_QUOTE_HINT}")
        text = path[i:close]
        if "[" in text:
            raise _Bad(f"brackets inside brackets; {_QUOTE_HINT}")
        if not text.strip():
            raise _Bad("has empty brackets; put a name or a position in them")
        token, i = _plain_token(text.strip()), close
    after = i + 1
    if after < len(path) and path[after] not in ".[":
        raise _Bad(f"expected '.' or '[' after ']', got {shown(path[after:after + 10])}")
    return token, after


def _name_part(name: str) -> str:
    """A name as a canonical path writes it: bare unless the rules need quotes."""
    if name and name == name.strip() and not _DIGITS.fullmatch(name) and not any(c in name for c in ".[]"):
        return name
    return '["' + name.replace("\\", "\\\\").replace('"', '\\"') + '"]'


def _join(parts: list[str]) -> str:
    return "".join(p if i == 0 or p.startswith("[") else "." + p for i, p in enumerate(parts))


def _item_part(desc: _ListOf, item: Any, i: int) -> str:
    return _name_part(str(getattr(item, desc.key))) if desc.key else f"[{i}]"


# --- listing ----------------------------------------------------------------------------------------------

def numeric_paths(scenario: Scenario, *, include_unset: bool = False) -> list[str]:
    """Every number field of this scenario that an override can set, as a canonical path, in schema order.

    With ``include_unset``, also the optional numbers that are empty in this scenario."""
    return [_join(parts) for parts, _ in _walk(scenario, _Section(Scenario), [], include_unset)]


def _walk(node: Any, desc: Any, parts: list[str], unset: bool) -> Iterator[tuple[list[str], Any]]:
    if isinstance(desc, _Number):
        if node is not None or unset:
            yield parts, desc
    elif node is None:
        return
    elif isinstance(desc, _Section):
        for name in desc.cls.model_fields:
            yield from _walk(getattr(node, name), _field(desc.cls, name), [*parts, name], unset)
    elif isinstance(desc, _ListOf):
        for i, item in enumerate(node):
            yield from _walk(item, desc.item, [*parts, _item_part(desc, item, i)], unset)
    elif isinstance(desc, _DictOf):
        for key, value in node.items():
            yield from _walk(value, desc.value, [*parts, _name_part(str(key))], unset)


# --- resolving --------------------------------------------------------------------------------------------

def resolve_path(scenario: Scenario, path: str) -> Resolved:
    """Where ``path`` leads in ``scenario``; raise OverrideError (one problem) if it leads to no number field."""
    try:
        return _resolve(scenario, path)
    except _Bad as bad:
        raise OverrideError([_problem(path if isinstance(path, str) else shown(path), str(bad))]) from None


def _resolve(scenario: Scenario, path: object) -> Resolved:
    if not isinstance(path, str):
        raise _Bad(f"a path must be text, got {shown(path)}")
    tokens = _tokens(path)
    node: Any = scenario
    desc: Any = _Section(Scenario)
    loc: list[str | int] = []
    parts: list[str] = []
    for n, token in enumerate(tokens):
        where = _join(parts)
        if isinstance(desc, _Section):
            if node is None:
                raise _Bad(f"{where} is empty in this scenario, so it has no fields to set")
            if token.text not in desc.cls.model_fields:
                raise _Bad(_unknown_field(scenario, parts, tokens[n:], desc.cls))
            node, desc = getattr(node, token.text), _field(desc.cls, token.text)
            loc.append(token.text)
            parts.append(token.text)
        elif isinstance(desc, _ListOf):
            i = _list_position(desc, node, token, where)
            loc.append(i)
            parts.append(_item_part(desc, node[i], i))
            node, desc = node[i], desc.item
        elif isinstance(desc, _DictOf):
            if node is None:
                raise _Bad(f"{where} is empty in this scenario")
            if token.text in node:
                node = node[token.text]
            else:
                _check_new_key(scenario, desc, token.text, where)
                node = None
            loc.append(token.text)
            parts.append(_name_part(token.text))
            desc = desc.value
        elif isinstance(desc, _Number):
            raise _Bad(f"{where} is a number, so it has no field {shown(token.text)}")
        else:
            raise _Bad(f"{where} is {desc.what}, so it has no field {shown(token.text)}")
    if isinstance(desc, _Number):
        return Resolved(tuple(loc), _join(parts), desc.type, node)
    raise _Bad(_not_a_number(node, desc, parts))


def _list_position(desc: _ListOf, items: list[Any], token: _Token, where: str) -> int:
    count = f"{len(items)} {desc.noun if len(items) == 1 else desc.plural}"
    if token.position is not None:
        if token.position < len(items):
            return token.position
        at = _cut(token.text, 12)
        return _fail(f"no {desc.noun} at position {at}; there are {count}" + (
            f", at positions 0 to {len(items) - 1}" if items else ""))
    if desc.key is None:
        return _fail(f"{desc.plural} are picked by position (0 to {len(items) - 1}), not by name; got "
                     f"{shown(token.text)}")
    names = [str(getattr(item, desc.key)) for item in items]
    if token.text in names:
        return names.index(token.text)
    message = f"no {desc.noun} {desc.called} {shown(token.text)}; {desc.has} {_listed(names)}"
    dotted = next((name for name in names if name.startswith(token.text + ".")), None)
    if dotted is not None:
        message += f"; a name with a dot goes in quotes: {where}{_name_part(dotted)}"
    return _fail(message)


def _fail(message: str) -> int:
    raise _Bad(message)


def _check_new_key(scenario: Scenario, desc: _DictOf, key: str, where: str) -> None:
    """A key the dict does not hold may be added if the scenario's list of such things has it."""
    if desc.keys_from is None:
        return
    items: Any = scenario
    for part in desc.keys_from:
        items = getattr(items, str(part))
    names = [str(getattr(item, desc.key)) for item in items]
    if key not in names:
        raise _Bad(f"no {desc.noun} {desc.called} {shown(key)}; {desc.has} {_listed(names)}")


def _listed(names: list[str]) -> str:
    shown_names = ", ".join(names[:NAMES_LISTED])
    return shown_names + (f" and {len(names) - NAMES_LISTED} more" if len(names) > NAMES_LISTED else "")


def _unknown_field(scenario: Scenario, parts: list[str], rest: list[_Token], cls: type[BaseModel]) -> str:
    """'no such field', naming up to SUGGESTIONS nearest valid paths: first below the part of the path that
    was found, then anywhere."""
    prefix = _join(parts)
    probe_rest = ".".join(t.text for t in rest)
    every = numeric_paths(scenario, include_unset=True)
    lead = prefix + "." if prefix else ""
    below = [p[len(lead):] for p in every if p.startswith(lead)]
    close = [lead + p for p in _nearest(probe_rest, below, 0.6)]
    if not close and lead:  # a slip further up: compare whole paths, leaving out those judged above
        close = _nearest(lead + probe_rest, [p for p in every if not p.startswith(lead)], 0.75)
    if close:
        return "no such field; did you mean " + _either(close) + "?"
    fields = [name for name in cls.model_fields if _has_numbers(_field(cls, name))]
    return f"no such field; {prefix or 'a scenario'} has {_listed(fields)}"


def _nearest(word: str, candidates: list[str], cutoff: float) -> list[str]:
    """Up to SUGGESTIONS candidates close to word, keeping only those nearly as close as the best."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    scored = []
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            score = matcher.ratio()
            if score >= cutoff:
                scored.append((score, candidate))
    scored.sort(key=lambda sc: -sc[0])
    best = scored[0][0] if scored else 0.0
    return [c for s, c in scored[:SUGGESTIONS] if s >= best - 0.08]


def _either(paths: list[str]) -> str:
    return paths[0] if len(paths) == 1 else ", ".join(paths[:-1]) + " or " + paths[-1]


def _has_numbers(desc: Any) -> bool:
    if isinstance(desc, _Number):
        return True
    if isinstance(desc, _Section):
        return any(_has_numbers(_field(desc.cls, name)) for name in desc.cls.model_fields)
    if isinstance(desc, (_ListOf, _DictOf)):
        return _has_numbers(desc.item if isinstance(desc, _ListOf) else desc.value)
    return False


def _not_a_number(node: Any, desc: Any, parts: list[str]) -> str:
    where = _join(parts)
    example = next((_join(p) for p, _ in _walk(node, desc, parts, True)), None)
    if isinstance(desc, _Section):
        if node is None:
            return "is a section, not a number field (and it is empty in this scenario)"
        fields = [name for name in desc.cls.model_fields if _has_numbers(_field(desc.cls, name))]
        if not fields:
            return "is a section with no number fields"
        return f"is a section, not a number field; its number fields are {_listed(fields)}"
    if isinstance(desc, _ListOf):
        hint = f"; pick an item and a field, e.g. {example}" if example else ""
        return f"is a list, not a number field{hint}"
    if isinstance(desc, _DictOf):
        hint = f"; pick an entry, e.g. {example}" if example else f"; pick an entry, e.g. {where}.<name>"
        return f"is a table of numbers, not a number field{hint}"
    return f"is {desc.what}, not a number field"


# --- values -----------------------------------------------------------------------------------------------

def _number(value: object, kind: type) -> int | float:
    """The value as the field's number type, or _Bad. An int field is given 2.5 as is: validation objects."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        raise _Bad(f"must be a number, got {shown(value)}")
    if isinstance(value, numbers.Integral):
        whole = int(value)
        if whole.bit_length() > HUGE_INT_BITS:
            raise _Bad("must be a number a field can hold; this one has more than 300 digits")
        return whole if kind is int else float(whole)
    try:
        real = float(value)
    except (OverflowError, ValueError):
        real = math.inf
    if not math.isfinite(real):
        raise _Bad(f"must be a finite number, got {shown(value)}")
    return int(real) if kind is int and real.is_integer() else real


# --- applying ---------------------------------------------------------------------------------------------

def apply_overrides(scenario: Scenario, overrides: Mapping[str, object]) -> Scenario:
    """A new validated scenario with every override set; ``scenario`` is left as it is.

    Raise OverrideError listing every problem: unknown or non-number paths, values that are not numbers,
    and what validating the changed scenario finds, each at the override that caused it."""
    if not isinstance(overrides, Mapping):
        raise OverrideError([OverrideProblem("", f"overrides must be a mapping of paths to numbers, got "
                                                 f"{shown(overrides)}")])
    problems: list[tuple[int, OverrideProblem]] = []
    applied: list[_Applied] = []
    seen: dict[Loc, str] = {}
    data = scenario.model_dump()
    for order, (path, value) in enumerate(overrides.items()):
        written = path if isinstance(path, str) else shown(path)
        try:
            target = _resolve(scenario, path)
            number = _number(value, target.number)
            if target.loc in seen:
                raise _Bad(f"sets the same field as {_cut(seen[target.loc], PATH_SHOWN_MAX_CHARS)} "
                           f"({target.path})")
        except _Bad as bad:
            problems.append((order, _problem(written, str(bad))))
            continue
        seen[target.loc] = written
        _set(data, target.loc, number)
        applied.append(_Applied(order, target.loc, written, value))
    try:
        result = Scenario.model_validate(data)
    except ValidationError as exc:
        problems += _validation_problems(exc, data, applied)
    if problems:
        problems.sort(key=lambda op: op[0])
        unique = list(dict.fromkeys(p for _, p in problems))
        raise OverrideError(unique)
    return result


def _set(data: Any, loc: Loc, value: int | float) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


class _Applied(NamedTuple):
    order: int  # among the overrides as given
    loc: Loc
    path: str  # as written
    value: object  # as written


def _validation_problems(exc: ValidationError, data: dict[str, Any],
                         applied: list[_Applied]) -> list[tuple[int, OverrideProblem]]:
    """Each error of validating the changed scenario, at the override(s) that touched its place."""
    errors = exc.errors()
    located = reference_problems(data)
    found: list[tuple[Loc, str]] = []
    for err in errors:
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if not loc and err["type"] == "value_error" and located:
            continue  # the cross-reference check: its problems come located below
        written = next((a.value for a in applied if a.loc == loc), None)
        if type(written) in (int, float) and "input" in err:
            err = {**err, "input": written}  # quote the value as the user wrote it (-5, not -5.0)
        found.append((loc, _message(dict(err))))
    found += [(tuple(loc), message) for loc, message in located]
    return [(a.order, _problem(a.path, message)) for loc, message in found for a in _touching(loc, applied)]


def _message(err: dict[str, Any]) -> str:
    """The loader's plain message, said of the value set: "must be greater than or equal to 0, got -5"."""
    if err["type"] == "int_from_float":
        return f"must be a whole number, got {shown(err.get('input'))}"
    message = plain_message(err)
    return "must be " + message[len("input should be "):] if message.startswith("input should be ") else message


def _touching(loc: Loc, applied: list[_Applied]) -> list[_Applied]:
    """The overrides an error at loc is about: those set at, inside or above it (a
    section's own check is about every override inside it). A scheduled event past the last round is about
    ``rounds`` too. If none matches, every override: the scenario was valid before them."""
    related = [loc]
    if len(loc) == 3 and loc[0] == "events" and loc[2] == "round":
        related.append(("rounds",))
    hits = [a for a in applied if any(a.loc[:len(r)] == r or r[:len(a.loc)] == a.loc for r in related)]
    return hits or applied


def _problem(path: str, message: str) -> OverrideProblem:
    return OverrideProblem(_cut(path, PATH_SHOWN_MAX_CHARS), _cut(message, MESSAGE_MAX_CHARS))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
