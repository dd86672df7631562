"""docs/scenarios.md is generated from the schema and stays in step with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.scenario.docs import event_kinds, render_docs
from app.scenario.schema import Scenario
from tests.schema_models import all_models

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "scenarios.md"
REGENERATE = "regenerate it: .venv/bin/python -m app.scenario.docs > docs/scenarios.md"
SECTIONS = (
    "Scenario",
    "TeachingNote",
    "Scaling",
    "Compute",
    "Gpu",
    "DataSource",
    "Data",
    "Talent",
    "TalentRole",
    "Market",
    "Segment",
    "OutsideOption",
    "Safety",
    "Finance",
    "Event",
    "Model",
    "CompanyStart",
    "Scoring",
)


def test_docs_file_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_docs(), f"docs/scenarios.md is stale; {REGENERATE}"


def test_module_prints_the_docs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app.scenario.docs"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout == render_docs()


def test_every_model_has_a_section() -> None:
    docs = render_docs()
    models = all_models(Scenario)
    assert set(SECTIONS) <= set(models), "the brief's sections all exist in the schema"
    for name in models:
        assert f"\n### {name}\n" in docs, name
    positions = [docs.index(f"\n### {name}\n") for name in SECTIONS]
    assert positions == sorted(positions), "sections in reading order"


def test_every_field_of_every_model_is_documented() -> None:
    docs = render_docs()
    for name, model in all_models(Scenario).items():
        section = docs.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
        for field in model.model_fields:
            assert f"| `{field}` |" in section, f"{name}.{field}"


def test_defaults_and_constraints_are_shown() -> None:
    docs = render_docs()
    assert "| `E` | number | `1.8172` | > 0, ≤ 1000 |" in docs
    assert "| `mfu` | number | `0.75` | > 0, ≤ 1 |" in docs
    assert (
        "| `companies` | list of [CompanyStart](#companystart) | **required** | at least 2 items, at most 40 items |"
        in docs
    )
    assert "| `synthetic_flops_per_token` | number | `2e12` |" in docs


def test_the_bounds_of_names_and_of_each_value_of_a_mapping_are_shown() -> None:
    docs = render_docs()
    assert "| `name` | text | **required** | at most 60 characters | Company name. |" in docs
    gpus = "| `gpus` | mapping of text (at most 60 characters) to number (≥ 0, ≤ 5,000,000) |"
    assert gpus + " `{}` (none) | at most 12 items |" in docs


def test_intro_explains_format_and_validation() -> None:
    docs = render_docs()
    assert "YAML" in docs
    assert "moatline scenario validate" in docs
    assert "moatline scenario schema" in docs


def test_every_event_kind_is_explained() -> None:
    section = render_docs().split("## Event kinds", 1)[1].split("\n## ", 1)[0]
    kinds = event_kinds()
    assert len(kinds) == 8
    for kind in kinds:
        assert f"| `{kind}` |" in section, kind


def test_sources_of_default_figures() -> None:
    section = render_docs().split("## Sources of default figures", 1)[1]
    for source in (
        "Epoch AI",
        "Muennighoff",
        "Llama 3",
        "DeepSeek-V3",
        "NVIDIA",
        "EU AI Act",
        "Bartz v. Anthropic",
        "Llama 2",
    ):
        assert source in section, source
