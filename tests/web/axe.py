"""axe-core in the test browser (vendored under tests/vendor for tests only, never served)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""


def serious_violations(page: Page) -> list[str]:
    """What axe-core finds of serious or critical impact on the page as it is now."""
    page.evaluate(AXE.read_text())  # evaluated, not added as an inline <script> the page's CSP would refuse
    found: list[str] = page.evaluate(SERIOUS)
    return found
