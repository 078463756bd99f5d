"""The host-load summary that flags a recording made on a loaded machine (pure logic, injected
CPU times and fake cgroup trees of both versions)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from faultlab.harness.runs import hostload
from faultlab.harness.runs.hostload import Reading, busy_seconds, cores_between, summarize


def cpu_times(user=0.0, nice=0.0, system=0.0, idle=0.0, iowait=0.0, irq=0.0, softirq=0.0, steal=0.0):
    """What psutil.cpu_times() gives on Linux (seconds; guest time is already inside user)."""
    return SimpleNamespace(user=user, nice=nice, system=system, idle=idle, iowait=iowait, irq=irq,
                           softirq=softirq, steal=steal, guest=0.0, guest_nice=0.0)


def test_busy_time_counts_work_and_steal_not_idle_or_iowait():
    times = cpu_times(user=1.0, nice=0.5, system=0.3, idle=90.0, iowait=7.0, irq=0.05, softirq=0.05, steal=0.1)
    assert busy_seconds(times) == pytest.approx(1.0 + 0.5 + 0.3 + 0.05 + 0.05 + 0.1)
    # platforms without irq/softirq/steal (macOS) count what they have
    assert busy_seconds(SimpleNamespace(user=2.0, nice=0.0, system=1.0, idle=5.0)) == pytest.approx(3.0)


def test_the_real_cpu_times_read_as_a_positive_busy_time():
    reading = hostload.read()
    assert reading is not None and reading.busy_s > 0


def test_read_sums_every_container_counter_of_cgroup_v1(tmp_path):
    v1 = tmp_path / "cpuacct" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "cpuacct.usage").write_text("2000000000\n")  # 2 s in ns
    scope = tmp_path / "cpuacct" / "system.slice" / "docker-def.scope"
    scope.mkdir(parents=True)
    (scope / "cpuacct.usage").write_text("500000000\n")
    (tmp_path / "cpuacct" / "docker" / "gone").mkdir()  # a cgroup left without its counter file
    reading = hostload.read(tmp_path, lambda: cpu_times(user=2.0, system=1.0), now=10.0)
    assert reading.busy_s == pytest.approx(3.0) and reading.t == 10.0
    assert reading.containers_s == pytest.approx({"abc": 2.0, "def": 0.5})


def test_read_sums_every_container_counter_of_cgroup_v2(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory io pids\n")
    v2 = tmp_path / "system.slice" / "docker-def.scope"
    v2.mkdir(parents=True)
    (v2 / "cpu.stat").write_text("usage_usec 500000\nuser_usec 400000\n")  # 0.5 s
    other = tmp_path / "docker" / "abc"
    other.mkdir(parents=True)
    (other / "cpu.stat").write_text("usage_usec 1500000\n")
    reading = hostload.read(tmp_path, lambda: cpu_times(user=1.0), now=10.0)
    assert reading.containers_s == pytest.approx({"abc": 1.5, "def": 0.5})


def test_read_without_cpu_times_is_none(tmp_path):
    def broken():
        raise OSError("no /proc here")

    assert hostload.read(tmp_path, broken) is None


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
    import time

    monitor = hostload.Monitor(every_s=0.01, root=tmp_path, cpu_times=lambda: cpu_times(user=0.01)).start()
    time.sleep(0.1)
    taken = monitor.stop()
    assert len(taken) >= 3 and all(r.busy_s == pytest.approx(0.01) for r in taken)
    assert len(monitor.stop()) == len(taken)  # stopping twice reads nothing more
