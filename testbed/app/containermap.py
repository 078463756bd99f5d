"""The container-id -> service map the container reader reads instead of the Docker socket.

Why a file: the reader only needs to know which cgroup (named by container id) belongs to
which Compose service. The cgroup tree under ``/sys/fs/cgroup`` names containers by id only
(``docker/<id>``), with no labels, so it cannot say which service or even which project a
container is; the Engine API can, but any process that can talk to the Docker socket can start
a privileged container, i.e. is root on the host. So the harness (``faultlab.testbed.lifecycle``),
which talks to Docker anyway, writes this small JSON file after every ``compose up`` (the only
step that gives containers new ids: stop/start, restart, pause and kill keep them), and the
reader (``reader.py``) gets the file's directory mounted read-only.

The format (one file per Compose project)::

    {"project": "faultlab", "written_at": "2026-12-02T00:10:00Z",
     "containers": [{"id": "<64 hex>", "name": "faultlab-cart-1", "service": "cart"}, ...]}

Standard library only: the reader imports it inside the runtime image as ``app.containermap``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MAP_FILE = "containers.json"
_ID = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Container:
    id: str
    name: str  # e.g. "faultlab-gateway-1"
    service: str  # compose service name, e.g. "gateway"


def parse_docker_ps(text: str) -> list[Container]:
    """``docker ps --no-trunc --format '{{.ID}}\\t{{.Names}}\\t{{.Label "com.docker.compose.service"}}'``
    output -> containers (sorted by name); lines without a full id are skipped."""
    out = []
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if len(parts) < 2 or not _ID.match(parts[0]):
            continue
        name = parts[1].split(",")[0]
        service = parts[2] if len(parts) > 2 and parts[2] else name
        out.append(Container(id=parts[0], name=name, service=service))
    return sorted(out, key=lambda c: c.name)


def dumps(project: str, containers: list[Container], now_s: float | None = None) -> str:
    """The file's text for one project."""
    written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now_s is None else now_s))
    body = {
        "project": project,
        "written_at": written,
        "containers": [{"id": c.id, "name": c.name, "service": c.service} for c in containers],
    }
    return json.dumps(body, indent=1) + "\n"


def loads(text: str, project: str) -> list[Container]:
    """Parse the file's text; ValueError names what is wrong (another project, a bad entry)."""
    body = json.loads(text)
    if not isinstance(body, dict) or not isinstance(body.get("containers"), list):
        raise ValueError("container map: expected an object with a 'containers' list")
    if body.get("project") != project:
        raise ValueError(f"container map is for project {body.get('project')!r}, not {project!r}")
    out = []
    for i, item in enumerate(body["containers"]):
        if not isinstance(item, dict) or not _ID.match(str(item.get("id", ""))) or not item.get("service"):
            raise ValueError(f"container map: containers[{i}] needs a 64-hex 'id' and a 'service'")
        out.append(Container(id=item["id"], name=str(item.get("name") or item["id"][:12]), service=str(item["service"])))
    return sorted(out, key=lambda c: c.name)


def write(folder: str | Path, project: str, containers: list[Container]) -> Path:
    """Write the map atomically (temp file + rename in the same folder), readable by anyone.

    The reader mounts the *folder*: a bind-mounted single file would keep showing the old
    inode after a rename.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".containers-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps(project, containers))
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / MAP_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / MAP_FILE


def read(path: str | Path, project: str) -> list[Container]:
    """The project's containers from the map file (OSError when it is missing, ValueError when bad)."""
    with open(path, encoding="utf-8") as fh:
        return loads(fh.read(), project)
