"""The run folder: name, scenario copy, manifest contents, hashes and atomic write."""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import UTC, datetime, timedelta, timezone

import numpy
import pytest

from faultlab.errors import BadInput
from faultlab.harness.runs import folder as runfolder
from faultlab.harness.runs.folder import (
    cgroup_layout,
    create_run_folder,
    read_manifest,
    verify_manifest,
    write_manifest,
)

START = datetime(2026, 11, 25, 16, 30, 5, 123000, tzinfo=UTC)
HOST = {"cpu_count": 2, "memory_bytes": 24 << 30, "kernel": "6.18", "cgroup_layout": "hybrid",
        "docker_version": None}


@pytest.fixture
def scenario(tmp_path):
    file = tmp_path / "my scenario.yaml"
    file.write_bytes(b"name: quick start\n# a comment kept as given\n")
    return file


def test_folder_name_is_utc_time_then_name_and_scenario_copied_as_given(tmp_path, scenario):
    folder = create_run_folder(scenario, "quick start", tmp_path / "runs", started_at=START)
    assert folder.path == tmp_path / "runs" / "20261125T163005Z-quick-start"
    assert folder.scenario_file.read_bytes() == scenario.read_bytes()
    again = create_run_folder(scenario, "quick start", tmp_path / "runs", started_at=START)
    assert again.path.name == "20261125T163005Z-quick-start-2"


def test_local_time_is_converted_to_utc_for_the_name(tmp_path, scenario):
    cet = START.astimezone(timezone(timedelta(hours=1)))
    folder = create_run_folder(scenario, "x", tmp_path, started_at=cet)
    assert folder.path.name.startswith("20261125T163005Z")


def test_missing_scenario_and_unusable_name_are_bad_input(tmp_path, scenario):
    with pytest.raises(BadInput, match="no such scenario file"):
        create_run_folder(tmp_path / "nope.yaml", "x", tmp_path)
    with pytest.raises(BadInput, match="no usable characters"):
        create_run_folder(scenario, "///", tmp_path)


def test_manifest_hashes_every_file_and_is_written_last(tmp_path, scenario):
    folder = create_run_folder(scenario, "quick", tmp_path, started_at=START)
    folder.plan_file.write_text("faults: []\n")
    folder.dataset_dir.mkdir()
    (folder.dataset_dir / "labels.parquet").write_bytes(b"\x00\x01")
    path = write_manifest(
        folder, started_at=START, ended_at=START + timedelta(seconds=90.5), complete=True,
        seeds={"load": 7, "schedule": 3}, image_ids={"faultlab/runtime": "sha256:abc"}, host=HOST,
    )
    manifest = json.loads(path.read_text())
    assert manifest["complete"] is True
    assert manifest["started_at"] == "2026-11-25T16:30:05.123Z"
    assert manifest["ended_at"] == "2026-11-25T16:31:35.623Z"
    assert manifest["duration_s"] == 90.5
    assert manifest["seeds"] == {"load": 7, "schedule": 3}
    assert manifest["image_ids"] == {"faultlab/runtime": "sha256:abc"}
    assert manifest["host"] == HOST
    pyproject = tomllib.loads((runfolder.PROJECT_ROOT / "pyproject.toml").read_text())
    assert manifest["versions"]["faultlab"] == pyproject["project"]["version"]
    assert manifest["versions"]["numpy"] == numpy.__version__
    assert set(manifest["files"]) == {"scenario.yaml", "plan.yaml", "dataset/labels.parquet"}
    assert manifest["files"]["dataset/labels.parquet"] == hashlib.sha256(b"\x00\x01").hexdigest()
    assert [p.name for p in folder.path.iterdir() if p.name.startswith(".manifest-")] == []
    assert verify_manifest(folder.path) == []
    folder.plan_file.write_text("faults: [changed]\n")
    (folder.dataset_dir / "labels.parquet").unlink()
    assert verify_manifest(folder.path) == ["dataset/labels.parquet", "plan.yaml"]


def test_a_failed_manifest_write_leaves_the_old_one_and_no_temp(tmp_path, scenario, monkeypatch):
    folder = create_run_folder(scenario, "quick", tmp_path, started_at=START)
    write_manifest(folder, started_at=START, ended_at=START, complete=False, seeds={}, host=HOST)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(runfolder.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_manifest(folder, started_at=START, ended_at=START, complete=True, seeds={}, host=HOST)
    assert read_manifest(folder.path)["complete"] is False
    assert sorted(p.name for p in folder.path.iterdir()) == ["manifest.json", "scenario.yaml"]


def test_read_manifest_of_an_unfinished_run(tmp_path):
    with pytest.raises(BadInput, match="no manifest.json"):
        read_manifest(tmp_path)


def test_cgroup_layout_detection(tmp_path):
    assert cgroup_layout(tmp_path) == "none"
    (tmp_path / "memory").mkdir()
    assert cgroup_layout(tmp_path) == "v1"
    (tmp_path / "unified").mkdir()
    assert cgroup_layout(tmp_path) == "hybrid"
    (tmp_path / "cgroup.controllers").write_text("cpu memory io\n")
    assert cgroup_layout(tmp_path) == "v2"


def test_host_facts_report_cores_and_kernel(monkeypatch):
    monkeypatch.setattr(runfolder, "docker_server_version", lambda: "20.10.24")
    facts = runfolder.host_facts()
    assert facts["cpu_count"] >= 1 and facts["memory_bytes"] > 0
    assert facts["docker_version"] == "20.10.24"
    assert facts["cgroup_layout"] in {"v1", "v2", "hybrid", "none"}
