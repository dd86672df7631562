"""Reading and checking study files: every problem at once, at its field path and line, before anything runs.

A study is checked in two passes: its shape (`app.studies.schema`), then everything that needs the scenario:
override and sweep paths and values, company names, tweak fields, strategy modules, scripts, injected events
and the study's size. `prepare` turns a checked study into the configurations the runner plays.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.engine import personas
from app.engine.decisions import Decision
from app.engine.validation import unknown_names
from app.engine.world import World
from app.scenario import Problem, Scenario, ScenarioError, find_scenario
from app.scenario.loader import line_of, plain_message, read_yaml
from app.studies.overrides import OverrideError, apply_overrides, resolve_path
from app.studies.play import Config, SeatPlan
from app.studies.schema import Seat, Study
from app.studies.tweaks import TweakError, resolve

DEFAULT_MAX_RUNS = 1_000_000  # games in a study (runs x arms x sweep points); MOATLINE_STUDY_MAX_RUNS changes it
# The summaries keep every game's final-round measures in memory (8 bytes each): at most this much of it.
SUMMARY_MEMORY_MAX_BYTES = 2 * 2**30
SCRIPT_MAX_BYTES = 50_000_000
DOCS = "docs/studies.md"


class StudyError(ValueError):
    """A study that cannot run as written; carries every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source, self.problems = source, problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


@dataclass(frozen=True)
class Prepared:
    """A checked study and everything needed to play it."""

    study: Study
    scenario: Scenario  # with the study's overrides (arm and sweep overrides come on top)
    configs: tuple[Config, ...]  # arm-major, then sweep point
    labels: tuple[str, ...]  # every seat strategy's label
    source: str = "<study>"

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.study.arms)

    @property
    def sweep_paths(self) -> tuple[str, ...]:
        return tuple(self.study.sweep)


def max_runs() -> int:
    """The largest study this machine accepts (MOATLINE_STUDY_MAX_RUNS), in games."""
    text = os.environ.get("MOATLINE_STUDY_MAX_RUNS", "")
    return int(text) if text.strip().isdigit() and int(text) > 0 else DEFAULT_MAX_RUNS


def load_study(path: str | Path, most_runs: int | None = None, runs: int | None = None) -> Prepared:
    """Read, check and prepare a study file; StudyError lists every problem with its line. `runs` plays the file
    with another number of runs (a quick look at a big study, or a bigger one of a small study)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not text"
        raise StudyError(str(path), [Problem("", None, f"cannot read the file ({why})")]) from None
    return parse_study(text, str(path), base=path.parent, most_runs=most_runs, runs=runs)


def parse_study(text: str, source: str = "<study>", base: Path | None = None, most_runs: int | None = None,
                runs: int | None = None) -> Prepared:
    """Check study text (YAML or JSON); relative scenario and script paths are read from `base`."""
    try:
        node, data = read_yaml(text, source)
    except ScenarioError as exc:
        raise StudyError(source, exc.problems) from None
    if not isinstance(data, dict):
        raise StudyError(source, [Problem("", 1, "a study must be a mapping of fields (scenario, runs, seats, arms, ...)")])
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        problems = _shape_problems(exc, node)
        rest = _without(data, exc)  # the parts that are well formed are still checked against the scenario
        if rest is not None:
            try:
                prepare(rest, source, base or Path.cwd(), node, most_runs)
            except StudyError as more:
                problems += [p for p in more.problems if p not in problems]
        raise StudyError(source, problems) from None
    if runs is not None:
        try:  # the file's other numbers stay; the new count is checked as the file's own would be
            study = Study.model_validate({**study.model_dump(exclude_unset=True), "runs": runs})
        except ValidationError as exc:
            raise StudyError(source, _shape_problems(exc, None)) from None
    return prepare(study, source, base or Path.cwd(), node, most_runs)


def _shape_problems(exc: ValidationError, node: yaml.Node | None) -> list[Problem]:
    out = []
    for e in exc.errors():
        loc: list[object] = [p for p in e["loc"] if not str(p).startswith("function-")]
        message = "needs at least one value" if e["type"] == "too_short" else plain_message(dict(e), DOCS)
        out.append(Problem(_dotted(loc), line_of(node, loc), message))
    return out


def _without(data: dict[str, Any], exc: ValidationError) -> Study | None:
    """The study with every badly formed entry left out, if what remains is a study (to check the rest)."""
    import copy

    rest = copy.deepcopy(data)
    for e in exc.errors():
        loc = list(e["loc"])
        depth = 2 if loc and loc[0] in {"seats", "overrides", "sweep", "inject", "arms"} and len(loc) > 1 else 1
        parent: Any = rest
        for step in loc[:depth - 1]:
            parent = parent.get(step) if isinstance(parent, dict) else None
        key: object = loc[depth - 1] if loc else None
        if isinstance(parent, dict) and key in parent:
            del parent[key]
        elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
            parent[key] = {"name": f"(arm {key + 1})"}
    try:
        return Study.model_validate(rest)
    except ValidationError:
        return None


def prepare(study: Study, source: str = "<study>", base: Path | None = None, node: yaml.Node | None = None,
            most_runs: int | None = None) -> Prepared:
    """Every check that needs the scenario, then the configurations to play; StudyError lists every problem."""
    base = base or Path.cwd()
    problems: list[Problem] = []

    def bad(loc: list[Any], message: str) -> None:
        problems.append(Problem(_dotted(loc), line_of(node, loc), message))

    most = max_runs() if most_runs is None else most_runs
    if study.total_runs > most:
        bad(["runs"], f"the study plays {study.total_runs:,} games ({study.runs:,} runs x {len(study.arms)} arm(s) x "
                      f"{len(study.sweep_points)} sweep point(s)); this machine allows {most:,} (MOATLINE_STUDY_MAX_RUNS)")
    scenario = _scenario(study, base, bad)
    if scenario is None:
        raise StudyError(source, problems)
    from app.studies.play import MEASURES

    needed = study.total_runs * len(scenario.companies) * len(MEASURES) * 8
    if needed > SUMMARY_MEMORY_MAX_BYTES and study.total_runs <= most:
        bad(["runs"], f"the summaries of {study.total_runs:,} games of {len(scenario.companies)} companies need "
                      f"{needed / 2**30:.1f} GiB of memory, more than {SUMMARY_MEMORY_MAX_BYTES / 2**30:.0f} GiB: play fewer runs, "
                      "or split the arms or the sweep into several studies")
    scenario = _overridden(scenario, study.overrides, ["overrides"], bad) or scenario
    world = World(scenario)
    names = world.company_names
    for where, seats in [(["seats"], study.seats)] + [(["arms", i, "seats"], a.seats) for i, a in enumerate(study.arms)]:
        for company, seat in seats.items():
            if company not in names:
                bad([*where, company], f"there is no company {company!r} in {scenario.id}; companies are {', '.join(names)}")
                continue
            _check_seat(world, seat, [*where, company], base, bad)
    for i, arm in enumerate(study.arms):
        _overridden(scenario, arm.overrides, ["arms", i, "overrides"], bad)
    for path, values in study.sweep.items():
        if _known_path(scenario, path, ["sweep", path], bad):
            for j, value in enumerate(values):
                _overridden(scenario, {path: value}, ["sweep", path, j], bad, located=True)
    inject = _injected(study, scenario, bad)
    if study.sensitivity is not None:
        _check_sensitivity(study, scenario, bad)
    if problems:
        raise StudyError(source, list(dict.fromkeys(problems)))  # a path wrong at several values is said once per line
    return _prepared(study, scenario, inject, base, source)


def _scenario(study: Study, base: Path, bad) -> Scenario | None:  # noqa: ANN001
    name = study.scenario
    candidate = base / name
    try:
        return find_scenario(str(candidate) if candidate.suffix in {".yaml", ".yml", ".json"} or candidate.exists() else name)
    except ScenarioError as exc:
        first = exc.problems[0] if exc.problems else None
        detail = first.message if first and len(exc.problems) == 1 else f"{len(exc.problems)} problem(s); run moatline scenario validate {name}"
        bad(["scenario"], f"{name!r}: {detail}")
        return None


def _overridden(scenario: Scenario, overrides: dict[str, Any], where: list[Any], bad, located: bool = False) -> Scenario | None:  # noqa: ANN001
    """The scenario with the overrides; problems go to `where` + the path (or to `where` itself when `located`)."""
    if not overrides:
        return scenario
    try:
        return apply_overrides(scenario, overrides)
    except OverrideError as exc:
        for p in exc.problems:
            bad(where if located else [*where, p.path], p.message)
        return None


def _known_path(scenario: Scenario, path: str, where: list[Any], bad) -> bool:  # noqa: ANN001
    try:
        resolve_path(scenario, path)
        return True
    except OverrideError as exc:
        for p in exc.problems:
            bad(where, p.message)
        return False


def _check_seat(world: World, seat: Seat, where: list[Any], base: Path, bad) -> None:  # noqa: ANN001
    for j, tweak in enumerate(seat.tweaks or []):
        try:
            resolve(world, tweak)
        except TweakError as exc:
            bad([*where, "tweaks", j, "field"], str(exc))
        for r in tweak.rounds or []:
            if r > world.scenario.rounds:
                bad([*where, "tweaks", j, "rounds"], f"round {r} is after the game's last ({world.scenario.rounds})")
                break
    if seat.strategy is not None:
        from app.engine.views import StrategyError, load_strategy

        try:
            load_strategy(seat.strategy)
        except StrategyError as exc:
            bad([*where, "strategy"], str(exc))
    if seat.script is not None:
        try:
            script(world, seat, where[-1], base)
        except ValueError as exc:
            bad([*where, "script"], str(exc))


def script(world: World, seat: Seat, company: str, base: Path) -> tuple[Decision | str | None, ...]:
    """A seat's fixed decisions, one per round: a decision, a stand-in persona, or None to carry on."""
    assert seat.script is not None
    path = base / seat.script
    try:
        if path.stat().st_size > SCRIPT_MAX_BYTES:
            raise ValueError(f"{seat.script} is larger than {SCRIPT_MAX_BYTES // 1_000_000} MB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {seat.script} ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{seat.script} is not JSON ({exc})") from None
    if isinstance(data, dict) and "played" in data:
        out = list(_from_archive(data, seat.company or company, seat.script))
    else:
        if isinstance(data, dict) and "decisions" in data:
            data = data["decisions"]
        if not isinstance(data, list):
            raise ValueError(f"{seat.script} must hold a list of decisions, one per round (null to carry on), or a game archive")
        out = [_entry(entry, f"{seat.script} round {i + 1}") for i, entry in enumerate(data)]
    c = world.company_names.index(company)
    for i, entry in enumerate(out):
        wrong = unknown_names(world, c, entry) if isinstance(entry, Decision) else []
        if wrong:
            raise ValueError(f"{seat.script} round {i + 1}: " + "; ".join(f"{p.field}: {p.message}" for p in wrong))
    return tuple(out)


def _entry(entry: object, where: str) -> Decision | str | None:
    if entry is None:
        return None
    if isinstance(entry, dict) and set(entry) == {"persona"}:
        if entry["persona"] not in personas.TRAITS:
            raise ValueError(f"{where}: no persona {entry['persona']!r}")
        return str(entry["persona"])
    try:
        return Decision.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {loc or 'decision'}: {plain_message(dict(first))} ({len(exc.errors())} problem(s) in all)") from None


def _from_archive(data: dict[str, Any], company: str, name: str) -> tuple[Decision | str | None, ...]:
    """One company's inputs in an exported game: its decisions, its stand-ins, and carry-on where neither."""
    seats = {s.get("company"): s for s in data.get("seats", []) if isinstance(s, dict)}
    if company not in seats:
        raise ValueError(f"{name} has no company {company!r}; it has {', '.join(str(c) for c in seats)}")
    out: list[Decision | str | None] = []
    for played in sorted(data.get("played", []), key=lambda p: p.get("round", 0)):
        inputs = played.get("inputs", {})
        decided, stand_ins = inputs.get("decisions", {}), inputs.get("stand_ins", {})
        if company in decided:
            out.append(_entry(decided[company], f"{name} round {played.get('round')}"))
        elif company in stand_ins:
            out.append(str(stand_ins[company]))
        else:
            out.append(None)
    return tuple(out)


def _injected(study: Study, scenario: Scenario, bad) -> dict[int, tuple[int, ...]]:  # noqa: ANN001
    titles = [e.title for e in scenario.events]
    out: dict[int, tuple[int, ...]] = {}
    for rnd, events in study.inject.items():
        if rnd > scenario.rounds:
            bad(["inject", rnd], f"round {rnd} is after the game's last ({scenario.rounds})")
            continue
        found = []
        for j, e in enumerate(events):
            if isinstance(e, int) and 0 <= e < len(titles):
                found.append(e)
            elif isinstance(e, str) and e in titles:
                found.append(titles.index(e))
            else:
                known = "; ".join(f"{i}: {t}" for i, t in enumerate(titles[:8])) or "none"
                bad(["inject", rnd, j], f"no event {e!r} in {scenario.id}'s catalogue ({known}{'; ...' if len(titles) > 8 else ''})")
        out[rnd] = tuple(sorted(set(found)))
    return out


def _check_sensitivity(study: Study, scenario: Scenario, bad) -> None:  # noqa: ANN001
    from app.studies.play import MEASURES

    s = study.sensitivity
    assert s is not None
    if s.output not in MEASURES:
        bad(["sensitivity", "output"], f"no KPI {s.output!r}; choose from {', '.join(MEASURES)}")
    names = [c.name for c in scenario.companies]
    for j, c in enumerate(s.companies or []):
        if c not in names:
            bad(["sensitivity", "companies", j], f"there is no company {c!r} in {scenario.id}")
    if not s.parameters:
        bad(["sensitivity", "parameters"], "name at least one parameter with its [low, high] range")
    for path, (low, high) in s.parameters.items():
        if not low < high:
            bad(["sensitivity", "parameters", path], f"the range's low ({low:g}) must be below its high ({high:g})")
            continue
        for j, value in enumerate((low, high)) if _known_path(scenario, path, ["sensitivity", "parameters", path], bad) else ():
            _overridden(scenario, {path: value}, ["sensitivity", "parameters", path, j], bad, located=True)


def _prepared(study: Study, scenario: Scenario, inject: dict[int, tuple[int, ...]], base: Path, source: str) -> Prepared:
    configs, labels = [], []
    for i, arm in enumerate(study.arms):
        arm_scenario = apply_overrides(scenario, arm.overrides) if arm.overrides else scenario
        seats = seat_plans(arm_scenario, study.seats, arm.seats, base)
        labels += [label for label in dict.fromkeys(s.label for s in seats) if label not in labels]
        for j, point in enumerate(study.sweep_points):
            sc = apply_overrides(arm_scenario, point) if point else arm_scenario
            configs.append(Config(i, j, sc, seats, tuple(sorted(inject.items())), tuple((k, float(v)) for k, v in point.items())))
    return Prepared(study, scenario, tuple(configs), tuple(labels), source)


def seat_plans(scenario: Scenario, study_seats: dict[str, Seat], arm_seats: dict[str, Seat], base: Path) -> tuple[SeatPlan, ...]:
    """Who plays each company in an arm: the arm's seat over the study's over the scenario's persona."""
    world = World(scenario)
    out = []
    for company in scenario.companies:
        seat = _merged(study_seats.get(company.name), arm_seats.get(company.name))
        tweaks = tuple(seat.tweaks or ()) if seat else ()
        if seat and seat.strategy:
            plan = SeatPlan(company.name, "strategy", company.persona, tweaks=tweaks, strategy=seat.strategy,
                            label=f"strategy {seat.strategy}")
        elif seat and seat.script:
            aggr = seat.aggressiveness if seat.aggressiveness is not None else personas.DEFAULT_AGGRESSIVENESS
            plan = SeatPlan(company.name, "script", company.persona, aggr, tweaks=tweaks,
                            script=script(world, seat, company.name, base), label=f"script {seat.script}")
        else:
            persona = seat.persona if seat and seat.persona else company.persona
            aggr = seat.aggressiveness if seat and seat.aggressiveness is not None else personas.DEFAULT_AGGRESSIVENESS
            label = persona + (f" ({aggr:g})" if aggr != personas.DEFAULT_AGGRESSIVENESS else "")
            plan = SeatPlan(company.name, "persona", persona, aggr, tweaks, label=label)
        if tweaks:
            plan = SeatPlan(**{**plan.__dict__, "label": f"{plan.label} + {len(tweaks)} tweak(s)"})
        out.append(plan)
    return tuple(out)


def _merged(study_seat: Seat | None, arm_seat: Seat | None) -> Seat | None:
    """An arm's seat replaces the study's player if it names one; its tweaks replace the study's tweaks."""
    if arm_seat is None or study_seat is None:
        return arm_seat or study_seat
    names_player = any(getattr(arm_seat, k) is not None for k in ("persona", "strategy", "script"))
    base = {} if names_player else study_seat.model_dump(exclude_none=True, exclude={"tweaks"})
    if not names_player and arm_seat.aggressiveness is not None:
        base["aggressiveness"] = arm_seat.aggressiveness
    mine = arm_seat.model_dump(exclude_none=True)
    tweaks = mine.pop("tweaks", None) or (study_seat.model_dump().get("tweaks") if study_seat.tweaks else None)
    return Seat.model_validate({**base, **mine, **({"tweaks": tweaks} if tweaks else {})})


def _dotted(loc: list[Any]) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")


def study_from_archive(text: str, script_name: str = "game.json", scenario_name: str = "scenario.yaml") -> tuple[str, str]:
    """A study that replays an exported game (`moatline game export`): (scenario YAML, study YAML). Team seats
    replay their decisions and stand-ins from the archive (saved beside it as `script_name`), computer seats play
    their personas, the instructor's injected events are injected; one run on the game's own seed."""
    from app.scenario import parse_scenario
    from app.scenario.loader import dump_scenario
    from app.scenario.schema import Scoring

    try:
        data = json.loads(text)
        scenario = parse_scenario(data["scenario_text"], "the archive's scenario").model_copy(
            update={"rounds": data["rounds"], "scoring": Scoring.model_validate(data["scoring"])})
        seats: dict[str, dict[str, Any]] = {}
        for s in data["seats"]:
            seat: dict[str, Any] = {"persona": s["persona"]} if s["persona"] else {"script": script_name}
            seats[s["company"]] = {**seat, "aggressiveness": float(s["aggressiveness"])}
        inject = {int(p["round"]): list(p["inputs"]["injected"]) for p in data["played"] if p["inputs"].get("injected")}
        seed = int(data["seed"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StudyError("archive", [Problem("", None, f"not a Moatline game archive ({type(exc).__name__}: {exc})")]) from None
    study = {"scenario": scenario_name, "runs": 1, "seed": seed, "seats": seats, **({"inject": inject} if inject else {})}
    header = f"# Replays the exported game {data.get('name', '')!r}: {len(data['played'])} round(s) played of {scenario.rounds}.\n"
    return dump_scenario(scenario.model_dump(mode="json")), header + yaml.safe_dump(study, sort_keys=False, allow_unicode=True)
