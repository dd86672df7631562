"""Reading scenario files, with problems reported by field path and line number.

Scenario text may come from an uploaded archive, so it is read with limits: a size cap, no YAML anchors
or aliases (a few hundred bytes of aliases expand to gigabytes), a nesting cap, and messages that show
at most a short excerpt of a wrong value, never the whole input."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from app.scenario.references import reference_problems
from app.scenario.schema import Scenario

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
SCENARIO_TEXT_MAX_CHARS = 1_000_000  # the shipped scenarios are about 12,000 characters
NESTING_MAX = 32  # mappings and lists inside each other; the schema needs about 6
SHOWN_VALUE_MAX_CHARS = 40  # how much of a wrong value a message quotes
MESSAGE_MAX_CHARS = 300  # a problem's message, names it quotes included
PROBLEMS_MAX = 50  # problems listed; the rest are counted
ALIASES_REFUSED = "anchors (&name) and aliases (*name) are not allowed in a scenario; write each value out"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, located for a course designer."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.path or '(top level)'}: {self.message}"


class ScenarioError(Exception):
    """A scenario file that cannot be used; carries every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


def load_scenario(path: str | Path) -> Scenario:
    """Parse and validate one scenario file; raise ScenarioError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [Problem("", None, f"cannot read the file ({exc.strerror})")]) from None
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario text (YAML or JSON)."""
    node, data = read_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(source, [Problem("", 1, "a scenario must be a mapping of fields (id, name, compute, ...)")])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        field_errors = [err for err in exc.errors() if err["loc"] or err["type"] != "value_error"]
        located = [Problem(_dotted(list(loc)), line_of(node, list(loc)), msg) for loc, msg in reference_problems(data)]
        whole = [] if located else [err for err in exc.errors() if not (err["loc"] or err["type"] != "value_error")]
        problems = [_problem(err, node) for err in field_errors + whole] + located
        raise ScenarioError(source, _bounded(problems)) from None


def _bounded(problems: list[Problem]) -> list[Problem]:
    """At most PROBLEMS_MAX problems, each message cut at MESSAGE_MAX_CHARS (they quote names)."""
    kept = [Problem(_cut(p.path), p.line, _cut(p.message)) for p in problems[:PROBLEMS_MAX]]
    if len(problems) > PROBLEMS_MAX:
        kept.append(Problem("", None, f"and {len(problems) - PROBLEMS_MAX:,} more problem(s)"))
    return kept


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_MAX_CHARS else text[:MESSAGE_MAX_CHARS] + "…"


class LimitedLoader(yaml.SafeLoader):
    """YAML's safe loader without anchors and aliases, and with a cap on nesting."""

    def __init__(self, text: str):
        super().__init__(text)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(None, None, ALIASES_REFUSED, event.start_mark)
        self.depth += 1
        if self.depth > NESTING_MAX:
            message = f"sections are nested more than {NESTING_MAX} deep"
            raise yaml.composer.ComposerError(None, None, message, event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def read_yaml(text: str, source: str) -> tuple[yaml.Node | None, object]:
    """The YAML node tree (for line numbers) and the plain data, read once, within the limits."""
    if len(text) > SCENARIO_TEXT_MAX_CHARS:
        message = f"a scenario has at most {SCENARIO_TEXT_MAX_CHARS:,} characters; "
        message += f"this one has {len(text):,}"
        raise ScenarioError(source, [Problem("", None, message)])
    loader = LimitedLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = Problem("", line, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        raise ScenarioError(source, [problem]) from None
    except ValueError:  # a number past Python's 4,300-digit limit for reading integers
        problem = Problem("", None, "not valid YAML: a number is too long")
        raise ScenarioError(source, [problem]) from None
    finally:
        loader.dispose()


def _problem(err: object, root: yaml.Node | None) -> Problem:
    assert isinstance(err, dict)
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    return Problem(_dotted(loc), line_of(root, loc), plain_message(err))


def _dotted(loc: list[object]) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")


def plain_message(err: dict, fields_doc: str = "docs/scenarios.md") -> str:
    """A pydantic error in a course designer's words, quoting at most a short part of the value."""
    kind, msg = err["type"], err["msg"]
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return f"is not a field of this section (check the spelling in {fields_doc})"
    if kind == "literal_error":
        return f"must be one of {err['ctx']['expected']}, not {shown(err['input'])}"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return f"{msg.lower()}, got {shown(err['input'])}"
    if kind.endswith("_parsing") or kind.endswith("_type"):
        return f"{msg.lower()}, got {shown(err['input'])}"
    return msg.removeprefix("Value error, ")


def shown(value: object) -> str:
    """A wrong value as a message may quote it: a scalar cut at SHOWN_VALUE_MAX_CHARS; else its kind."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    scalar = isinstance(value, (str, int, float, bool)) or value is None
    text = repr(value) if scalar else type(value).__name__
    return text if len(text) <= SHOWN_VALUE_MAX_CHARS else text[:SHOWN_VALUE_MAX_CHARS] + "…"


def line_of(node: yaml.Node | None, loc: list[object]) -> int | None:
    """Follow a pydantic location through the YAML node tree to a 1-based line."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every valid scenario shipped in a directory, sorted by id."""
    return sorted((load_scenario(p) for p in directory.glob("*.yaml")), key=lambda s: s.id)


def find_scenario(name: str, directory: Path = SCENARIO_DIR) -> Scenario:
    """A scenario by file path or by shipped id."""
    path = Path(name)
    if path.suffix in {".yaml", ".yml", ".json"} or path.exists():
        return load_scenario(path)
    candidate = directory / f"{name}.yaml"
    if candidate.exists():
        return load_scenario(candidate)
    known = ", ".join(p.stem for p in sorted(directory.glob("*.yaml")))
    raise ScenarioError(name, [Problem("", None, f"no such scenario file or shipped scenario (shipped: {known})")])


class _PlainDumper(yaml.SafeDumper):
    """Writes a value met twice out twice: scenario files may hold no anchors or aliases."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def dump_scenario(data: object) -> str:
    """A scenario's data as YAML this loader reads (no anchors or aliases, whatever the data shares)."""
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


def json_schema() -> str:
    return json.dumps(Scenario.model_json_schema(), indent=2)
