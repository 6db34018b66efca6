"""The browser tests assert through Playwright's `expect`, which waits for the page: a bare `.count()` or
`.is_visible()` read right after a click reads a page still being parsed, and fails on a busy machine (two journeys
failed so in CI on PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

# an `assert` on a locator's count or visibility, read once without waiting
BARE_READ = re.compile(
    r"^\s*assert .*(?:page|locator\(.*\)|first|row|item)\.(?:count|is_visible|is_hidden)\(\)"
)


def test_no_browser_test_reads_a_locator_without_waiting() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(Path(__file__).parent.glob("test_*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if BARE_READ.search(line) and ".objects" not in line
    ]
    assert not offenders, "use expect(locator).to_have_count(n) / .to_be_visible():\n" + "\n".join(offenders)
