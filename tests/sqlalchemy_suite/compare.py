"""Run SQLAlchemy's compliance suite for aiolibsql's dialects and for the
built-in SQLite dialects they are compared with, and check that ours pass at
least as many tests, with no failure.

    python tests/sqlalchemy_suite/compare.py aiolibsql:pysqlite aiolibsql_async:aiosqlite

Each argument pairs a [db] name of setup.cfg (ours) with the one it is compared
with. Every run gets a fresh working directory (the suite creates its database
files there). Prints a Markdown table of the counts and every test whose
outcome differs; exits 1 if one of ours failed or passed fewer tests.
"""

from __future__ import annotations

import argparse
import configparser
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

SUITE = Path(__file__).resolve().parent
# Suite classes carry the dialect and SQLite version in their names; they are
# dropped so that the same test lines up across dialects.
_DIALECT_SUFFIX = re.compile(r"_sqlite\+\w+?_\d+_\d+_\d+(?=::)")


@dataclass
class Run:
    name: str
    url: str
    outcomes: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    def count(self, outcome: str) -> int:
        return sum(1 for value in self.outcomes.values() if value.split(":")[0] == outcome)


def run_suite(name: str, url: str, workdir: Path) -> Run:
    directory = workdir / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    report = directory / "junit.xml"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-c",
            str(SUITE / "setup.cfg"),
            "--rootdir",
            str(SUITE),
            str(SUITE),
            "--db",
            name,
            f"--junitxml={report}",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    run = Run(name, url)
    lines = completed.stdout.strip().splitlines()
    run.summary = lines[-1] if lines else completed.stderr.strip()
    if not report.exists():
        raise SystemExit(f"the suite did not run for {name}:\n{completed.stdout}\n{completed.stderr}")
    for case in ElementTree.parse(report).iter("testcase"):
        test = _DIALECT_SUFFIX.sub("", f"{case.get('classname')}::{case.get('name')}")
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                reason = (child.get("message") or "").rsplit(" : ", 1)[-1]
                outcome = f"skipped: {reason}"
        run.outcomes[test] = outcome
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", nargs="+", help="OURS:BUILTIN, names from the [db] section of setup.cfg")
    parser.add_argument("--workdir", type=Path, help="where the suite runs (default: a temporary directory)")
    arguments = parser.parse_args()
    config = configparser.ConfigParser()
    config.read(SUITE / "setup.cfg")
    urls = dict(config["db"])
    # Absolute: each suite runs with its own directory as the working directory.
    workdir = (arguments.workdir or Path(tempfile.mkdtemp(prefix="sqlalchemy-suite-"))).resolve()

    runs: dict[str, Run] = {}
    pairs = [pair.split(":", 1) for pair in arguments.pairs]
    for name in dict.fromkeys(name for pair in pairs for name in pair):
        if name not in urls:
            raise SystemExit(f"{name} is not in the [db] section of {SUITE / 'setup.cfg'}")
        runs[name] = run_suite(name, urls[name], workdir)
        print(f"{name}: {runs[name].summary}", flush=True)

    print("\n| [db] name | URL | passed | failed | skipped |\n|---|---|---|---|---|")
    for run in runs.values():
        print(f"| {run.name} | `{run.url}` | {run.count('passed')} | {run.count('failed')} | {run.count('skipped')} |")

    ok = True
    for ours_name, theirs_name in pairs:
        ours, theirs = runs[ours_name], runs[theirs_name]
        differences = [
            (test, theirs.outcomes.get(test, "absent"), ours.outcomes.get(test, "absent"))
            for test in sorted(set(ours.outcomes) | set(theirs.outcomes))
            if ours.outcomes.get(test, "absent").split(":")[0] != theirs.outcomes.get(test, "absent").split(":")[0]
        ]
        print(f"\n{ours_name} against {theirs_name}: {len(differences)} tests differ")
        for test, their_outcome, our_outcome in differences:
            print(f"- {test}\n  - {theirs_name}: {their_outcome}\n  - {ours_name}: {our_outcome}")
        if ours.count("failed") or ours.count("passed") < theirs.count("passed"):
            print(f"FAIL: {ours_name} passes fewer tests than {theirs_name}, or fails some")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
