"""docs/security.md names the test that shows each control: every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def test_every_test_the_security_doc_names_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    missing, current, named = [], "", 0
    for found in NAMED.finditer(text):
        current = found.group(1) or current  # `::name` continues the file named before it
        name = found.group(2) or found.group(3)
        source = ROOT / current
        if not source.exists():
            missing.append(current)
        elif name:
            named += 1
            if not re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.M):
                missing.append(f"{current}::{name}")
    assert named > 50 and missing == []
