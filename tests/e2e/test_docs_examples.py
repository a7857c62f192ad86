"""Every example in the guides runs against the demo, as a newcomer would paste it.

The convention (also in the README, *Examples in the guides*):

- a fenced block opened with ```` ```sh example ```` is an example; other blocks illustrate;
- it runs in bash (`set -eo pipefail`) in the directory where `make demo` runs, with
  `.venv/bin` on the PATH, while `make demo` serves on localhost:8080 (here: a small demo on a
  free port, seeded once for the whole session; `localhost:8080` is replaced by it);
- it states what it proves on a comment line `# expect: ...` of space-separated checks:
  `status=201` (the last HTTP status line, so HTTP examples use `curl -si`), `exit=1` (the
  block's exit code; 0 when not stated), `json=PATH` (the answer's JSON has that dotted path,
  list items by number), `json=PATH==VALUE` (and it equals VALUE), `contains="TEXT"`.

Examples run in file order (README first, then docs/*.md by name), top to bottom.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```sh example\s*\n(.*?)^```", re.M | re.S)
STATUS = re.compile(r"^HTTP/[\d.]+ (\d{3})", re.M)


@dataclass
class Example:
    guide: Path
    line: int
    code: str

    @property
    def name(self) -> str:
        return f"{self.guide.relative_to(ROOT)}:{self.line}"

    def checks(self) -> list[str]:
        found = []
        for text in self.code.splitlines():
            if text.strip().startswith("# expect:"):
                found += shlex.split(text.strip()[len("# expect:") :])
        return found


def examples(guide: Path) -> list[Example]:
    text = guide.read_text()
    return [
        Example(guide, text.count("\n", 0, match.start()) + 1, match.group(1))
        for match in FENCE.finditer(text)
    ]


ALL = [example for guide in GUIDES for example in examples(guide)]


def test_every_guide_has_examples_and_each_states_what_it_checks() -> None:
    assert {e.guide for e in ALL} == set(GUIDES)
    for example in ALL:
        assert example.checks(), f"{example.name}: no '# expect:' line"


@dataclass
class Demo:
    directory: Path
    port: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`inventory demo` itself (small: 12 stores, 3 days), served on a free port."""
    directory = tmp_path_factory.mktemp("demo")
    (directory / ".venv").symlink_to(Path(sys.executable).parent.parent)  # as in the clone
    port = _free_port()
    inventory = str(Path(sys.executable).parent / "inventory")
    command = [inventory, "demo", "--stores", "12", "--days", "3", "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("INVENTORY_DATABASE_URL", None)
    server = subprocess.Popen(
        command, cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seen = []
    assert server.stdout is not None
    for text in server.stdout:
        seen.append(text)
        if text.startswith("serving "):
            break
    else:
        pytest.fail("the demo did not start:\n" + "".join(seen))
    try:
        yield Demo(directory, port)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        for text in reversed(body.strip().splitlines()):
            try:
                return json.loads(text)
            except ValueError:
                continue
    return None


def _at(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(path)
    return value


@pytest.mark.parametrize("example", ALL, ids=[e.name for e in ALL])
def test_example_runs_as_documented(demo: Demo, example: Example) -> None:
    code = example.code.replace("localhost:8080", f"127.0.0.1:{demo.port}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("INVENTORY_DATABASE_URL", None)
    done = subprocess.run(
        ["bash", "-c", "set -eo pipefail\n" + code],
        cwd=demo.directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout
    where = f"{example.name}\n--- stdout\n{output}\n--- stderr\n{done.stderr}"
    checks = example.checks()
    expected_exit = next((int(c[5:]) for c in checks if c.startswith("exit=")), 0)
    assert done.returncode == expected_exit, where
    statuses = STATUS.findall(output)
    body = output
    if statuses:
        last = output[list(STATUS.finditer(output))[-1].start() :]
        body = re.split(r"\r?\n\r?\n", last, maxsplit=1)[-1]
    for check in checks:
        name, _, value = check.partition("=")
        if name == "status":
            assert statuses and statuses[-1] == value, where
        elif name == "json":
            path, _, wanted = value.partition("==")
            answer = _at(_json(body), path)
            if wanted:
                assert str(answer) == wanted, where
        elif name == "contains":
            assert value in output + done.stderr, where
        elif name != "exit":
            pytest.fail(f"{example.name}: unknown check {check!r}")
