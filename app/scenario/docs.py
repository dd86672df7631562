"""Reference documentation of the scenario file format, generated from the schema.

``docs/scenarios.md`` is the output of :func:`render_docs`; regenerate it after any change
to ``app/scenario/schema.py``::

    .venv/bin/python -m app.scenario.docs > docs/scenarios.md

A test compares the file with this function's output, so a schema change without
regenerated docs fails the build.
"""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel

from app.scenario import schemadoc
from app.scenario.schema import Event, Scenario

# Sections in reading order; any model reachable from Scenario but missing here is
# appended at the end, so a new section is never left undocumented.
SECTION_ORDER = (
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

# Where each section sits in a scenario file (YAML key path).
SECTION_PLACE = {
    "Scenario": "the top level of the file",
    "TeachingNote": "`teaching_note`",
    "Scaling": "`scaling`",
    "Compute": "`compute`",
    "Gpu": "each item of `compute.gpus`",
    "DataSource": "each item of `data.sources`",
    "Data": "`data`",
    "Talent": "`talent`",
    "TalentRole": "`talent.researchers`, `talent.engineers` and `talent.safety`",
    "Market": "`market`",
    "Segment": "each item of `market.segments`",
    "OutsideOption": "`market.outside`",
    "Safety": "`safety`",
    "Finance": "`finance`",
    "Event": "each item of `events`",
    "Model": "`companies[].model`",
    "CompanyStart": "each item of `companies`",
    "Scoring": "`scoring`",
}

# Checks that span several fields (model validators), in plain words.
SECTION_CHECKS = {
    "Scenario": [
        "Company names, GPU names, segment ids and data source kinds are each unique.",
        "Every GPU a company owns is in `compute.gpus`.",
        "Every segment id in a company's `domain_skill` is in `market.segments`.",
        "A product company's `base_model` is `open` or the name of a lab in the same scenario.",
        "A scheduled event's `round` is within the game's `rounds`.",
    ],
    "CompanyStart": ["A company of kind `lab` needs a starting `model`."],
    "Model": ["`active_params_b` is at most `params_b`."],
    "Scoring": ["At least one weight is above zero."],
}

INTRO = """\
# Scenario files

A scenario is everything the rules engine needs to set up a game: the scaling law, the GPU
catalogue, data sources, the talent market, customer segments, safety and finance rules,
events, the starting companies, the scoring weights and a teaching note for the instructor.
Shipped scenarios live in `scenarios/`; copy one to start your own.

*This page is generated from `app/scenario/schema.py` by `app/scenario/docs.py`; do not edit
it by hand. Regenerate it with `python -m app.scenario.docs > docs/scenarios.md`.*

## File format

- A scenario is one **YAML** file (JSON is valid YAML and works too), named after its `id`:
  `scenarios/<id>.yaml`. Comments start with `#`.
- A round is a **quarter**. Money is in **US dollars**; fields ending in `_musd` are US$
  millions, `_busd` US$ billions. Token volumes ending in `_t_tokens` are trillions of tokens.
- Fields with a default can be left out. Unknown fields are errors, so a misspelt field is
  caught rather than silently ignored.
- Short objects can be written on one line: `{name: H100, tflops: 989, ...}`.

## Validating a file

```sh
moatline scenario validate scenarios/my-scenario.yaml   # lists every problem at once, with line numbers
moatline scenario schema > scenario.schema.json          # the JSON Schema, for editors and other tools
```

From Python, `app.scenario.load_scenario(path)` returns the validated `Scenario` or raises
`ScenarioError`, whose `.problems` holds one `Problem(path, line, message)` per mistake, e.g.
`line 42, companies[2].persona: must be one of ...`.

## How the engine reads the numbers

- **Segments** buy `volume_t_tokens` trillion tokens a quarter at around `reference_price`
  US$ per million tokens. Buyers choose by a multinomial logit over every offer plus the
  open-weight outside option (`market.outside`). Each `w_*` weight is the utility of 10 points
  of that attribute (capability, domain skill, safety, freshness, brand, ecosystem);
  `price_sensitivity` multiplies log price. Offers below a segment's `min_safety` are excluded.
  `market.frontier_buyers` may set a share of every segment's buyers apart that weighs
  capability more and price less (a latent class: the choice is the two logits' mixture).
- **Companies** of kind `lab` train their own models (they need `model`) and may sell API
  access. Companies of kind `product` build on `base_model`: `open` (open weights, served on
  their own or rented GPUs) or the `name` of a lab in the same scenario, paying that lab's
  wholesale price (a two-sided market). Products differentiate with SFT (`domain_skill`: SFT
  examples already held per segment id; `data.sft_examples_half_skill` examples reach half the
  skill ceiling), safety, retrieval, brand and ecosystem.
- **Personas** (`persona`) choose the computer-run strategy that plays a seat when no team
  does: `scale_maximalist`, `fast_follower`, `safety_first`, `price_disruptor`, `incumbent`
  (and `idle`, which does nothing and is meant for tests, not for shipped scenarios).

## Sections
"""

EVENT_KINDS = [
    (
        "gpu_export_controls",
        "On or off: any value above 0 applies the controls (leave at 1).",
        "Companies with `region: cn` cannot order or rent GPUs marked `export_controlled`.",
    ),
    (
        "new_gpu_generation",
        "Strength of the rental price cut on older, slower GPUs, from 0 to 1 (values above 1 count as 1).",
        "Older GPUs rent for less; when the new GPU can be bought is its `available_from_round` in the catalogue.",
    ),
    (
        "copyright_wave",
        "Multiplier on the legal hazard of every data source (2 = lawsuits twice as likely; 1 = no change).",
        "Lawsuits over scraped data become more likely.",
    ),
    (
        "regulation",
        "Safety points added to every segment's `min_safety`.",
        "Offers below the raised minimum leave those segments; fines apply to incidents below it. "
        "The rule lifts when the event ends: give a lasting law a `duration` that covers the rest of the game.",
    ),
    (
        "open_weight_release",
        "Capability points the open-weight outside option jumps when the event starts.",
        "Commoditisation pressure: the floor of the market rises at once.",
    ),
    (
        "talent_war",
        "Pay inflation as a share (0.3 = market pay up 30%).",
        "Salaries rise and staff leave more often, for researchers, engineers and safety staff alike.",
    ),
    (
        "power_crunch",
        "Electricity price increase as a share (0.5 = +50%).",
        "Training and serving cost more with the power bill.",
    ),
    (
        "recession",
        "Share of demand cut (0.2 = segments buy 20% fewer tokens).",
        "Every segment's volume falls.",
    ),
]

EVENT_TIMING = """\
An event with `round:` is **scheduled** for that round. One with `probability_per_round`
above zero strikes **at random** (drawn from the game seed, so replays repeat it). One with
neither is **catalogue-only**: it never happens by itself, but the instructor can inject it
during a game. `duration` is how many quarters it lasts; effects of events of the same kind add up.
"""

SOURCES = [
    "Besiroglu, Erdil, Barnett and You 2024, *Chinchilla Scaling: A replication attempt* (Epoch AI re-fit of Hoffmann et al. 2022): "
    "E = 1.8172, A = 482.01, B = 2085.43, alpha = 0.3478, beta = 0.3658; compute-optimal about 20 tokens per parameter.",
    "Hoffmann et al. 2022, *Training Compute-Optimal Large Language Models* (Chinchilla): the loss form and C = 6ND.",
    "Muennighoff et al. 2023, *Scaling Data-Constrained Language Models*: repeated data is nearly as good as fresh for about 4 epochs, R* = 15.4.",
    "Meta 2024, *The Llama 3 Herd of Models*: Llama 3.1 405B on 15.6T tokens, ~3.8e25 FLOP, 30.84M H100-hours, "
    "466 interruptions in 54 days, >90% goodput, 38-43% MFU; capability mapped from loss with a sigmoid.",
    "DeepSeek-AI 2024, *DeepSeek-V3 Technical Report*: 671B total / 37B active parameters, 14.8T tokens, 2.788M H800-hours, $5.6M at $2 an hour.",
    "Training utilisation (MFU) by size, cluster and GPU generation, fitted to published GPU-hours: Touvron et al. 2023 "
    "(LLaMA; Llama 2) on 2,048 A100s, BigScience 2022 (BLOOM 176B on 384 A100s), Meta's Llama 3 and 3.1 model cards "
    "(16,384 H100s), DeepSeek-V3 (2,048 H800s); Jiang et al. 2024 (*MegaScale*): 55.2% MFU on 12,288 GPUs.",
    "Jiang et al. 2024, *Mixtral of Experts*: 46.7B total / 12.9B active parameters.",
    "NVIDIA H100, H200 and B200 data sheets: dense BF16 FLOP/s and board power; 2024-25 cloud list prices for rental ($2-3.5 per H100-hour, >$8 in the 2023 shortage).",
    "Touvron et al. 2023, *Llama 2*: 27,540 SFT annotations and >1M preference comparisons (~$18 a comparison); "
    "Ouyang et al. 2022 (InstructGPT, ~13k demonstrations); Zhou et al. 2023 (LIMA, 1,000 curated examples).",
    "Longpre et al. 2024, *Consent in Crisis*: 5%+ of C4 and 28%+ of its critical sources restricted by robots.txt or terms within a year.",
    "Bartz v. Anthropic (N.D. Cal., settled 2025): ~$1.5B, about $3,000 a work; Reddit-Google (~$60M a year) and News Corp-OpenAI (~$250M over 5 years) licensing deals.",
    "Regulation (EU) 2024/1689 (EU AI Act), Art. 99: fines up to EUR 35M or 7% of worldwide annual turnover.",
    "Moffatt v. Air Canada (2024 BCCRT 149): a company is liable for its chatbot; Alphabet's market value after the Bard demo (~$100B) and the Gemini image pause (~$90B).",
    "OpenAI list prices 2023-24 (GPT-4 $30/$60, GPT-4o mini $0.15/$0.60 per million tokens): prices at constant capability fall about 10x a year.",
    "Menlo Ventures enterprise surveys 2023-25: OpenAI 50% of enterprise LLM share in 2023, Anthropic 32% vs OpenAI 25% in 2025; RAG in 51% of deployments.",
]


# --------------------------------------------------------------------------- sections


def section_models(root: type[BaseModel] = Scenario) -> list[type[BaseModel]]:
    """Every model reachable from ``root``, in :data:`SECTION_ORDER`, extras last."""
    return schemadoc.section_models(root, SECTION_ORDER)


def _section(model: type[BaseModel]) -> str:
    name = model.__name__
    return schemadoc.section(model, SECTION_PLACE.get(name), SECTION_CHECKS.get(name))


def render_docs() -> str:
    """The Markdown reference of the scenario format (the content of docs/scenarios.md)."""
    models = section_models()
    parts = [INTRO]
    parts.append("Contents: " + ", ".join(f"[{m.__name__}](#{schemadoc.anchor(m.__name__)})" for m in models) + ".\n")
    parts += [_section(m) + "\n" for m in models]
    event_rows = "\n".join(f"| `{k}` | {schemadoc.cell(mag)} | {schemadoc.cell(effect)} |" for k, mag, effect in EVENT_KINDS)
    parts.append(
        "## Event kinds\n\n" + EVENT_TIMING + "\n"
        "| kind | `magnitude` means | effect while it lasts |\n|---|---|---|\n" + event_rows + "\n"
    )
    parts.append("## Sources of default figures\n\n" + "\n".join(f"- {s}" for s in SOURCES) + "\n")
    return "\n".join(parts)


def event_kinds() -> tuple[str, ...]:
    """Event kinds the schema accepts (a test checks the docs explain each one)."""
    return get_args(Event.model_fields["kind"].annotation)


if __name__ == "__main__":
    print(render_docs(), end="")
