"""Reference documentation of what-if studies, generated from the code.

``docs/studies.md`` is the output of :func:`render_docs`; regenerate it after any change to the study
schema, the tweakable decision fields, the output columns or the limits::

    .venv/bin/python -m app.studies.docs > docs/studies.md

The field tables come from `app.studies.schema`, the tweak table from `app.studies.tweaks`, the column
lists from `app.studies.play` and `app.studies.summary`, the limits and defaults from the modules that
enforce them. A test compares the file with this function's output, so the page cannot drift.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from app.engine import personas
from app.engine.decisions import Decision, RunPlan
from app.scenario import schemadoc
from app.studies import files, play, runner, schema, sensitivity, summary, tweaks
from app.studies.schema import Sensitivity, Study

SECTION_ORDER = ("Study", "Seat", "Tweak", "Arm", "Sensitivity")

SECTION_PLACE = {
    "Study": "the top level of the file",
    "Seat": "each value of `seats` (and of an arm's `seats`), by company name",
    "Tweak": "each item of a seat's `tweaks`",
    "Arm": "each item of `arms`",
    "Sensitivity": "`sensitivity`",
}

# Checks that span several fields (model validators, and the checks of `files.prepare`), in plain words.
SECTION_CHECKS = {
    "Study": [
        "Arm names differ from one another.",
        f"The study plays at most `MOATLINE_STUDY_MAX_RUNS` games (`runs` x arms x sweep points; default "
        f"{files.DEFAULT_MAX_RUNS:,}).",
        "The scenario exists and is valid; every override, sweep value and sensitivity bound gives a valid scenario "
        "(each problem is reported at its own path).",
        "Every company named in `seats` (the study's or an arm's) is in the scenario.",
        "Every round of `inject` is within the game, and every event named is in the scenario's `events`, by title "
        "or by index from 0.",
    ],
    "Seat": [
        "A seat has at most one player: `persona`, `strategy` or `script`.",
        "`aggressiveness` belongs to a persona (a seat naming a strategy or a script cannot have one).",
        "`company` needs a `script`.",
        "A `strategy` can be imported (or loaded from its file) and names a function.",
        "A `script` can be read, is JSON, and holds valid decisions (or is a game archive with that company).",
    ],
    "Tweak": [
        "Exactly one of `times`, `plus` and `set`.",
        "`field` is a field of the decision form (see [Tweaks](#tweaks)); a key after a mapping field is a GPU or "
        "segment of the scenario.",
        "Switches (`training.cancel`, `tuning.retrieval`) and the choices `products.base_model` and "
        "`training.release` take `set` only: true/false for a switch, `open` or one of the game's labs for the base "
        "model, `when_better` or `hold` for the release rule.",
        "A number given to `set` is within the form's bounds.",
        "Every round in `rounds` is within the game.",
    ],
    "Sensitivity": [
        "At least one parameter; each range's low is below its high.",
        "`output` is one of the summary measures (see [Output files](#output-files)).",
        "Every company in `companies` is in the scenario.",
        "When the screen starts (`study validate` does not check these): Morris `levels` is even, Sobol "
        "`base_samples` is a power of two, and the range of a whole-number field has whole-number ends.",
    ],
}

EXAMPLE = """\
# What if Aurora AI, playing fast follower, undercuts on price, staffs up safety early
# and serves with retrieval, as the open-weight option improves slower or faster?
scenario: frontier-race          # a shipped scenario id, or a path to a scenario file
runs: 200                        # seeded games in every arm at every sweep point
seed: 7                          # run r plays the same seed in every arm and sweep point
overrides:                       # scenario numbers changed in every arm, by dotted path
  market.outside.gain_per_round: 3.0
  compute.gpus.H100.price_usd: 60000      # GPU prices double (30,000 in the scenario)
seats:                           # who plays each company (default: the scenario's personas)
  Aurora AI: {persona: fast_follower, aggressiveness: 0.7}
arms:                            # the first arm is the baseline the others are compared with
  - name: baseline
  - name: undercut
    seats:
      Aurora AI:                 # only tweaks: Aurora keeps its fast_follower seat
        tweaks:
          - {field: products.prices, times: 0.7}                    # every segment's price, 30% lower
          - {field: talent.safety_staff, times: 1.5, rounds: [1, 2, 3]}
          - {field: tuning.retrieval, set: true}
sweep:                           # every arm plays every value (a sweep value wins over the overrides)
  market.outside.gain_per_round: [0, 1.5, 4]
"""

REGULATION_EXAMPLE = """\
# Does a safety-first lab beat a scale maximalist when regulation comes in year two?
scenario: frontier-race
runs: 1000
seed: 1
inject:                          # events set off as an instructor would, by round
  5: ["AI Act obligations for general-purpose models"]
arms:
  - name: scale maximalist       # Aurora AI's persona in the scenario
  - name: safety first
    seats:
      Aurora AI: {persona: safety_first}
"""

# Override paths used as examples; a test checks that each one leads somewhere in frontier-race.
PATH_EXAMPLES = [
    ("market.outside.gain_per_round", "a field of a section"),
    ("compute.gpus.H100.price_usd", "a GPU of the catalogue, by name"),
    ("compute.gpus[0].price_usd", "the first GPU of the catalogue, by position"),
    ("market.segments.enterprise.volume_t_tokens", "a segment, by id"),
    ("data.sources.scraped.cost_per_t_tokens_musd", "a data source, by kind"),
    ("companies.Aurora AI.cash_musd", "a company, by name (spaces as they are)"),
    ("companies[Aurora AI].gpus.H100", "the H100s a company owns (an entry a company lacks is added)"),
    ("events[0].magnitude", "an event, by position only"),
]

SCRIPT_EXAMPLE = """\
[
  {"products": {"prices": {"consumer": 8, "enterprise": 20}}, "talent": {"researchers": 400}},
  null,
  {"persona": "safety_first"},
  {"compute": {"buy_gpus": {"H100": 2000}}, "finance": {"borrow_musd": 500}}
]
"""

SUMMARY_COLUMN_DOCS = {
    "arm": "The arm.",
    "point": "The sweep point (each sweep path's value follows in a column of its own).",
    "company": "The company.",
    "measure": "The measure (below).",
    "runs": "Games summarised.",
    "mean": "Mean over the runs of the measure in the final round.",
    "sd": "Standard deviation over the runs.",
    "p10": "10th percentile.",
    "p50": "Median.",
    "p90": "90th percentile.",
    "diff_mean": "Mean of the run-by-run differences from the baseline arm at the same sweep point (empty for the baseline).",
    "diff_ci_low": "Low end of the 95% t interval of that mean difference (empty with a single run).",
    "diff_ci_high": "High end of that interval.",
}

STUDY_JSON_DOCS = {
    "complete": "Always true: the folder holds a whole study.",
    "study": "The study file it came from.",
    "scenario": "The scenario's id.",
    "runs": "Runs per arm and sweep point.",
    "seed": "The study seed.",
    "arms": "Arm names, baseline first.",
    "sweep": "The sweep paths and their values.",
    "games": "Games played in all (runs x arms x sweep points).",
    "measures": "The measures of the summaries, in order.",
    "seats": "For every arm, who played each company (the `strategy` column's labels).",
}

SENSITIVITY_COLUMNS = {
    "morris": sensitivity.MORRIS_COLUMNS,
    "sobol": sensitivity.SOBOL_COLUMNS,
    "tornado": sensitivity.TORNADO_COLUMNS,
}


def _code(items: Any) -> str:
    return ", ".join(f"`{i}`" for i in items)


# --------------------------------------------------------------------------- intro


def _intro() -> str:
    max_runs = f"{files.DEFAULT_MAX_RUNS:,}"
    return f"""\
# What-if studies

A **study** plays one scenario many times with computer-run seats, in **arms** that differ by who plays a
company, how a seat's decisions are tweaked, or the scenario's own numbers, and over a **sweep** of scenario
values. Every arm plays the same seeds, so the difference between two arms is the change's doing, not the
dice's. It is for analysts and instructors asking "what if GPU prices double?", "what if our lab undercuts
everyone by 30%?" or "does a safety-first lab beat a scale maximalist when regulation comes in year two?",
and for anyone checking that a new scenario is balanced before a class plays it.

A study is one **YAML** file (JSON works too). Unknown fields are errors, so a misspelt field is caught
rather than silently ignored.

*This page is generated from the code by `app/studies/docs.py`; do not edit it by hand. Regenerate it with
`python -m app.studies.docs > docs/studies.md`.*

## Commands

```sh
moatline study validate FILE...                      # check study files: every problem at its field and line
moatline study schema > study.schema.json            # the JSON Schema of study files, for editors
moatline study run FILE --out DIR [--workers N]      # play it; write runs.parquet, summary.csv, summary.json, study.json
moatline study run FILE --out DIR --backend dask --scheduler tcp://HOST:8786   # on a Dask cluster
moatline study sensitivity FILE [--method morris|sobol|tornado] [--out CSV]    # screen the sensitivity section
moatline study from-game game.json --out replay     # a study that replays an exported game (its teams' decisions)
```

`validate` checks everything before anything runs: the file's shape, the scenario, every override and sweep
path and value, company names, tweak fields, strategy modules, scripts, injected events and the study's size.
`run` shows a progress bar with the time left and ends with each arm's win rates and the largest score
differences from the baseline, with their 95% intervals. `--workers` defaults to one process per core,
`--chunk` (default {runner.DEFAULT_CHUNK:,}) is how many runs a job plays together and `--max-runs` lowers the
size limit for one command. `sensitivity` writes its ranked table to `--out` (default `STUDY-sensitivity.csv`
beside the study file) and prints it; `--top N` shows only the largest effects of each output.

A study plays at most `MOATLINE_STUDY_MAX_RUNS` games (runs x arms x sweep points; default {max_runs}), and so
does a sensitivity screen (points x `runs_per_point`). A larger one is refused before it starts, with its size.

## An example

```yaml
{EXAMPLE}```

This study plays 200 runs x 2 arms x 3 sweep points = 1,200 games. A second, shorter one:

```yaml
{REGULATION_EXAMPLE}```
"""


# --------------------------------------------------------------------------- file reference


def _reference() -> str:
    models = schemadoc.section_models(Study, SECTION_ORDER)
    parts = ["## The file, field by field\n",
             "Contents: " + ", ".join(f"[{m.__name__}](#{schemadoc.anchor(m.__name__)})" for m in models) + ".\n"]
    for m in models:
        name = m.__name__
        parts.append(schemadoc.section(m, SECTION_PLACE.get(name), SECTION_CHECKS.get(name)) + "\n")
    parts.append(f"""\
Limits of the file itself: at most {schema.MAX_ARMS} arms, {schema.MAX_SWEEP_PARAMETERS} sweep paths of at most
{schema.MAX_SWEEP_VALUES} values each (a bigger grid is better screened with `moatline study sensitivity`),
{schema.MAX_TWEAKS} tweaks a seat, {schema.MAX_SENSITIVITY_PARAMETERS} sensitivity parameters and paths of
{schema.MAX_PATH} characters.

**Which seat plays.** A company's seat is the arm's seat, else the study's, else the scenario's persona. An
arm's seat that names a player (`persona`, `strategy` or `script`) replaces the study's; one that names only
`tweaks` or `aggressiveness` keeps the study's player. An arm's `tweaks` replace the study's tweaks of that
seat (they are not added to them).

**Which numbers.** The scenario's numbers, then the study's `overrides`, then the arm's `overrides`, then the
sweep point's values.
""")
    return "\n".join(parts)


# --------------------------------------------------------------------------- override paths


def _paths() -> str:
    rows = [[f"`{p}`", what] for p, what in PATH_EXAMPLES]
    return f"""\
## Override paths

`overrides`, `sweep` and `sensitivity.parameters` name a number of the scenario by a dotted path, with the
field names of [the scenario format](scenarios.md). The same path works in all three.

- Sections and fields are joined by dots from the top of the scenario: `market.outside.gain_per_round`.
- An item of a list is picked by its name: companies and GPUs by `name`, segments by `id`, data sources by
  `kind`. Events (and any list without a name) are picked by position only.
- Any item can also be picked by its position, counted from 0, bare or in brackets: `compute.gpus.0.price_usd`
  and `compute.gpus[0].price_usd` are both the catalogue's first GPU.
- **Digits are always a position, never a name**, so adding or renaming an item never changes what a path
  means. To reach an item really called "0", quote it: `compute.gpus["0"]`.
- A company's `gpus` (by GPU name) and `domain_skill` (by segment id) are picked by key; there digits are a
  key like any other. A key the company does not hold yet may be set if the scenario has it, which adds it:
  `companies[2].gpus.H100: 1000` gives the third company 1,000 H100s.
- Write names as they are, spaces included: `companies.Aurora AI.cash_musd`.
- **A dot outside quotes always separates.** Quote a name that holds a dot or a bracket, or starts or ends
  with a space: `companies["Acme 2.0"].cash_musd` (single quotes work too; inside quotes a backslash makes the
  next character literal). Brackets without quotes hold a position or a name without `]`:
  `companies[Aurora AI]`, `companies[2]`.
- Only numbers can be set, to a number: not switches, text, choices or ids, and not NaN or infinity. A whole
  number field takes whole numbers (3.0 is taken as 3). An empty optional number (a dense model's
  `active_params_b`, an unscheduled event's `round`) may be set.
- The changed scenario is checked as a whole, so an override that breaks a rule of the scenario (a company
  with more active parameters than parameters, a scheduled event after the last round) is reported at that
  override. A wrong name gets the list of names there are, a misspelt field the nearest valid paths.

Examples, in the shipped scenario `frontier-race`:

{schemadoc.table(["path", "what it reaches"], rows)}

Every number path of a scenario, as Python lists them: `app.studies.overrides.numeric_paths(scenario)`.
"""


# --------------------------------------------------------------------------- tweaks


def _form_field(path: str) -> FieldInfo | None:
    """The decision form's own field at a path (a mapping field itself, not its values)."""
    parts = path.split(".")
    model: Any = RunPlan if parts[:2] == ["training", "start"] and len(parts) > 2 else Decision
    rest = parts[2:] if model is RunPlan else parts
    info = None
    for part in rest:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = info.annotation
    return info


def _description(path: str) -> str:
    """The form field's description; fields of one array share the first description given (the headcounts)."""
    info = _form_field(path)
    if info is not None and info.description:
        return info.description
    if path in tweaks.SCALARS:
        array = tweaks.SCALARS[path][0]
        for other, (arr, _, _) in tweaks.SCALARS.items():
            found = _form_field(other)
            if arr == array and found is not None and found.description:
                return found.description
    return ""


def _bounds_text(path: str, kind: str) -> str:
    if kind == "switch":
        return "true/false (`set` only)"
    if kind == "base":
        return "`open` or a lab of the game (`set` only)"
    if kind == "release":
        return "`when_better` or `hold` (`set` only)"
    low, high = tweaks._bounds(path)
    return f"{schemadoc.amount(low)} to {schemadoc.amount(high)}"


def tweak_rows() -> list[list[str]]:
    """One row per field a tweak may name: the field, what it holds, the form's bounds, its description."""
    rows = []
    for path, (_, _, kind) in tweaks.SCALARS.items():
        what = {"number": "number", "switch": "switch", "base": "choice", "release": "choice"}[kind]
        rows.append([f"`{path}`", what, _bounds_text(path, kind), _description(path)])
    for path, (_, keys) in tweaks.MAPPINGS.items():
        key = "GPU name" if keys == "gpu" else "segment id"
        rows.append([f"`{path}`, `{path}.KEY`", f"number by {key}", _bounds_text(path, "number"), _description(path)])
    return rows


def _tweaks() -> str:
    return f"""\
## Tweaks

A tweak changes one field of a seat's decision every round, or in the `rounds` listed (numbered from 1). It
acts after the seat's strategy has decided and before the decision is fitted to the budget, on the fields of
the decision form as the decision page and the JSON API name them.

- `times: 0.7` multiplies the value, `plus: 10` adds to it, `set: 40` replaces it. Give exactly one.
- **An empty field stands for the value it means.** A strategy that leaves `talent.researchers` empty keeps
  today's headcount, so `{{field: talent.researchers, times: 1.2}}` hires 20% more than the company has; an
  empty price is last round's price, so `times: 0.7` cuts it by 30%.
- A mapping field without a key applies to every entry: `products.prices` is every segment's price,
  `compute.buy_gpus` every GPU type. With a key it applies to one: `products.prices.enterprise`,
  `compute.rent_gpus.H100`.
- Results stay within the form's own bounds (below), so a tweak never writes what a player could not.
  Switches and `products.base_model` take `set` only; a lab always serves its own model, so a base-model
  tweak changes only product companies. A tweak to a run's size (`training.start.*`) changes a run the seat
  starts that round; active parameters never exceed the total.
- Tweaks apply in the order given. A persona's tweaked plan is then fitted as the persona fits its own; a
  written decision's is fitted as written decisions are (see [Budget fitting](#budget-fitting)).

Every field a tweak may name (from `app/studies/tweaks.py`, with the bounds of the decision form):

{schemadoc.table(["field", "holds", "the form's bounds", "description"], tweak_rows())}
"""


# --------------------------------------------------------------------------- seats


def _seats() -> str:
    persona_names = _code(personas.TRAITS)
    return f"""\
## Seats

A seat says who plays a company, by its name in the scenario. Without one, the scenario's persona plays.

**A persona** (`{{persona: safety_first, aggressiveness: 0.8}}`): one of {persona_names}. `aggressiveness`
runs from 0 (timid) to 1 (bold); the default is {personas.DEFAULT_AGGRESSIVENESS:g}. (`idle` does nothing:
it is meant for tests and for a seat left empty.)

**A persona with tweaks**: add `tweaks` to a persona seat (or give only `tweaks` to keep the seat's player).

**A Python strategy** (`{{strategy: examples.strategies.undercut:decide}}` or
`{{strategy: path/to/file.py:decide}}`): a function called once a round for every game, with a `PlayerView`
(`app/engine/views.py`) of what that company's player could see as the round opens:

- `round` (from 1), `rounds`, `company` (its name), `kind` (`lab` or `product`); helpers `rivals`, `is_lab`,
  `segment_ids`, `rounds_left`, `as_dict()` and `to_json()`.
- `market`: the coming round's segments (volume, reference price, the safety minimum in force, growth), the
  open-weight option, the GPUs it may get this round with their prices, data on offer, salaries and the
  events in force.
- `companies`: every company's public page, its own included, with the figures the round report shows
  rivals: prices and share by segment, API price, capability, kind, base model, brand and score.
- `own`: its own books: cash, debt, valuation, the last income statement, staff, GPUs owned and on order,
  serving capacity and cost, data, model, the run in progress, domain skill, safety, prices and more.
- `memory`: a dict the function may keep anything in between rounds, one per seat per game.

It **never sees a rival's private books**. It returns a `Decision`, a dict of the decision form's JSON (the
API's), or `None` to carry on with its last decision's recurring choices; an invalid decision stops the study
with every problem by field path. Money is in US$ millions (`_musd`), tokens in trillions (`_t_tokens`),
prices in US$ per million tokens. See `examples/strategies/undercut.py`. A `package.module:function` must be
importable from where the command runs (the study file's folder and the current folder are searched), and on
every Dask worker; a path to a `.py` file is loaded from that file.

```yaml
seats:
  Aurora AI: {{strategy: examples.strategies.undercut:decide}}
```

**A fixed decision script** (`{{script: aurora.json}}`, relative to the study file): a JSON list with one
entry per round (or an object whose `decisions` is that list), each a decision in the JSON the API uses,
`null` to carry on with the last decision's recurring choices, or `{{"persona": "safety_first"}}` to let a
persona stand in for that round; rounds past the end of the list carry on.

```json
{SCRIPT_EXAMPLE}```

A game archive from `moatline game export ID --out game.json` works too: it
replays the decisions the seat's company made in that game (or another company's, with `company:`), with its
stand-ins. `moatline study from-game game.json --out replay` writes a whole study around an archive
(`replay/study.yaml`, the game's own scenario as `replay/scenario.yaml`, its seed, its personas' seats and
aggressiveness, the instructor's injected events): run with one run, it reproduces the game's scores exactly.
Scripts are at most {files.SCRIPT_MAX_BYTES // 1_000_000} MB.

```yaml
seats:
  Aurora AI: {{script: aurora.json}}
  Beacon Labs: {{script: last-term.json, company: Cinder}}   # replay Cinder's play of an exported game
```

### Budget fitting

Every seat's decisions are fitted to its means each round, so no seat spends money it does not have.
Personas finance the gap their own way (equity or debt) and keep a reserve of their own. Written decisions
(strategies and scripts) have their financing cut to its limits, then every spending line scaled down alike
until the total fits the cash available. The study reports how often and how much: `spend_planned_musd` and
`spend_cut_musd` in every round, and the summary measures `cut_rounds_share` and `cut_spend_share`.
"""


# --------------------------------------------------------------------------- seeds


def _seeds() -> str:
    return f"""\
## Seeds and pairing

Run r of a study plays the same seed in every arm and at every sweep point; each run's seed comes from the
study `seed` and r. Every random draw of a game is a hash of its seed, the round, the company and the purpose,
so two arms see the same dice wherever their decisions agree. The results are the same on any machine, with
any number of workers and on either backend.

The summaries compare each arm with the first (the baseline) **run by run**: `diff_mean` is the mean of the
paired differences, and `diff_ci_low`..`diff_ci_high` its {summary.CONFIDENCE:.0%} t interval. Pairing takes out
the noise both arms share, so small effects show with few runs. An arm identical to the baseline differs by
exactly zero, with an interval of zero width.
"""


# --------------------------------------------------------------------------- output


def runs_columns() -> list[tuple[str, str]]:
    """The columns of runs.parquet in order, with their meanings (a sweep column stands for each sweep path)."""
    out = [(c, play.COLUMN_DOCS[c]) for c in play.ID_COLUMNS[:2]]
    out.append(("<sweep path>", play.SWEEP_COLUMN_DOC))
    out += [(c, play.COLUMN_DOCS[c]) for c in play.ID_COLUMNS[2:] + play.VALUE_COLUMNS]
    return out


def _output() -> str:
    runs_rows = [[f"`{c}`", d] for c, d in runs_columns()]
    summary_rows = [[f"`{c}`", SUMMARY_COLUMN_DOCS[c]] for c in summary.SUMMARY_COLUMNS]
    extra = [m for m in play.MEASURES if m not in play.VALUE_COLUMNS]
    measure_rows = [[f"`{m}`", play.COLUMN_DOCS[m]] for m in extra]
    values = _code(m for m in play.MEASURES if m in play.VALUE_COLUMNS)
    manifest_rows = [[f"`{k}`", d] for k, d in STUDY_JSON_DOCS.items()]
    quantiles = ", ".join(f"p{q}" for q in summary.QUANTILES)
    return f"""\
## Output files

`moatline study run FILE --out DIR` writes four files into `DIR`. They are **written whole or not at all**:
the files are written in a hidden folder inside `DIR` and moved in only when the study has finished, so an
interrupted or failed study (Ctrl-C, a strategy that raises, a lost worker) leaves earlier results in `DIR`
untouched and no half-written file.

### {runner.RUNS_FILE}

One row per arm x sweep point x run x round x company, ordered by run, round and company within each arm
and point. Read it with `pandas.read_parquet`, DuckDB, Polars or R's `arrow`.

{schemadoc.table(["column", "meaning"], runs_rows)}

### {runner.SUMMARY_CSV} and {runner.SUMMARY_JSON}

One row per arm x sweep point x company x measure, over the runs' final round ({quantiles} are percentiles).
`{runner.SUMMARY_JSON}` holds the same rows under `rows`, with the fields of `{runner.MANIFEST}` beside them; an empty
value is `null` there.

{schemadoc.table(["column", "meaning"], summary_rows)}

The measures (the `measure` column), in this order: every value column of `{runner.RUNS_FILE}` at the final round
({values}), then:

{schemadoc.table(["measure", "meaning"], measure_rows)}

### {runner.MANIFEST}

What was played:

{schemadoc.table(["field", "meaning"], manifest_rows)}
"""


# --------------------------------------------------------------------------- sensitivity


def _sensitivity() -> str:
    defaults = Sensitivity.model_fields
    k = 4
    counts = {m: sensitivity.sample_count(m, k) for m in ("morris", "sobol", "tornado")}
    per_point = defaults["runs_per_point"].default
    rows = [[f"`{m}`", _code(cols)] for m, cols in SENSITIVITY_COLUMNS.items()]
    return f"""\
## Sensitivity

`moatline study sensitivity FILE` asks which scenario numbers matter most for an outcome. The file's
`sensitivity` section names parameters by [override path](#override-paths), each with a `[low, high]` range,
and an `output`: a summary measure (default `{defaults["output"].default}`) whose final-round mean over
`runs_per_point` games is analysed for each company (or those in `companies`). Each point of a method's design
is the study's baseline arm (its seats and overrides, at the first sweep point) with the point's values on top, and every point plays
the same seeds, so a difference between points is the parameters' doing. Whole-number fields are rounded.

```yaml
sensitivity:
  method: morris
  output: score
  companies: [Aurora AI]
  runs_per_point: 100
  parameters:
    market.outside.gain_per_round: [0, 4]
    compute.gpus.H100.price_usd: [20000, 60000]
    market.segments.enterprise.volume_t_tokens: [80, 160]
```

The three methods, all through SALib:

- **morris** (the default): elementary effects, a cheap screen; `trajectories` x (parameters + 1) points.
  `mu_star` is the mean absolute effect of moving the parameter across its whole range: rank by it. `mu` is the
  signed mean (its direction) and `sigma` the spread of the effects: a large `sigma` beside `mu_star` means the
  effect depends on the other parameters or is not linear. `mu_star_conf` is a bootstrap 95% half-width.
- **sobol**: variance shares, many more runs; `base_samples` x (parameters + 2) points, or x (2 x parameters
  + 2) with `second_order`. `S1` is the share of the output's variance the parameter explains alone, `ST` the
  share including its interactions; `ST` well above `S1` means it acts through interactions. `base_samples`
  must be a power of two; small ones give noisy indices that can fall a little outside 0..1. With
  `second_order` the pairs' `S2` come too.
- **tornado**: one at a time, 2 x parameters + 1 points: the midpoint of every range, then each parameter at
  its low and its high with the others at the midpoint. `swing` is `|output_at_high - output_at_low|`.

Each point plays `runs_per_point` games (default {per_point}). With 4 parameters and the defaults: morris
{counts["morris"]} points ({counts["morris"] * per_point:,} games), sobol {counts["sobol"]} points
({counts["sobol"] * per_point:,} games), tornado {counts["tornado"]} points ({counts["tornado"] * per_point:,} games).
A screen is held to the same size limit as a study. `rank` 1 is the parameter with the largest effect on its
output. The table's columns:

{schemadoc.table(["method", "columns"], rows)}
"""


# --------------------------------------------------------------------------- Python, Dask


def _python() -> str:
    return """\
## From Python

```python
from app.studies import load_study, run, screen

prepared = load_study("what-if.yaml")          # StudyError lists every problem, each with its line
result = run(prepared, out="results", workers=8)   # out=None keeps everything in memory
result.summary        # the summary.csv table, as a pandas DataFrame
result.differences    # its rows for arms after the first: paired differences from the baseline
result.runs           # every row of runs.parquet (read from `out`, or kept in memory without one)
print(result.text())  # win rates and the largest score differences, as the command prints them
table = screen(prepared, "tornado")            # the ranked sensitivity table, as a DataFrame
```

A study can be built in code as well as read from a file; `prepare` runs every check `load_study` runs:

```python
from app.studies import Arm, Seat, Study, Tweak, prepare, run

study = Study(scenario="frontier-race", runs=1000, seed=7, arms=[
    Arm(name="baseline"),
    Arm(name="undercut", seats={"Aurora AI": Seat(tweaks=[Tweak(field="products.prices", times=0.7)])}),
])
print(run(prepare(study)).text())
```

`run` also takes `backend="dask"` and `scheduler="tcp://HOST:8786"`, `progress` (called with the games
each finished job played) and `chunk`. `load_study` takes `most_runs` to lower the size limit.
"""


def _dask() -> str:
    return """\
## Scale-out on Dask

A study's jobs (arm, sweep point, a chunk of runs) can run on a Dask cluster instead of local processes:

```sh
pip install -e '.[dask]'                                  # on every machine: this project, at the same version
dask scheduler                                            # on one machine; it listens on tcp://HOST:8786
dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1     # on each of the others (one thread per process)
moatline study run what-if.yaml --out results --backend dask --scheduler tcp://HOST:8786
```

Seeds are derived on the client and results are taken in job order, so the files are **byte for byte those of
the local backend**, however many workers there are. Limits:

- Every machine needs this project installed at the same version (a different engine gives different games).
- A Python strategy's module must be importable on every worker, not only where the command runs (install it,
  or start the workers from a folder that holds it).
- Scripts and the scenario are read on the client and sent with the jobs: workers need no copy of them.
- A scheduler that cannot be reached, or a worker lost mid-study, stops the study with a message; nothing is
  written.
"""


def render_docs() -> str:
    """The Markdown reference of study files (the content of docs/studies.md)."""
    parts = [_intro(), _reference(), _paths(), _tweaks(), _seats(), _seeds(), _output(), _sensitivity(), _python(), _dask()]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_docs(), end="")
