"""Build, start, inspect and stop the testbed's Compose project.

The Python API the CLI (``faultlab testbed ...``), the scenario runner and the tests share.
Every command goes through Docker Compose v2 with the environment built from one
:class:`TestbedConfig`, so the compose file stays readable and the knobs live in one place.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from faultlab.errors import BadInput, RunFailed
from faultlab.testbed.app import containermap
from faultlab.testbed.baseimage import REGISTRY_BASE, ensure_base_image, image_exists
from faultlab.testbed.engine import compose_command, engine_answers, ensure_engine

TESTBED_DIR = Path(__file__).resolve().parent
COMPOSE_FILE = TESTBED_DIR / "compose.yaml"
WHEELHOUSE = TESTBED_DIR / "images" / "wheels"
LOCUST_WHEELS = ["locust==2.47.0", "prometheus-client"]

APP_SERVICES = ["gateway", "catalog", "cart", "recommendation", "checkout", "payment", "shipping"]
DATABASES = ["postgres", "redis"]
INFRA = ["locust", "prometheus", "node-exporter", "container-reader", "container-exporter"]
ALL_SERVICES = APP_SERVICES + DATABASES + INFRA

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class TestbedConfig:
    """Every knob of the testbed; turned into the compose file's environment."""

    project: str = "faultlab"
    tag: str = "dev"
    scrape_interval_s: float = 5.0
    load_shape: str = "constant"
    load_params: dict = field(default_factory=lambda: {"users": 10})
    load_seed: int = 0
    base_image: str = REGISTRY_BASE
    gateway_port: int = 8080
    prometheus_port: int = 9090
    locust_port: int = 8089
    service_mem: str = "1g"
    # where the container-id -> service map for the container reader goes (None: FAULTLAB_CONTAINER_MAP_DIR,
    # else ~/.cache/faultlab/testbed/<project>); mounted read-only into the container reader
    container_map_dir: str | None = None

    def __post_init__(self) -> None:
        if not 0.5 <= self.scrape_interval_s <= 60:
            raise BadInput(f"scrape_interval_s must be within 0.5..60 s, got {self.scrape_interval_s}")

    def env(self) -> dict[str, str]:
        interval_ms = int(round(self.scrape_interval_s * 1000))
        return {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "FAULTLAB_TAG": self.tag,
            "FAULTLAB_SCRAPE_INTERVAL": f"{interval_ms}ms",
            "FAULTLAB_LOAD_SHAPE": self.load_shape,
            "FAULTLAB_LOAD_PARAMS": json.dumps(self.load_params),
            "FAULTLAB_LOAD_SEED": str(self.load_seed),
            "BASE_IMAGE": self.base_image,
            "FAULTLAB_GATEWAY_PORT": str(self.gateway_port),
            "FAULTLAB_PROMETHEUS_PORT": str(self.prometheus_port),
            "FAULTLAB_LOCUST_PORT": str(self.locust_port),
            "FAULTLAB_SERVICE_MEM": self.service_mem,
            "FAULTLAB_CONTAINER_MAP_DIR": str(self.map_dir),
        }

    @property
    def map_dir(self) -> Path:
        """The folder holding the container reader's map (see ``app/containermap.py``)."""
        if self.container_map_dir:
            return Path(self.container_map_dir)
        if os.environ.get("FAULTLAB_CONTAINER_MAP_DIR"):
            return Path(os.environ["FAULTLAB_CONTAINER_MAP_DIR"])
        return Path.home() / ".cache" / "faultlab" / "testbed" / self.project

    @property
    def images(self) -> dict[str, str]:
        return {"runtime": f"faultlab/runtime:{self.tag}", "locust": f"faultlab/locust:{self.tag}"}

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def locust_url(self) -> str:
        return f"http://127.0.0.1:{self.locust_port}"


def compose(config: TestbedConfig, *args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """Run one Docker Compose v2 command for this project.

    After a successful ``up`` (the one command that gives containers new ids) the container reader's
    container map is rewritten, so every caller (``up()``, the runner's Locust restart) keeps
    the container metrics labelled.
    """
    if args and args[0] == "up":
        config.map_dir.mkdir(parents=True, exist_ok=True)  # before Docker creates it as root
    cmd = [*compose_command(), "-f", str(COMPOSE_FILE), "-p", config.project, *args]
    done = subprocess.run(cmd, env=config.env(), capture_output=capture, text=True)
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout or "").strip()[-800:]
        raise RunFailed(f"'docker compose {' '.join(args)}' failed: {detail}")
    if args and args[0] == "up" and done.returncode == 0:
        write_container_map(config)
    return done


PS_FORMAT = '{{.ID}}\t{{.Names}}\t{{.Label "com.docker.compose.service"}}'


def write_container_map(config: TestbedConfig) -> Path:
    """Write the project's container-id -> service map for the container reader (no Docker socket there)."""
    cmd = ["docker", "ps", "--all", "--no-trunc", "--filter", f"label=com.docker.compose.project={config.project}",
           "--format", PS_FORMAT]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RunFailed(f"'docker ps' for the container map failed: {done.stderr.strip()[-300:]}")
    try:
        return containermap.write(config.map_dir, config.project, containermap.parse_docker_ps(done.stdout))
    except OSError as exc:
        raise RunFailed(f"cannot write the container map into {config.map_dir}: {exc}") from None


def ensure_wheelhouse(log: Log = _stderr) -> Path:
    """Download Locust's wheels on the host (pip inside containers cannot reach PyPI here)."""
    marker = WHEELHOUSE / ".complete"
    if marker.exists():
        return WHEELHOUSE
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    log("downloading Locust wheels on the host for the load generator image")
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(WHEELHOUSE), *LOCUST_WHEELS]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RunFailed(f"pip download of {LOCUST_WHEELS} into {WHEELHOUSE} failed: {done.stderr.strip()[-400:]}")
    marker.write_text("ok\n")
    return WHEELHOUSE


def build(config: TestbedConfig = TestbedConfig(), log: Log = _stderr) -> dict[str, str]:
    """Build both images (base image resolved without a registry if need be); return their ids."""
    ensure_engine()
    base = ensure_base_image(config.base_image, log=log)
    config = replace(config, base_image=base)
    ensure_wheelhouse(log)
    log(f"building {config.images['runtime']} from {base}")
    compose(config, "build", "postgres")
    log(f"building {config.images['locust']}")
    compose(config, "build", "locust")
    return image_ids(config)


def image_ids(config: TestbedConfig = TestbedConfig()) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, name in config.images.items():
        done = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True)
        if done.returncode == 0:
            out[key] = done.stdout.strip()
    return out


def up(config: TestbedConfig = TestbedConfig(), wait_s: float = 300.0, log: Log = _stderr) -> dict:
    """Build what is missing, start every service, and wait until all are healthy and scraped."""
    ensure_engine()
    if not all(image_exists(name) for name in config.images.values()):
        build(config, log=log)
    base = ensure_base_image(config.base_image, log=log)
    config = replace(config, base_image=base)
    log(f"starting project {config.project!r}")
    compose(config, "up", "-d", "--no-build", "--remove-orphans")
    wait_healthy(config, wait_s=wait_s, log=log)
    return status(config)


def containers(config: TestbedConfig = TestbedConfig()) -> list[dict]:
    """One dict per container of the project: service, name, state, health."""
    done = compose(config, "ps", "--all", "--format", "json", check=False)
    if done.returncode != 0:
        return []
    text = done.stdout.strip()
    if not text:
        return []
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
    return [
        {"service": r.get("Service"), "name": r.get("Name"), "state": r.get("State"), "health": r.get("Health", "")}
        for r in rows
    ]


def wait_healthy(config: TestbedConfig, wait_s: float = 300.0, log: Log = _stderr) -> None:
    """Poll until every service runs (and is healthy where it has a check) and no target is down."""
    deadline = time.monotonic() + wait_s
    pending: list[str] = ALL_SERVICES
    while time.monotonic() < deadline:
        rows = {r["service"]: r for r in containers(config)}
        pending = [
            s
            for s in ALL_SERVICES
            if s not in rows or rows[s]["state"] != "running" or rows[s]["health"] not in ("", "healthy")
        ]
        if not pending:
            down_targets = prometheus_targets_down(config)
            if not down_targets:
                return
            pending = [f"scrape target {t}" for t in down_targets]
        time.sleep(2)
    raise RunFailed(f"testbed not healthy after {wait_s:.0f} s; still waiting for: {', '.join(pending)}")


def prometheus_targets_down(config: TestbedConfig) -> list[str]:
    """Scrape targets that Prometheus does not report as up (all of them if it is unreachable)."""
    try:
        with urllib.request.urlopen(f"{config.prometheus_url}/api/v1/targets?state=active", timeout=5) as resp:
            data = json.load(resp)
    except OSError:
        return ["prometheus"]
    targets = data["data"]["activeTargets"]
    if not targets:
        return ["(no targets yet)"]
    return [f"{t['labels'].get('job')}/{t['labels'].get('instance')}" for t in targets if t.get("health") != "up"]


def status(config: TestbedConfig = TestbedConfig()) -> dict:
    """What runs now: URLs, service names and each container's state."""
    rows = containers(config)
    return {
        "project": config.project,
        "prometheus": config.prometheus_url,
        "app": config.app_url,
        "locust": config.locust_url,
        "services": sorted({r["service"] for r in rows if r["service"]}),
        "containers": rows,
        "running": bool(rows) and all(r["state"] == "running" for r in rows),
    }


def down(config: TestbedConfig = TestbedConfig(), log: Log = _stderr) -> None:
    """Stop and remove every container, network and volume of the project."""
    if not engine_answers():
        return
    log(f"stopping project {config.project!r}")
    volumes = anonymous_volumes(config)
    compose(config, "down", "--volumes", "--remove-orphans", "--timeout", "10")
    if volumes:  # quiet when 'down --volumes' already removed them
        subprocess.run(["docker", "volume", "rm", *volumes], capture_output=True, text=True)
    (config.map_dir / containermap.MAP_FILE).unlink(missing_ok=True)


def anonymous_volumes(config: TestbedConfig) -> list[str]:
    """The anonymous volumes (each container's ``/tmp``) the project's containers mount.

    ``down --volumes`` removes a container's anonymous volumes only if that container created
    them; a container Compose re-created (``up --force-recreate``, a changed setting) inherits
    its predecessor's, which ``down`` then leaves behind unless removed by name.
    """
    ids = subprocess.run(["docker", "ps", "--all", "--quiet", "--no-trunc", "--filter",
                          f"label=com.docker.compose.project={config.project}"], capture_output=True, text=True)
    if ids.returncode != 0 or not ids.stdout.split():
        return []
    fmt = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}'
    done = subprocess.run(["docker", "inspect", "-f", fmt, *ids.stdout.split()], capture_output=True, text=True)
    names = {name for name in done.stdout.split() if re.fullmatch(r"[0-9a-f]{64}", name)}
    return sorted(names)
