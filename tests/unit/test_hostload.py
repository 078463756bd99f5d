"""The host-load summary that flags a recording made on a loaded machine (pure logic, fake /proc and cgroups)."""

from __future__ import annotations

import pytest

from faultlab.harness.runs import hostload
from faultlab.harness.runs.hostload import Reading, cores_between, parse_proc_stat, summarize


def test_busy_time_counts_work_and_steal_not_idle_or_iowait():
    # user nice system idle iowait irq softirq steal guest guest_nice
    text = "cpu  100 50 30 9000 700 5 5 10 0 0\ncpu0 50 25 15 4500 350 2 3 5 0 0\n"
    assert parse_proc_stat(text) == pytest.approx((100 + 50 + 30 + 5 + 5 + 10) / 100)
    with pytest.raises(ValueError, match="no 'cpu' line"):
        parse_proc_stat("intr 1 2 3\n")


def test_read_sums_every_container_counter_of_both_cgroup_versions(tmp_path):
    (tmp_path / "stat").write_text("cpu  200 0 100 0 0 0 0 0\n")
    v1 = tmp_path / "cg" / "cpuacct" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "cpuacct.usage").write_text("2000000000\n")  # 2 s in ns
    v2 = tmp_path / "cg" / "system.slice" / "docker-def.scope"
    v2.mkdir(parents=True)
    (v2 / "cpu.stat").write_text("usage_usec 500000\nuser_usec 400000\n")  # 0.5 s
    reading = hostload.read(tmp_path / "cg", tmp_path / "stat", now=10.0)
    assert reading.busy_s == pytest.approx(3.0)
    assert sorted(reading.containers_s.values()) == pytest.approx([0.5, 2.0])
    assert hostload.read(tmp_path / "cg", tmp_path / "missing") is None


def test_outside_load_is_host_busy_minus_the_containers():
    a = Reading(0.0, 100.0, {"x": 10.0, "y": 5.0})
    b = Reading(10.0, 115.0, {"x": 14.0, "y": 6.0})  # host 1.5 cores, containers 0.5
    assert cores_between(a, b) == pytest.approx((1.5, 1.0))


def test_a_container_that_restarts_or_appears_is_left_out_of_that_interval():
    a = Reading(0.0, 100.0, {"x": 50.0})
    restarted = Reading(10.0, 110.0, {"x": 2.0, "new": 300.0})  # x's counter began again
    busy, outside = cores_between(a, restarted)
    assert busy == pytest.approx(1.0)
    assert outside == pytest.approx(1.0)  # neither a negative share nor the newcomer's lifetime


def readings(outside_per_s: list[float], inside_per_s: float = 0.2, every_s: float = 5.0) -> list[Reading]:
    busy = inside = 0.0
    out = [Reading(0.0, 0.0, {"c": 0.0})]
    for i, extra in enumerate(outside_per_s, start=1):
        busy += (extra + inside_per_s) * every_s
        inside += inside_per_s * every_s
        out.append(Reading(i * every_s, busy, {"c": inside}))
    return out


def test_summary_per_phase_warns_only_where_outside_work_loaded_the_host():
    # 4 quiet intervals (training), then 4 with 1.8 cores of outside work on a 2-core host
    data = readings([0.05] * 4 + [1.8] * 4)
    summary = summarize(data, {"training": (0.0, 20.0), "faults": (20.0, 40.0)}, cores=2)
    training, faults = summary["phases"]["training"], summary["phases"]["faults"]
    assert training["intervals"] == 4 and training["outside_cores"] == pytest.approx(0.05)
    assert training["saturated_share"] == 0.0
    assert faults["outside_cores"] == pytest.approx(1.8) and faults["busy_cores"] == pytest.approx(2.0)
    assert faults["saturated_share"] == 1.0
    assert len(summary["warnings"]) == 1 and "faults phase" in summary["warnings"][0]
    assert "1.80 of the host's 2 cores" in summary["warnings"][0]
    assert summary["interval_s"] == 5.0


def test_summary_of_too_few_readings_has_no_phase_and_no_warning():
    summary = summarize(readings([])[:1], {"training": (0.0, 20.0)}, cores=2)
    assert summary["phases"] == {} and summary["warnings"] == []


def test_the_monitor_reads_until_stopped_and_once_more(tmp_path):
    (tmp_path / "stat").write_text("cpu  1 0 0 0 0 0 0 0\n")
    monitor = hostload.Monitor(every_s=0.01, root=tmp_path, proc_stat=tmp_path / "stat").start()
    import time

    time.sleep(0.1)
    taken = monitor.stop()
    assert len(taken) >= 3 and all(r.busy_s == pytest.approx(0.01) for r in taken)
    assert len(monitor.stop()) == len(taken)  # stopping twice reads nothing more
