"""Run every linter and write the result as JUnit XML (one test case per tool), so that
.ci/summarize.py counts lint with the test suites and a lint error fails the test command.

Usage: python .ci/lint.py OUTPUT.xml  (from the repository root, after npm ci and pip install).
Each tool's output is printed as it comes and, when the tool fails, kept in its failure.
Exit status is non-zero if any tool failed; .ci/run carries on with the suites regardless.
"""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

PYTHON = ["server-ext", *sorted(str(p) for p in Path("ui-tests").glob("*.py"))]

#: (test case name, command); the README's Development section names the same commands.
CHECKS = [
    ("ruff check", [sys.executable, "-m", "ruff", "check", "--output-format=concise", *PYTHON]),
    ("ruff format --check", [sys.executable, "-m", "ruff", "format", "--check", *PYTHON]),
    ("npm run lint:check (eslint + prettier)", ["npm", "run", "--silent", "lint:check"]),
]


def run(name: str, command: list[str]) -> ET.Element:
    print(f"--- {name}", flush=True)
    began = time.monotonic()
    try:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
        )
        status, output = done.returncode, done.stdout
    except OSError as err:  # the tool is not installed
        status, output = 127, f"{command[0]}: {err}"
    print(output, end="" if output.endswith("\n") else "\n", flush=True)
    case = ET.Element(
        "testcase", classname="lint", name=name, time=f"{time.monotonic() - began:.2f}"
    )
    if status != 0:
        failure = ET.SubElement(case, "failure", message=f"{name} exited {status}")
        failure.text = output[-20000:]
    return case


def main(out: Path) -> int:
    cases = [run(name, command) for name, command in CHECKS]
    failed = sum(1 for case in cases if case.find("failure") is not None)
    suite = ET.Element("testsuite", name="lint", tests=str(len(cases)), failures=str(failed))
    suite.extend(cases)
    ET.ElementTree(suite).write(out, encoding="utf-8", xml_declaration=True)
    print(f"lint: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
