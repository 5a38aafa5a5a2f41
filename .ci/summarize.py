"""Add up the results of every suite and print the final 'N passed, N failed[, N skipped]' line.

Reads pytest's JUnit XML, jest's --json output and Playwright's JSON report from .ci-work/.
A suite whose report is missing counts as one failure (it did not run to the end).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def pytest_counts(path: Path) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def jest_counts(path: Path) -> tuple[int, int, int]:
    data = json.loads(path.read_text())
    failed = data["numFailedTests"] + data.get("numRuntimeErrorTestSuites", 0)
    return data["numPassedTests"], failed, data["numPendingTests"] + data.get("numTodoTests", 0)


def playwright_counts(path: Path) -> tuple[int, int, int]:
    stats = json.loads(path.read_text())["stats"]
    return stats["expected"] + stats.get("flaky", 0), stats["unexpected"], stats["skipped"]


READERS = {".xml": pytest_counts, ".jest.json": jest_counts, ".playwright.json": playwright_counts}


def main(work: Path, expected: list[str]) -> int:
    passed = failed = skipped = 0
    for name in expected:
        path = work / name
        reader = next(r for suffix, r in READERS.items() if name.endswith(suffix))
        try:
            p, f, s = reader(path)
        except (OSError, ValueError, KeyError, ET.ParseError) as err:
            print(f"{name}: no usable report ({type(err).__name__}); counted as 1 failed")
            p, f, s = 0, 1, 0
        print(f"{name}: {p} passed, {f} failed, {s} skipped")
        passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    print(line + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
