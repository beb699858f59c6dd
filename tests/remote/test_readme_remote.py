"""Every example in the README's remote section runs, against the server
`make remote-server` starts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from servers.launch import Remote

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_ADDRESS = "127.0.0.1:8080"

pytestmark = pytest.mark.needs("batons", "hrana3", "pragmas", "faults")


def remote_section_examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Remote databases") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section else section
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_remote_section_has_examples() -> None:
    assert len(remote_section_examples()) >= 2
    assert "make remote-server" in README.read_text()


@pytest.mark.parametrize("index", range(len(remote_section_examples())))
def test_each_remote_example_in_the_readme_runs(remote: Remote, index: int) -> None:
    source = remote_section_examples()[index].replace(EXAMPLE_ADDRESS, urlsplit(remote.url).netloc)
    prelude = "import aiolibsql_sqlalchemy\n"  # a development checkout has no installed entry points
    completed = subprocess.run([sys.executable, "-c", prelude + source], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    for expected in re.findall(r"# (\S.*)$", source, flags=re.M):
        if expected.startswith(("[", "(", "sqlalchemy")):
            assert expected in completed.stdout, (expected, completed.stdout)
