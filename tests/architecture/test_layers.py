"""The import plan: every arrow points down a layer (web → services → engine → scenario), never back up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
# a module in the key's layer may import none of the listed packages
FORBIDDEN = {
    "app.engine": ("app.services", "app.web", "app.models", "app.db", "sqlmodel", "sqlalchemy", "fastapi", "jinja2"),
    "app.studies": ("app.services", "app.web", "app.models", "app.db", "sqlmodel", "sqlalchemy", "fastapi", "jinja2"),
    "app.scenario": ("app.engine", "app.services", "app.web", "app.models"),
    "app.services": ("app.web", "fastapi", "starlette", "jinja2"),
    "app.lifecycle": ("app.services", "app.web", "sqlmodel", "sqlalchemy"),
    "app.errors": ("app.services", "app.web", "app.engine"),
    "app.clock": ("app.",),
    "app.revisions": ("app.services", "app.web"),
    "app.models": ("app.services", "app.web", "app.engine"),
}
# the engine types the web layer may name directly: the command it builds from a form, and the world it checks
WEB_MAY_USE_FROM_ENGINE = {"app.engine.decisions", "app.engine.world"}


def modules() -> list[tuple[str, Path]]:
    return [(".".join(("app", *p.relative_to(APP).with_suffix("").parts)).removesuffix(".__init__"), p)
            for p in sorted(APP.rglob("*.py"))]


def imports_of(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize(("name", "path"), modules(), ids=[m for m, _ in modules()])
def test_no_import_runs_back_up_a_layer(name: str, path: Path) -> None:
    layer = next((k for k in FORBIDDEN if name == k or name.startswith(k + ".")), None)
    if layer is None:
        return
    wrong = sorted(i for i in imports_of(path) for f in FORBIDDEN[layer] if i == f.rstrip(".") or i.startswith(f))
    assert wrong == [], f"{name} ({layer}) imports {wrong}"


def test_the_web_layer_reaches_the_engine_only_through_services() -> None:
    reached = {(name, i) for name, path in modules() if name.startswith("app.web")
               for i in imports_of(path) if i.startswith("app.engine.") and i.count(".") == 2}
    assert {i for _, i in reached} <= WEB_MAY_USE_FROM_ENGINE, sorted(reached)
