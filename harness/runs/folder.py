"""One self-contained folder per run, ``runs/<UTC-time>-<scenario-name>/`` (README, "A run writes one self-contained folder").

The scenario is copied byte for byte as given, the plan is written before anything starts, and
``manifest.json`` is written last and atomically (temp file + rename), so a folder whose manifest
says ``complete: true`` is a finished run and a folder without one was cut short.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from faultlab.documents import read_document
from faultlab.errors import BadInput
from faultlab.injectors.ground_truth import iso_ms

MANIFEST_VERSION = 1
KEY_PACKAGES = (
    "numpy", "pandas", "pyarrow", "scikit-learn", "torch", "torch-geometric",
    "pydantic", "PyYAML", "prometheus-api-client", "docker", "psutil", "matplotlib",
)  # fmt: skip
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RunFolder:
    """The paths of one run folder; the README lists what each holds."""

    path: Path

    @property
    def scenario_file(self) -> Path:
        return self.path / "scenario.yaml"

    @property
    def plan_file(self) -> Path:
        return self.path / "plan.yaml"

    @property
    def ground_truth_file(self) -> Path:
        return self.path / "ground_truth.jsonl"

    @property
    def dataset_dir(self) -> Path:
        return self.path / "dataset"

    @property
    def manifest_file(self) -> Path:
        return self.path / "manifest.json"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _safe_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    if not safe:
        raise BadInput(f"scenario name {name!r} has no usable characters for a folder name")
    return safe


def create_run_folder(
    scenario_file: str | Path,
    scenario_name: str,
    runs_dir: str | Path = "runs",
    started_at: datetime | None = None,
) -> RunFolder:
    """Make ``<runs_dir>/<UTC-time>-<name>/`` and copy the scenario file into it as given.

    A second run in the same second gets a ``-2``, ``-3`` ... suffix instead of sharing a folder.
    """
    scenario_file = Path(scenario_file)
    if not scenario_file.is_file():
        raise BadInput(f"{scenario_file}: no such scenario file")
    stamp = (started_at or utc_now()).astimezone(UTC).strftime(TIME_FORMAT)
    base = Path(runs_dir) / f"{stamp}-{_safe_name(scenario_name)}"
    base.parent.mkdir(parents=True, exist_ok=True)
    path, n = base, 1
    while True:
        try:
            path.mkdir()
            break
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")
    folder = RunFolder(path)
    shutil.copyfile(scenario_file, folder.scenario_file)
    return folder


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(folder: Path, exclude: tuple[str, ...] = ("manifest.json",)) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (POSIX relative paths, sorted), minus ``exclude``."""
    out: dict[str, str] = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = file.relative_to(folder).as_posix()
        if rel not in exclude and not rel.startswith(".manifest-"):
            out[rel] = sha256_file(file)
    return out


def project_version(root: Path = PROJECT_ROOT) -> str | None:
    """Faultlab's version: the installed distribution's, else ``pyproject.toml``'s (source tree)."""
    try:
        return metadata.version("faultlab")
    except metadata.PackageNotFoundError:
        pass
    try:
        return str(tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


def git_commit(root: Path = PROJECT_ROOT, timeout_s: float = 5.0) -> str | None:
    """The source tree's commit, with ``+dirty`` when it has uncommitted changes (None outside git)."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=timeout_s, check=False)  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=timeout_s, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str | None]:
    """Versions of Python, Faultlab and the key packages (None when one is not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version(), "faultlab": project_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cgroup_layout(root: Path = Path("/sys/fs/cgroup")) -> str:
    """``v2`` (unified), ``hybrid`` (v1 with a unified mount), ``v1``, or ``none``."""
    if (root / "cgroup.controllers").exists():
        return "v2"
    if (root / "unified").is_dir():
        return "hybrid"
    if (root / "cpuacct").exists() or (root / "memory").exists():
        return "v1"
    return "none"


def docker_server_version(timeout_s: float = 5.0) -> str | None:
    """The engine's version from ``docker version`` (None when no CLI or no engine answers)."""
    if shutil.which("docker") is None:
        return None
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=timeout_s, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = done.stdout.strip()
    return version if done.returncode == 0 and version else None


def host_facts() -> dict[str, Any]:
    """What the numbers of this run depend on: cores, memory, kernel, cgroup layout, engine."""
    import psutil

    return {
        "hostname": platform.node(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": int(psutil.virtual_memory().total),
        "kernel": platform.release(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "cgroup_layout": cgroup_layout(),
        "docker_version": docker_server_version(),
        "python_executable": sys.executable,
    }


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write JSON to a temp file in the same folder, fsync, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, default=str)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_manifest(
    folder: RunFolder,
    *,
    started_at: datetime,
    ended_at: datetime,
    complete: bool,
    seeds: dict[str, Any],
    image_ids: dict[str, str] | None = None,
    host: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``manifest.json`` last: versions, image ids, seeds, host facts, times, file hashes.

    Call it after every other file is written; ``host`` defaults to :func:`host_facts`.
    """
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "run": folder.path.name,
        "complete": bool(complete),
        "started_at": iso_ms(started_at),
        "ended_at": iso_ms(ended_at),
        "duration_s": round((ended_at - started_at).total_seconds(), 3),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "image_ids": dict(image_ids or {}),
        "seeds": seeds,
        "host": host_facts() if host is None else host,
        **(extra or {}),
        "files": file_hashes(folder.path),
    }
    return write_json_atomic(folder.manifest_file, manifest)


def read_manifest(folder: str | Path) -> dict[str, Any]:
    return read_document(Path(folder) / "manifest.json", str(folder),
                         missing="no manifest.json (the run did not finish writing)")


def verify_manifest(folder: str | Path) -> list[str]:
    """Files whose hash no longer matches the manifest (missing or changed); empty when intact."""
    folder = Path(folder)
    recorded = read_manifest(folder)["files"]
    current = file_hashes(folder)
    return sorted(name for name, digest in recorded.items() if current.get(name) != digest)
