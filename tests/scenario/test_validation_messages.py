"""A course designer's mistakes come back all at once, each with its field path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.scenario import Problem, ScenarioError, load_scenario, parse_scenario

# A small valid scenario. Lines a test breaks end with a `# <name>` marker, so expected line
# numbers are found in the text rather than hard-coded.
VALID = """\
# A tiny scenario for tests.
id: tiny
name: Tiny
summary: Two labs and a product company.
rounds: 4  # rounds
teaching_note:
  objectives: [Learn]
  discussion_questions: ["Why?"]
  class_plan: ["Play (10 min)"]
compute:
  gpus:
    - {name: H100, tflops: 989, watts: 700, price_usd: 30000, rent_per_hour: 2.5, supply_per_round: 1000, rental_supply: 1000}
data:
  sources:
    - {kind: scraped, cost_per_t_tokens_musd: 0.5, pool_t_tokens: 100}
talent:
  researchers: {salary_usd: 1000000, pool_per_round: 10}
  engineers: {salary_usd: 500000, pool_per_round: 10}
  safety: {salary_usd: 400000, pool_per_round: 10}
market:
  segments:
    - id: consumer
      name: Consumer
      volume_t_tokens: 100
      reference_price: 4  # segment0
    - id: service  # segment1
      name: Service
      volume_t_tokens: 50
      reference_price: 3  # reference_price
companies:
  - name: Alpha
    kind: lab
    persona: safety_first  # persona
    cash_musd: 1000
    gpus: {H100: 100}  # gpus
    model: {name: A1, params_b: 70, tokens_t: 15}
  - name: Beta
    kind: lab
    cash_musd: 500  # cash
    model: {name: B1, params_b: 30, tokens_t: 10}
  - name: Gamma
    kind: product
    base_model: Alpha  # base_model
    cash_musd: 100
"""


def line_of(text: str, marker: str) -> int:
    """1-based line of the line ending with `# marker`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if line.rstrip().endswith(f"# {marker}")]
    assert len(hits) == 1, marker
    return hits[0]


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "broken.yaml")
    return caught.value.problems


def by_path(problems: list[Problem]) -> dict[str, Problem]:
    return {p.path: p for p in problems}


def break_(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


# Field mistakes: one edit each, with the path and marker line each must be reported at.
WRONG_TYPE = (("rounds: 4", "rounds: four"), "rounds", "rounds", "integer")
NEGATIVE = (("cash_musd: 500", "cash_musd: -500"), "companies[1].cash_musd", "cash", "greater than or equal to 0")
UNKNOWN_FIELD = (
    ("reference_price: 4  # segment0", "reference_price: 4\n      colour: blue  # colour"),
    "market.segments[0].colour",
    "colour",
    "not a field",
)
MISSPELT_ENUM = (("persona: safety_first", "persona: safety_frist"), "companies[0].persona", "persona", "safety_first")
MISSING = (
    ("      reference_price: 3  # reference_price\n", ""),
    "market.segments[1].reference_price",
    "segment1",
    "required",
)
FIELD_MISTAKES = [WRONG_TYPE, NEGATIVE, UNKNOWN_FIELD, MISSPELT_ENUM, MISSING]

# Mistakes across sections.
UNKNOWN_GPU = (("gpus: {H100: 100}", "gpus: {H1000: 100}"), "companies[0].gpus", "gpus", "H1000")
MISSING_LAB = (("base_model: Alpha", "base_model: Omega"), "companies[2].base_model", "base_model", "Omega")
REFERENCE_MISTAKES = [UNKNOWN_GPU, MISSING_LAB]


def test_the_valid_base_loads() -> None:
    assert parse_scenario(VALID).id == "tiny"


@pytest.mark.parametrize("mistake", FIELD_MISTAKES, ids=lambda m: m[1])
def test_each_field_mistake_is_located(mistake: tuple) -> None:
    edit, path, marker, words = mistake
    text = break_(VALID, edit)
    problems = problems_of(text)
    assert len(problems) == 1, problems
    (problem,) = problems
    expected_line = line_of(text, marker)
    assert (problem.path, problem.line) == (path, expected_line)
    assert words in problem.message
    assert f"line {expected_line}, {path}: " in str(problem)


def test_every_field_mistake_is_reported_at_once() -> None:
    text = break_(VALID, *(m[0] for m in FIELD_MISTAKES))
    problems = by_path(problems_of(text))
    assert set(problems) == {m[1] for m in FIELD_MISTAKES}
    for _edit, path, marker, words in FIELD_MISTAKES:
        assert problems[path].line == line_of(text, marker), path
        assert words in problems[path].message


def test_misspelt_enum_lists_the_choices() -> None:
    (problem,) = problems_of(break_(VALID, MISSPELT_ENUM[0]))
    for persona in ("scale_maximalist", "fast_follower", "safety_first", "price_disruptor", "incumbent"):
        assert persona in problem.message
    assert "safety_frist" in problem.message


def test_error_text_lists_every_problem_with_its_file() -> None:
    text = break_(VALID, *(m[0] for m in FIELD_MISTAKES))
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "broken.yaml")
    message = str(caught.value)
    assert message.startswith(f"broken.yaml: {len(FIELD_MISTAKES)} problem(s)")
    for _, path, _, _ in FIELD_MISTAKES:
        assert path in message


@pytest.mark.parametrize("mistake", REFERENCE_MISTAKES, ids=lambda m: m[1])
def test_each_reference_mistake_is_reported_with_names(mistake: tuple) -> None:
    edit, _, _, words = mistake
    problems = problems_of(break_(VALID, edit))
    assert len(problems) == 1
    assert words in problems[0].message
    assert "Alpha" in problems[0].message or "Gamma" in problems[0].message  # which company


@pytest.mark.parametrize("mistake", REFERENCE_MISTAKES, ids=lambda m: m[1])
def test_each_reference_mistake_is_located(mistake: tuple) -> None:
    edit, path, marker, _ = mistake
    text = break_(VALID, edit)
    (problem,) = problems_of(text)
    assert problem.path.startswith(path)
    assert problem.line == line_of(text, marker)


def test_every_mistake_is_reported_at_once() -> None:
    mistakes = FIELD_MISTAKES + REFERENCE_MISTAKES
    text = break_(VALID, *(m[0] for m in mistakes))
    problems = problems_of(text)
    assert len(problems) == len(mistakes)
    for _, path, marker, words in mistakes:
        found = [p for p in problems if p.path.startswith(path)]
        assert found, path
        assert found[0].line == line_of(text, marker), path
        assert words in found[0].message


def test_invalid_yaml_reports_its_line() -> None:
    text = VALID.replace("name: Tiny", 'name: "Tiny')  # unclosed quote runs on
    (problem,) = problems_of(text)
    assert problem.message.startswith("not valid YAML")
    assert problem.line is not None and problem.line >= 3


def test_bad_indentation_reports_the_line() -> None:
    text = VALID.replace("  objectives: [Learn]", "  objectives: [Learn]\n    bad: indent  # indent")
    (problem,) = problems_of(text)
    assert problem.message.startswith("not valid YAML")
    assert problem.line == line_of(text, "indent")


def test_tab_indentation_reports_the_line() -> None:
    text = VALID.replace("  objectives: [Learn]", "\tobjectives: [Learn]  # tab")
    (problem,) = problems_of(text)
    assert problem.message.startswith("not valid YAML")
    assert problem.line == line_of(text, "tab")


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"], ids=["empty", "blank", "comment"])
def test_empty_file_gives_a_clear_message(text: str) -> None:
    (problem,) = problems_of(text)
    assert problem.line == 1
    assert "mapping of fields" in problem.message and "id" in problem.message


def test_a_list_instead_of_a_mapping_gives_a_clear_message() -> None:
    (problem,) = problems_of("- id: tiny\n- name: Tiny\n")
    assert "mapping of fields" in problem.message


def test_empty_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    assert len(caught.value.problems) == 1


def test_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "nope.yaml")
    assert "cannot read" in caught.value.problems[0].message
