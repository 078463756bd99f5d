"""The target guard: only containers of the testbed's Compose project may be faulted.

A target is named by its Compose service (``cart``) or its container name
(``faultlab-cart-1``). Anything that is not a running container labelled
``com.docker.compose.project=faultlab`` is refused with the list of valid targets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from faultlab.errors import BadInput

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


def project_name() -> str:
    """The Compose project whose containers may be targeted (``FAULTLAB_PROJECT`` overrides)."""
    return os.environ.get("FAULTLAB_PROJECT", "faultlab")


@dataclass(frozen=True)
class Target:
    """A resolved target container with the facts the faults and the sampler need."""

    service: str
    container_id: str
    container_name: str
    image: str
    pid: int = 0
    running: bool = True
    cpu_quota_cores: float = 0.0  # 0 = no quota
    memory_limit_bytes: int = 0  # 0 = no limit
    networks: tuple[str, ...] = ()


def target_from_attrs(attrs: dict) -> Target:
    """Build a Target from ``docker inspect`` attributes."""
    config = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    state = attrs.get("State") or {}
    labels = config.get("Labels") or {}
    quota = host.get("CpuQuota") or 0
    period = host.get("CpuPeriod") or 100_000
    nano = host.get("NanoCpus") or 0
    cpu_quota_cores = nano / 1e9 if nano else (quota / period if quota > 0 else 0.0)
    networks = tuple(sorted(((attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys()))
    return Target(
        service=labels.get(SERVICE_LABEL, ""),
        container_id=attrs.get("Id", ""),
        container_name=(attrs.get("Name") or "").lstrip("/"),
        image=attrs.get("Image", "") or config.get("Image", ""),
        pid=int(state.get("Pid") or 0),
        running=bool(state.get("Running")),
        cpu_quota_cores=float(cpu_quota_cores),
        memory_limit_bytes=int(host.get("Memory") or 0),
        networks=networks,
    )


def guard(name: str, candidates: list[Target], project: str | None = None) -> Target:
    """Pick the project container named ``name`` (service or container name) or refuse.

    ``candidates`` are the containers of the project (already filtered on the project label);
    the refusal lists the valid service names so the user can correct the target.
    """
    project = project or project_name()
    matches = [t for t in candidates if name in (t.service, t.container_name)]
    if not matches:
        valid = ", ".join(sorted({t.service for t in candidates if t.service})) or "(none running)"
        raise BadInput(
            f"target {name!r} is not a container of the Compose project {project!r}; "
            f"valid targets: {valid}"
        )
    if len(matches) > 1:
        names = ", ".join(sorted(t.container_name for t in matches))
        raise BadInput(f"target {name!r} matches several containers ({names}); name one")
    return matches[0]
