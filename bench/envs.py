"""Virtual environments for the peers, made and filled once (bench/.venv-*).

Each requirement is installed by its own quiet ``pip install`` and remembered
in the environment's ``.bench-installed`` file, so a second run installs
nothing and one failing package does not take the others down with it.
"""

from __future__ import annotations

import json
import subprocess
import venv
from dataclasses import dataclass, field
from pathlib import Path

STAMP = ".bench-installed"


@dataclass
class Env:
    name: str
    path: Path
    python: Path
    failed: dict[str, str] = field(default_factory=dict)  # requirement -> pip's last words


def _stamp(path: Path) -> set[str]:
    try:
        return set(json.loads((path / STAMP).read_text()))
    except (OSError, ValueError):
        return set()


def ensure_env(bench_dir: Path, name: str, requirements: list[str], log: list[str]) -> Env:
    path = bench_dir / f".venv-{name}"
    python = path / "bin" / "python"
    env = Env(name, path, python)
    if not python.exists():
        log.append(f"creating {path.relative_to(bench_dir.parent)}")
        print(log[-1], flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
    done = _stamp(path)
    for req in requirements:
        if req in done:
            continue
        log.append(f"installing {req} into {path.name}")
        print(log[-1], flush=True)
        proc = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                req,
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            env.failed[req] = lines[-1] if lines else f"pip exited with {proc.returncode}"
            continue
        done.add(req)
        (path / STAMP).write_text(json.dumps(sorted(done)))
    return env
