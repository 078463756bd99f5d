"""The live process's CPU bound: a low-weight cpu cgroup (v1 or v2) where one can be made, else nice 19.

Fake cgroup roots in a temporary folder stand for /sys/fs/cgroup; nothing here touches the host's.
"""

from __future__ import annotations

import os
import subprocess
import sys

from faultlab.harness.live.cpubound import PREFIX, V1_SHARES, V2_WEIGHT, make_bound


def _v1(root):
    (root / "cpu").mkdir(parents=True)
    (root / "cpu" / "cpu.shares").write_text("1024\n")
    return root


def test_cgroup_v1_gets_a_group_with_the_lowest_shares(tmp_path):
    bound = make_bound(_v1(tmp_path), name="faultlab-live-test")
    assert bound.mode == "cgroup-v1" and bound.path == tmp_path / "cpu" / "faultlab-live-test"
    assert (bound.path / "cpu.shares").read_text() == str(V1_SHARES)
    assert "cpu.shares 2" in bound.detail and bound.as_json()["cgroup"] == str(bound.path)


def test_cgroup_v2_enables_the_controller_and_sets_the_lowest_weight(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu io memory\n")
    (tmp_path / "cgroup.subtree_control").write_text("memory\n")
    bound = make_bound(tmp_path, name="faultlab-live-test")
    assert bound.mode == "cgroup-v2"
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpu"
    assert (bound.path / "cpu.weight").read_text() == str(V2_WEIGHT)


def test_without_a_cpu_controller_the_fallback_is_nice_and_says_why(tmp_path):
    bound = make_bound(tmp_path / "nothing")
    assert bound.mode == "nice" and bound.path is None
    assert "nice 19" in bound.detail and "still competes" in bound.detail


def test_a_read_only_hierarchy_falls_back_to_nice(tmp_path):
    root = _v1(tmp_path)
    (root / "cpu").chmod(0o500)
    try:
        if os.geteuid() == 0:  # root writes anyway: make the group a file so mkdir fails
            (root / "cpu").chmod(0o700)
            (root / "cpu" / "faultlab-live-x").write_text("")
        bound = make_bound(root, name="faultlab-live-x")
    finally:
        (root / "cpu").chmod(0o700)
    assert bound.mode == "nice" and str(root / "cpu") in bound.detail


def test_admit_puts_the_process_in_the_group_and_release_removes_it(tmp_path):
    bound = make_bound(_v1(tmp_path), name="faultlab-live-test")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert bound.admit(child.pid) is bound
        assert (bound.path / "cgroup.procs").read_text() == str(child.pid)
    finally:
        child.kill()
        child.wait()
    for leftover in bound.path.iterdir():  # a real cgroupfs has no files to delete; a folder here does
        leftover.unlink()
    bound.release()
    assert not bound.path.exists()
    bound.release()  # idempotent


def test_a_group_that_refuses_the_process_falls_back_to_renice(tmp_path):
    bound = make_bound(_v1(tmp_path), name="faultlab-live-test")
    (bound.path / "cgroup.procs").mkdir()  # writing to it fails
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        effective = bound.admit(child.pid)
        assert effective.mode == "nice" and "refused" in effective.detail
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == 19
    finally:
        child.kill()
        child.wait()


def test_empty_groups_of_dead_runners_are_removed(tmp_path):
    root = _v1(tmp_path)
    dead = root / "cpu" / f"{PREFIX}999999999"
    dead.mkdir()
    mine = root / "cpu" / f"{PREFIX}{os.getpid()}"
    mine.mkdir()
    make_bound(root, name="faultlab-live-new")
    assert not dead.exists() and mine.exists()


def test_the_weight_can_be_raised_for_a_host_that_cannot_be_kept_quiet(tmp_path, monkeypatch):
    import pytest

    from faultlab.errors import BadInput

    monkeypatch.setenv("FAULTLAB_LIVE_CPU_SHARES", "512")
    bound = make_bound(_v1(tmp_path), name="faultlab-live-test")
    assert (bound.path / "cpu.shares").read_text() == "512" and "cpu.shares 512" in bound.detail
    monkeypatch.setenv("FAULTLAB_LIVE_CPU_SHARES", "1")
    with pytest.raises(BadInput, match="FAULTLAB_LIVE_CPU_SHARES"):
        make_bound(tmp_path, name="faultlab-live-test2")
