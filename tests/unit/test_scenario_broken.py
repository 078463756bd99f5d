"""The broken-scenario corpus: each file gives its own specific error, and nothing starts.

Every ``scenarios_broken/NAME.yaml`` has a sidecar ``NAME.expected``: one fragment per line,
each of which must appear in the error message (which must also name the file).
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import docker
import pytest

from faultlab.errors import BadInput
from faultlab.harness.scenario import load_scenario

CORPUS = Path(__file__).with_name("scenarios_broken")
CASES = sorted(CORPUS.glob("*.yaml"))


@pytest.fixture
def nothing_may_start(monkeypatch):
    """Fail loudly if validation creates a Docker client, runs a process or opens a socket."""
    calls: list[str] = []

    def refuse(what):
        def _refuse(*args, **kwargs):
            calls.append(what)
            raise AssertionError(f"validation must not {what}")

        return _refuse

    monkeypatch.setattr(docker, "from_env", refuse("create a docker client"))
    monkeypatch.setattr(docker.DockerClient, "__init__", refuse("create a docker client"))
    monkeypatch.setattr(docker.APIClient, "__init__", refuse("create a docker API client"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("start a process"))
    monkeypatch.setattr(socket, "create_connection", refuse("open a connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("open a connection"))
    return calls


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 15
    assert all(case.with_suffix(".expected").exists() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_scenario_gives_its_specific_error(case, nothing_may_start):
    fragments = [line for line in case.with_suffix(".expected").read_text().splitlines() if line]
    assert fragments, f"{case.name} has no expected fragment"
    with pytest.raises(BadInput) as caught:
        load_scenario(case)
    message = str(caught.value)
    assert message.startswith(f"{case}: "), message
    for fragment in fragments:
        assert fragment in message, f"{case.name}: {fragment!r} not in {message!r}"
    assert nothing_may_start == []
