"""Shared fixtures.

Integration tests (marked ``integration``) share one testbed per session through the
``testbed`` fixture: it is built and brought up once, and taken down at the end with a check
that no container, network or volume of the project is left behind. Set
``FAULTLAB_KEEP_TESTBED=1`` to leave it running for a debugging session.
"""

from __future__ import annotations

import os
import subprocess

import pytest


def project_leftovers(project: str) -> dict[str, list[str]]:
    """Containers, networks and volumes still labelled with the compose project."""
    label = f"label=com.docker.compose.project={project}"
    out = {}
    for kind, cmd in {
        "containers": ["docker", "ps", "-a", "-q", "--filter", label],
        "networks": ["docker", "network", "ls", "-q", "--filter", label],
        "volumes": ["docker", "volume", "ls", "-q", "--filter", label],
    }.items():
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[kind] = done.stdout.split()
    return out


@pytest.fixture(scope="session", autouse=True)
def _private_task_history(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Benches and checks run by the tests keep their task times out of the user's history
    (``$FAULTLAB_HOME/task_times.jsonl``, read for the next plan's estimates); subprocesses inherit it."""
    os.environ["FAULTLAB_HOME"] = str(tmp_path_factory.mktemp("faultlab-home"))


@pytest.fixture(scope="session")
def testbed_config():
    from faultlab.testbed.lifecycle import TestbedConfig

    return TestbedConfig(scrape_interval_s=2.0, load_params={"users": 8})


@pytest.fixture(scope="session")
def testbed(testbed_config):
    """The running stack (status dict), up once per session, down (and checked) at the end."""
    from faultlab.harness.runs.runner import clean_and_down
    from faultlab.testbed.lifecycle import up

    info = up(testbed_config)
    yield info
    if os.environ.get("FAULTLAB_KEEP_TESTBED") == "1":
        return
    clean_and_down(testbed_config)
    left = project_leftovers(testbed_config.project)
    assert left == {"containers": [], "networks": [], "volumes": []}, f"down left {left}"


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch CPU thread for a module (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``):
    small networks train in seconds on a busy two-core host, as the live process runs them."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
