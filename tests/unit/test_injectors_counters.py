"""The injectors' 2 Hz sample reads what the container reader reads (one counter module), so a
fault's measured memory is the dataset's working set; plus what only the injectors need (frozen
state, ESTABLISHED connections) on fixture cgroup trees of both versions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faultlab.injectors.base import EffectSpec
from faultlab.injectors.counters import Sample, Sampler, read_sample
from faultlab.injectors.effect import measure_effect, series
from faultlab.testbed.app.cgroups import detect_layout, read_cgroup_stats

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cgroup"
CID = "3f2b9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
MB = 2**20
TCP = ("  sl  local_address rem_address   st tx_queue rx_queue\n"
       "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000\n"
       "   1: 0D0112C6:1F90 0A0112C6:A1B2 01 00000000:00000000\n"
       "   2: 0D0112C6:1F90 0A0112C6:A1B4 01 00000000:00000000\n"
       "   3: 0D0112C6:C350 0B0112C6:1F90 01 00000000:00000000\n")


def _tree(tmp_path: Path, layout: str) -> tuple[Path, Path]:
    """A writable copy of one fixture layout and of the fixture /proc."""
    shutil.copytree(FIXTURES / layout, tmp_path / layout)
    shutil.copytree(FIXTURES / "proc", tmp_path / "proc")
    return tmp_path / layout / "sys" / "fs" / "cgroup", tmp_path / "proc"


@pytest.mark.parametrize("layout", ["v1_cgroupfs", "v1_systemd", "v2_cgroupfs", "v2_systemd"])
def test_sample_memory_is_the_working_set_the_reader_exports(tmp_path: Path, layout: str) -> None:
    root, proc = _tree(tmp_path, layout)
    cg_layout = detect_layout(root)
    sample = read_sample(cg_layout, CID, proc, now=5.0)
    stats = read_cgroup_stats(cg_layout, CID)
    assert sample.present and sample.t == 5.0 and stats is not None
    assert sample.memory_bytes == stats.memory.working_set_bytes < stats.memory.usage_bytes
    assert (sample.rss_bytes, sample.cache_bytes, sample.memory_usage_bytes) == (
        stats.memory.rss_bytes, stats.memory.cache_bytes, stats.memory.usage_bytes)
    assert sample.cpu_ns == round(stats.cpu_usage_s * 1e9) and sample.processes == len(stats.pids)


def test_v1_sample_reads_every_counter(tmp_path: Path) -> None:
    root, proc = _tree(tmp_path, "v1_cgroupfs")
    (proc / "5106" / "net" / "tcp").write_text(TCP)
    sample = read_sample(detect_layout(root), CID, proc)
    assert sample.cpu_ns == 228452975907
    assert sample.memory_bytes == 58953728 - 35549184  # usage_in_bytes - total_inactive_file
    assert (sample.rx_bytes, sample.rx_packets) == (312951298, 8153)  # all interfaces but lo
    assert (sample.tx_bytes, sample.tx_packets) == (555460, 6210)
    assert sample.fs_read_bytes == 73039872 + 39301120 + 237977600
    assert sample.fs_write_bytes == 146714624 + 28991488 + 43520000
    assert sample.tcp_established == 3 and sample.tcp_inbound == 2 and not sample.frozen


@pytest.mark.parametrize(("layout", "folder", "file", "frozen_text", "thawed_text"), [
    ("v1_cgroupfs", "freezer/docker/{id}", "freezer.state", "FROZEN\n", "THAWED\n"),
    ("v2_systemd", "system.slice/docker-{id}.scope", "cgroup.freeze", "1\n", "0\n"),
])
def test_frozen_state_of_both_versions(tmp_path: Path, layout: str, folder: str, file: str, frozen_text: str,
                                       thawed_text: str) -> None:
    root, proc = _tree(tmp_path, layout)
    state = root / folder.format(id=CID)
    state.mkdir(parents=True, exist_ok=True)
    (state / file).write_text(frozen_text)
    assert read_sample(detect_layout(root), CID, proc).frozen
    (state / file).write_text(thawed_text)
    assert not read_sample(detect_layout(root), CID, proc).frozen


def test_a_container_without_cgroup_or_processes_is_not_present(tmp_path: Path) -> None:
    root, proc = _tree(tmp_path, "v2_cgroupfs")
    assert read_sample(detect_layout(root), "0" * 64, proc, now=1.0) == Sample(t=1.0, present=False)
    (root / "docker" / CID / "cgroup.procs").write_text("")
    assert not read_sample(detect_layout(root), CID, proc).present


def test_sampler_keeps_samples_per_container(tmp_path: Path) -> None:
    root, proc = _tree(tmp_path, "v1_systemd")
    sampler = Sampler(interval_s=0.01, root=root, proc=proc)
    sampler.watch(CID)
    sampler.watch(CID)  # twice is once
    sampler._tick()
    sampler._tick()
    got = sampler.samples(CID)
    assert len(got) == 2 and all(s.present and s.memory_bytes == 58953728 - 35549184 for s in got)


def test_memory_effect_is_measured_on_the_working_set_not_the_cache() -> None:
    """A service that only reads files grows its page cache: no memory effect; an allocation is one."""
    def samples(ws: list[int], cache: list[int]) -> list[Sample]:
        return [Sample(t=float(i), present=True, memory_bytes=w, cache_bytes=c, memory_usage_bytes=w + c)
                for i, (w, c) in enumerate(zip(ws, cache, strict=True))]

    spec = EffectSpec("memory_bytes", "bytes", "up", expected=200 * MB)
    cache_only = samples([50 * MB] * 20, [10 * MB] * 10 + [300 * MB] * 10)
    assert measure_effect(spec, cache_only, (0, 10), (10, 20)).outcome == "failed"
    alloc = samples([50 * MB] * 10 + [250 * MB] * 10, [10 * MB] * 20)
    result = measure_effect(spec, alloc, (0, 10), (10, 20))
    assert result.outcome == "applied" and result.during - result.baseline == pytest.approx(200 * MB)
    assert series("memory_usage_bytes", cache_only)[-1] == (19.0, float(350 * MB))


def test_preflight_compares_the_working_set_with_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from faultlab.injectors import counters
    from faultlab.injectors.preflight import container_working_set

    monkeypatch.setattr(counters, "CGROUP_ROOT", FIXTURES / "v1_cgroupfs" / "sys" / "fs" / "cgroup")
    fault = SimpleNamespace(ctx=SimpleNamespace(target=SimpleNamespace(container_id=CID)))
    assert container_working_set(fault) == 58953728 - 35549184  # not the 56 MB of usage incl. cache
    gone = SimpleNamespace(ctx=SimpleNamespace(target=SimpleNamespace(container_id="0" * 64)))
    assert container_working_set(gone) == 0
