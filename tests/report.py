"""Sum up the JUnit reports of ``make test`` and fail if a suite ran no test or skipped browser tests in CI."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def failing(path: Path) -> list[str]:
    """The tests that failed or erred, as pytest names them (file::test[params])."""
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's report file
    names = []
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            module = case.get("classname", "").replace(".", "/")
            names.append(f"{module}.py::{case.get('name', '')}")
    return names


def counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's report file
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "browser": 0, "browser_skipped": 0}
    for suite in suites:
        for key in ("tests", "failures", "errors", "skipped"):
            total[key] += int(suite.get(key, 0))
        for case in suite.iter("testcase"):
            if ".browser." in case.get("classname", "") or case.get("classname", "").startswith("browser"):
                total["browser"] += 1
                if case.find("skipped") is not None:
                    total["browser_skipped"] += 1
    return total


def main(paths: list[str]) -> int:
    ok = True
    require_browser = os.environ.get("GRENIER_REQUIRE_BROWSER") == "1"
    print("== Test summary ==")
    for raw in paths:
        path = Path(raw)
        name = path.stem
        if not path.exists():
            print(f"{name}: no report (the run did not happen)")
            ok = False
            continue
        c = counts(path)
        ran = c["tests"] - c["skipped"]
        print(
            f"{name:<10} {ran:>4} tests ran ({c['browser'] - c['browser_skipped']} in the browser), "
            f"{c['skipped']} skipped, {c['failures']} failed, {c['errors']} errors"
        )
        if ran == 0 or c["failures"] or c["errors"]:
            ok = False
        for name in failing(path):
            print(f"  FAILED {name}")
        if require_browser and (c["browser"] == 0 or c["browser_skipped"]):
            print(f"{name}: browser tests are required here (GRENIER_REQUIRE_BROWSER=1) but did not all run")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
