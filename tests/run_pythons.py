"""Builds the extension for every supported interpreter found on this machine
and runs the pytest suite on each, with short reads inline and without.

    python tests/run_pythons.py --engine-build build --main-venv .venv

Interpreters come from pyenv's versions, then from `python3.X` on PATH. The
main virtual environment's interpreter reuses that environment and the main
build; every other one gets a virtual environment and a build directory under
build/pythons/, linking the engine the main build compiled. An interpreter
that is not found is reported as not tested. With --sqlalchemy-suite, the
SQLAlchemy compliance comparison then runs once, on the newest interpreter.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
PROJECT = Path(__file__).resolve().parent.parent
INLINE_MODES = {"inline reads on": {}, "inline reads off": {"AIOLIBSQL_INLINE_READS": "0"}}


@dataclass
class Interpreter:
    version: str
    executable: Path


@dataclass
class Outcome:
    interpreter: Interpreter
    counts: dict[str, str] = field(default_factory=dict)
    failed: bool = False


def reported_version(executable: Path) -> str | None:
    """The X.Y an interpreter says it is, or None when it does not run (a pyenv
    shim for a version pyenv does not select fails this way) or is free-threaded."""
    probe = (
        "import sys, sysconfig; "
        "print('%d.%d' % sys.version_info[:2], bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"
    )
    try:
        result = subprocess.run([str(executable), "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    version, free_threaded = result.stdout.split()
    return None if free_threaded == "True" else version


def pyenv_candidates(version: str) -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not root.is_dir():
        return []
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
    found = [(int(m.group(1)), entry) for entry in root.iterdir() if (m := pattern.match(entry.name))]
    return [entry / "bin" / "python" for _, entry in sorted(found, reverse=True)]


def find_interpreter(version: str) -> Interpreter | None:
    on_path = shutil.which(f"python{version}")
    for candidate in [*pyenv_candidates(version), *([Path(on_path)] if on_path else [])]:
        if reported_version(candidate) == version:
            return Interpreter(version, candidate)
    return None


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=PROJECT, **kwargs)  # type: ignore[call-overload]


def prepare_environment(interpreter: Interpreter, root: Path) -> Path:
    """A virtual environment with the development requirements, importing the
    package from python/ as the main one does; returns its interpreter."""
    venv = root / "venv"
    python = venv / "bin" / "python"
    requirements = PROJECT / "requirements" / "dev.txt"
    stamp = venv / ".requirements-installed"
    if not python.exists():
        run([str(interpreter.executable), "-m", "venv", str(venv)])
    if not stamp.exists() or stamp.stat().st_mtime < requirements.stat().st_mtime:
        run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)])
        stamp.touch()
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "aiolibsql-dev.pth").write_text(f"{PROJECT / 'python'}\n")
    return python


def build_extension(python: Path, build: Path, engine_build: Path) -> None:
    """Each interpreter's module lands in python/aiolibsql under its own ABI
    tag, so the builds sit side by side."""
    run(
        [
            "cmake", "-S", str(PROJECT), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
            "-DAIOLIBSQL_BUILD_PYTHON=ON", "-DAIOLIBSQL_BUILD_TESTS=OFF", "-DAIOLIBSQL_INPLACE=ON",
            f"-DAIOLIBSQL_ENGINE_FROM_BUILD={engine_build}", f"-DPython_EXECUTABLE={python}",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    run(["cmake", "--build", str(build)])


def pytest_counts(python: Path, extra_env: dict[str, str]) -> tuple[str, bool]:
    """Runs the suite; returns pytest's closing summary and whether it passed."""
    command = [str(python), "-m", "pytest", "-q", "tests"]
    print("+", " ".join(f"{k}={v}" for k, v in extra_env.items()), *command, flush=True)
    process = subprocess.Popen(command, cwd=PROJECT, env={**os.environ, **extra_env}, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        sys.stdout.write(line)
        if line.strip():
            last = line.strip()
    passed = process.wait() == 0
    summary = re.sub(r"^=+ | =+$", "", last)
    return summary, passed


def test_interpreter(interpreter: Interpreter, args: argparse.Namespace) -> tuple[Outcome, Path]:
    outcome = Outcome(interpreter)
    main_python = args.main_venv / "bin" / "python"
    if reported_version(main_python) == interpreter.version:
        python = main_python
    else:
        root = PROJECT / args.engine_build / "pythons" / interpreter.version
        python = prepare_environment(interpreter, root)
        build_extension(python, root / "build", (PROJECT / args.engine_build).resolve())
    for mode, extra_env in INLINE_MODES.items():
        summary, passed = pytest_counts(python, extra_env)
        outcome.counts[mode] = summary
        outcome.failed |= not passed
    return outcome, python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine-build", type=Path, required=True, help="the main build directory")
    parser.add_argument("--main-venv", type=Path, required=True, help="the main virtual environment")
    parser.add_argument(
        "--sqlalchemy-suite", nargs="*", metavar="OURS:THEIRS", help="compare.py's pairs, run on the newest interpreter"
    )
    args = parser.parse_args()

    outcomes: list[Outcome] = []
    missing: list[str] = []
    newest_python: Path | None = None
    for version in SUPPORTED:
        interpreter = find_interpreter(version)
        if interpreter is None:
            missing.append(version)
            continue
        outcome, newest_python = test_interpreter(interpreter, args)
        outcomes.append(outcome)

    suite_failed = False
    if args.sqlalchemy_suite and newest_python is not None:
        workdir = PROJECT / args.engine_build / "sqlalchemy-suite"
        command = [str(newest_python), "tests/sqlalchemy_suite/compare.py", "--workdir", str(workdir)]
        suite_failed = subprocess.run([*command, *args.sqlalchemy_suite], cwd=PROJECT).returncode != 0

    print("\nPython interpreters:")
    for outcome in outcomes:
        status = "FAILED" if outcome.failed else "passed"
        print(f"  {outcome.interpreter.version} ({outcome.interpreter.executable}): {status}")
        for mode, summary in outcome.counts.items():
            print(f"      {mode}: {summary}")
    for version in missing:
        print(f"  {version}: not tested: no working interpreter in pyenv's versions or as python{version} on PATH")
    if args.sqlalchemy_suite:
        where = newest_python or "no interpreter"
        print(f"  SQLAlchemy compliance comparison on {where}: {'FAILED' if suite_failed else 'passed'}")
    return 1 if suite_failed or not outcomes or any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
