"""Every example in the README's replica section runs, in order, against the
primary `make replica-primary` starts."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from servers.launch import replication_log_primary, sync_primary

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_ADDRESS = "127.0.0.1:8081"
EXAMPLE_ADDRESS_V1 = "127.0.0.1:8082"


def replica_section() -> str:
    text = README.read_text()
    section = text[text.index("## Embedded replicas\n") :]
    return section[: section.index("\n## ", 1)]


def replica_section_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", replica_section(), flags=re.S)


@pytest.fixture(scope="module")
def primary() -> Iterator[str]:
    with sync_primary() as url:
        yield url


@pytest.fixture(scope="module")
def primary_v1() -> Iterator[str]:
    with replication_log_primary() as url:
        yield url


def test_the_replica_section_says_how_to_start_its_primary() -> None:
    assert "make replica-primary" in replica_section()
    assert "make replica-primary-v1" in replica_section()
    assert len(replica_section_examples()) >= 2


def test_the_replica_examples_in_the_readme_run_in_order(primary: str, primary_v1: str, tmp_path: Path) -> None:
    for source in replica_section_examples():
        source = source.replace(EXAMPLE_ADDRESS, urlsplit(primary).netloc)
        source = source.replace(EXAMPLE_ADDRESS_V1, urlsplit(primary_v1).netloc)
        prelude = "import aiolibsql_sqlalchemy\n"  # a development checkout has no installed entry points
        completed = subprocess.run(
            [sys.executable, "-c", prelude + source], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
        assert completed.returncode == 0, completed.stderr
        for expected in re.findall(r"# (\[.*|\(.*|\d+|True|None)$", source, flags=re.M):
            assert expected in completed.stdout, (expected, completed.stdout)
