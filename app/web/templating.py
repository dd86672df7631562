"""Templates with named blocks: a full page normally, only the `content` block for htmx."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup, escape

from app.clock import aware
from app.lifecycle import is_deciding, is_over, practice_over
from app.scenario import scorecard as scoring
from app.settings import PROJECT_ROOT

PARTIAL_BLOCK = "content"
_BACKTICKS = re.compile(r"`([^`]+)`")


def build_templates() -> Jinja2Blocks:
    """The template set under templates/, with Moatline's filters."""
    templates = Jinja2Blocks(directory=str(PROJECT_ROOT / "templates"))
    templates.env.filters["inline_code"] = inline_code
    templates.env.filters["thousands"] = thousands
    templates.env.filters["points"] = points
    templates.env.filters["money"] = money
    templates.env.filters["runway"] = runway
    templates.env.globals["local_time"] = local_time
    templates.env.globals["game_over"] = is_over
    templates.env.globals["practice_over"] = practice_over
    templates.env.globals["deciding"] = is_deciding
    templates.env.globals["scorecard_metrics"] = scoring.METRICS
    templates.env.globals["metric_labels"] = scoring.METRIC_LABELS
    templates.env.globals["metric_definitions"] = scoring.METRIC_DEFINITIONS
    return templates


def render(request: Request, name: str, context: Mapping[str, Any], status_code: int = 200, block: str | None = None) -> Response:
    """Render a page, or one named block of it: `block` if given, else `content` when htmx asks (HX-Request)."""
    templates: Jinja2Blocks = request.app.state.templates
    block = block or (PARTIAL_BLOCK if request.headers.get("HX-Request") == "true" else None)
    response = templates.TemplateResponse(request, name, dict(context), status_code=status_code, block_name=block)
    response.headers["Vary"] = "HX-Request"
    return response


def local_time(moment: datetime, seconds: bool = False) -> Markup:
    """A time of day as the server knows it (UTC), which static/time.js shows in the reader's own time zone."""
    at = aware(moment)
    shown = at.strftime("%H:%M:%S" if seconds else "%H:%M")
    return Markup('<time datetime="{}" data-local-time="{}">{} UTC</time>').format(
        at.isoformat().replace("+00:00", "Z"), "seconds" if seconds else "minutes", shown)


def inline_code(text: str) -> Markup:
    """Escape text, then show `backticked` spans as <code>."""
    return Markup(_BACKTICKS.sub(r"<code>\1</code>", str(escape(text))))


def money(musd: float) -> str:
    """US$ millions with the sign in front: -26504.97 -> '−$26,505.0M'."""
    return f"{'−' if musd < -0.05 else ''}${abs(musd):,.1f}M"


def points(share: float) -> str:
    """A change in share as signed percentage points: 0.0123 -> '+1.2'; never '-0.0'."""
    return f"{round(share * 100, 1) + 0.0:+.1f}"


def thousands(value: float) -> str:
    """12000.0 -> '12,000'; 0.25 -> '0.25'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def runway(quarters: float | None) -> str:
    """Cash over last quarter's operating burn: 4.236 -> '4.2 quarters'; None (no burn) -> 'cash-positive'."""
    if quarters is None:
        return "cash-positive"
    return "under 1 quarter" if quarters < 1 else f"{quarters:,.1f} quarters"
