"""Container metrics: cgroup/proc parsing on real v1 and documented v2 files, the reader's
collector and socket, and the unprivileged HTTP exporter in front of it.

Fixtures (tests/fixtures/cgroup/): v1 contents were copied from this kind of host's
/sys/fs/cgroup and /proc; v2 files follow the kernel's cgroup-v2 documentation format.
Expected values below were read off those files by hand.
"""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from faultlab.testbed.app import containermap
from faultlab.testbed.app.cgroups import (
    MemoryStats,
    ProcessIo,
    detect_layout,
    memory_stats,
    parse_cfs_quota,
    parse_cpu_max,
    parse_flat_keyed,
    parse_memory_limit,
    parse_net_dev,
    parse_snmp_tcp,
    read_cgroup_stats,
    read_network,
    read_process_io,
    read_tcp,
    sum_interfaces,
    working_set_bytes,
)
from faultlab.testbed.app.exporter import Exporter, ReaderUnavailable, fetch, scraper_timeout_s, serve
from faultlab.testbed.app.reader import Container, ContainerCollector, ReaderServer, exposition

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cgroup"
PROC = FIXTURES / "proc"
CID = "3f2b9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
V1_PIDS = (5106, 5107, 17068, 17069, 17074)
V2_PIDS = (2314, 2360, 2361)


def _root(layout: str) -> Path:
    return FIXTURES / layout / "sys" / "fs" / "cgroup"


@pytest.mark.parametrize(
    ("layout", "version", "driver"),
    [("v1_cgroupfs", 1, "cgroupfs"), ("v1_systemd", 1, "systemd"), ("v2_cgroupfs", 2, "cgroupfs"), ("v2_systemd", 2, "systemd")],
)
def test_detect_layout(layout: str, version: int, driver: str) -> None:
    found = detect_layout(_root(layout))
    assert (found.version, found.driver) == (version, driver)


@pytest.mark.parametrize(
    ("layout", "quota_cores", "limit_bytes"),
    [("v1_cgroupfs", 0.0, 0), ("v1_systemd", 1.5, 536870912)],
)
def test_read_v1_stats(layout: str, quota_cores: float, limit_bytes: int) -> None:
    stats = read_cgroup_stats(detect_layout(_root(layout)), CID)
    assert stats is not None
    assert stats.cpu_usage_s == pytest.approx(228.452975907)
    assert stats.memory == MemoryStats(
        usage_bytes=58953728,  # memory.usage_in_bytes
        working_set_bytes=58953728 - 35549184,  # minus total_inactive_file
        rss_bytes=2019328,  # total_rss
        cache_bytes=52809728,  # total_cache
    )
    assert stats.pids == V1_PIDS
    assert stats.cpu_quota_cores == quota_cores
    assert stats.memory_limit_bytes == limit_bytes


@pytest.mark.parametrize(
    ("layout", "quota_cores", "limit_bytes"),
    [("v2_cgroupfs", 0.0, 0), ("v2_systemd", 0.5, 268435456)],
)
def test_read_v2_stats(layout: str, quota_cores: float, limit_bytes: int) -> None:
    stats = read_cgroup_stats(detect_layout(_root(layout)), CID)
    assert stats is not None
    assert stats.cpu_usage_s == pytest.approx(84.721903)
    assert stats.memory == MemoryStats(
        usage_bytes=157286400,  # memory.current
        working_set_bytes=157286400 - 38141952,  # minus inactive_file
        rss_bytes=98304000,  # anon
        cache_bytes=52203520,  # file
    )
    assert stats.pids == V2_PIDS
    assert stats.cpu_quota_cores == quota_cores
    assert stats.memory_limit_bytes == limit_bytes


def _copy_tree(layout: str, dest: Path) -> Path:
    shutil.copytree(FIXTURES / layout, dest / layout)
    return dest / layout / "sys" / "fs" / "cgroup"


@pytest.mark.parametrize(("layout", "stat_name", "usage_name"), [
    ("v1_cgroupfs", "memory/docker/{id}/memory.stat", "memory/docker/{id}/memory.usage_in_bytes"),
    ("v2_cgroupfs", "docker/{id}/memory.stat", "docker/{id}/memory.current"),
])
def test_working_set_is_floored_at_zero(tmp_path: Path, layout: str, stat_name: str, usage_name: str) -> None:
    """The inactive cache read a moment after the usage can exceed it: 0, never negative (cAdvisor)."""
    root = _copy_tree(layout, tmp_path)
    (root / usage_name.format(id=CID)).write_text("30000000\n")  # below the 35.5 / 38.1 MB inactive file
    stats = read_cgroup_stats(detect_layout(root), CID)
    assert stats is not None
    assert stats.memory.working_set_bytes == 0 and stats.memory.usage_bytes == 30000000


def test_memory_stats_as_cadvisor_computes_them() -> None:
    v1 = parse_flat_keyed((_root("v1_cgroupfs") / "memory" / "docker" / CID / "memory.stat").read_text())
    assert memory_stats(58953728, v1, 1).working_set_bytes == 23404544
    # a v1 cgroup without hierarchical totals falls back to its local keys
    local = {"cache": 4096, "rss": 8192, "inactive_file": 1024}
    assert memory_stats(16384, local, 1) == MemoryStats(16384, 15360, 8192, 4096)
    # v2 keys are anon / file / inactive_file; v1 names mean nothing there
    v2 = {"anon": 10, "file": 20, "inactive_file": 15, "total_inactive_file": 999}
    assert memory_stats(40, v2, 2) == MemoryStats(40, 25, 10, 20)
    assert memory_stats(40, {}, 2) == MemoryStats(40, 40, 0, 0)  # nothing inactive: all of it
    assert working_set_bytes(5, 7) == 0 and working_set_bytes(7, 5) == 2


def test_driver_fallback_when_first_guess_is_wrong() -> None:
    from dataclasses import replace

    layout = replace(detect_layout(_root("v2_systemd")), driver="cgroupfs")
    stats = read_cgroup_stats(layout, CID)
    assert stats is not None and stats.cpu_quota_cores == 0.5


def test_vanished_container_reads_as_none() -> None:
    assert read_cgroup_stats(detect_layout(_root("v1_cgroupfs")), "0" * 64) is None
    assert read_cgroup_stats(detect_layout(_root("v2_systemd")), "0" * 64) is None


def test_process_io_sums_and_skips_missing_pids() -> None:
    # 5106, 5107, 17068 have io files; 17069 and 17074 exited.
    assert read_process_io(PROC, V1_PIDS) == ProcessIo(73039872 + 39301120 + 237977600, 146714624 + 28991488 + 43520000, 0)
    assert read_process_io(PROC, V2_PIDS) == ProcessIo(1048576, 4194304 + 8192, 0)
    assert read_process_io(PROC, ()) == ProcessIo(0, 0, 0)


def test_network_from_first_readable_pid_without_loopback() -> None:
    net = read_network(PROC, (2361, 2314))  # 2361 has no net/dev
    assert net is not None
    assert net.receive == {"bytes": 18827211, "packets": 41022, "errors": 2, "dropped": 17}
    assert net.transmit == {"bytes": 25144398, "packets": 39871, "errors": 1, "dropped": 5}
    assert read_network(PROC, (17069,)) is None


def test_net_dev_parsing_sums_all_but_lo() -> None:
    interfaces = parse_net_dev((PROC / "5106" / "net" / "dev").read_text())
    assert set(interfaces) == {"lo", "ifb0", "ifb1", "eth0", "docker0"}
    assert interfaces["lo"].receive["bytes"] == 6097
    total = sum_interfaces(interfaces)
    assert total.receive["bytes"] == 312951298 and total.receive["packets"] == 8153
    assert total.transmit["bytes"] == 555460 and total.transmit["packets"] == 6210


def test_small_parsers() -> None:
    assert parse_cpu_max("max 100000\n") == 0.0
    assert parse_cpu_max("150000 100000") == 1.5
    assert parse_cfs_quota("-1", "100000") == 0.0
    assert parse_cfs_quota("25000", "100000") == 0.25
    assert parse_memory_limit("max\n") == 0
    assert parse_memory_limit("9223372036854771712") == 0
    assert parse_memory_limit("1073741824") == 1073741824
    assert parse_flat_keyed("read_bytes: 12\nbad line here\nanon 7\n") == {"read_bytes": 12, "anon": 7}


def test_docker_ps_lines_become_the_map() -> None:
    text = (
        f"{'b' * 64}\tfaultlab-redis-1\tredis\n"
        f"{'a' * 64}\tfaultlab-cart-1\tcart\n"
        "abc123\tfaultlab-short-1\tshort\n"  # a truncated id is useless for the cgroup path
        f"{'c' * 64}\tloner\t\n"  # no compose label: the name stands in
    )
    assert containermap.parse_docker_ps(text) == [
        Container("a" * 64, "faultlab-cart-1", "cart"),
        Container("b" * 64, "faultlab-redis-1", "redis"),
        Container("c" * 64, "loner", "loner"),
    ]


def test_container_map_round_trip_and_replacement(tmp_path: Path) -> None:
    first = [Container("a" * 64, "faultlab-cart-1", "cart")]
    path = containermap.write(tmp_path / "map", "faultlab", first)
    assert path.name == containermap.MAP_FILE
    assert path.stat().st_mode & 0o777 == 0o644  # the exporter may run as another user
    assert containermap.read(path, "faultlab") == first
    second = [Container("d" * 64, "faultlab-cart-1", "cart"), Container("e" * 64, "faultlab-redis-1", "redis")]
    containermap.write(tmp_path / "map", "faultlab", second)
    assert containermap.read(path, "faultlab") == second
    assert sorted(p.name for p in (tmp_path / "map").iterdir()) == [containermap.MAP_FILE]  # no temp left


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"project": "other", "containers": []}', "project 'other'"),
        ('{"project": "faultlab"}', "'containers' list"),
        ('{"project": "faultlab", "containers": [{"id": "abc", "service": "cart"}]}', r"containers\[0\]"),
        ('{"project": "faultlab", "containers": [{"id": "' + "a" * 64 + '"}]}', r"containers\[0\]"),
    ],
)
def test_bad_container_map_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        containermap.loads(text, "faultlab")


def test_collector_follows_the_map_file_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / containermap.MAP_FILE
    collector = ContainerCollector(
        detect_layout(_root("v1_cgroupfs")), lambda: containermap.read(path, "faultlab"),
        proc_root=PROC, cache_s=5.0, clock=lambda: now[0],
    )
    assert collector.containers() == []  # no map yet: nothing exported, no crash
    containermap.write(tmp_path, "faultlab", [Container(CID, "faultlab-cart-1", "cart")])
    assert [c.service for c in collector.containers()] == ["cart"]  # retried at once after a miss
    path.write_text("{ not json")
    now[0] = 5.0
    assert [c.service for c in collector.containers()] == ["cart"]
    containermap.write(tmp_path, "faultlab", [Container(CID, "faultlab-cart-1", "basket")])
    now[0] = 5.1  # a failed read does not count as a refresh: the next scrape tries again
    assert [c.service for c in collector.containers()] == ["basket"]


def test_refused_io_files_are_counted_not_summed(monkeypatch: pytest.MonkeyPatch) -> None:
    from faultlab.testbed.app import cgroups

    real_read = cgroups._read

    def read(path: Path) -> str:  # what the kernel answers for another user's io without privilege
        if path.parent.name == "5107" and path.name == "io":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(cgroups, "_read", read)
    io = read_process_io(PROC, V1_PIDS)  # 5107 refused; 17069 and 17074 exited
    assert (io.read_bytes, io.write_bytes, io.unreadable) == (73039872 + 237977600, 146714624 + 43520000, 1)


def _scrape(collector: ContainerCollector) -> dict[tuple[str, tuple], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if not s.name.endswith("_created")
    }


def test_collector_serves_readme_metrics_and_skips_gone_containers() -> None:
    live = Container(CID, "faultlab-cart-1", "cart")
    gone = Container("9" * 64, "faultlab-shipping-1", "shipping")
    collector = ContainerCollector(detect_layout(_root("v2_systemd")), lambda: [live, gone], proc_root=PROC)
    samples = _scrape(collector)
    key = (("container", "faultlab-cart-1"), ("service", "cart"))
    expected = {
        "container_cpu_usage_seconds_total": 84.721903,
        "container_memory_working_set_bytes": 157286400 - 38141952,
        "container_memory_usage_bytes": 157286400,
        "container_memory_rss_bytes": 98304000,
        "container_memory_cache_bytes": 52203520,
        "container_processes": 3,
        "container_spec_cpu_quota_cores": 0.5,
        "container_spec_memory_limit_bytes": 268435456,
        "container_fs_read_bytes_total": 1048576,
        "container_fs_write_bytes_total": 4202496,
        "container_network_receive_bytes_total": 18827211,
        "container_network_receive_packets_total": 41022,
        "container_network_receive_errors_total": 2,
        "container_network_receive_dropped_total": 17,
        "container_network_transmit_bytes_total": 25144398,
        "container_network_transmit_packets_total": 39871,
        "container_network_transmit_errors_total": 1,
        "container_network_transmit_dropped_total": 5,
        "container_fs_unreadable_processes": 0,
        "container_network_tcp_retransmitted_segments_total": 273,  # net/snmp Tcp: RetransSegs
    }
    for name, value in expected.items():
        assert samples[(name, key)] == pytest.approx(value), name
    assert not any(dict(labels).get("service") == "shipping" for _, labels in samples)
    assert len(samples) == len(expected)


def test_container_list_is_cached_and_survives_api_errors() -> None:
    now = [0.0]
    calls: list[float] = []
    fail = [False]

    def listing() -> list[Container]:
        calls.append(now[0])
        if fail[0]:
            raise OSError("daemon gone")
        return [Container(CID, "faultlab-cart-1", "cart")]

    collector = ContainerCollector(
        detect_layout(_root("v1_cgroupfs")), listing, proc_root=PROC, cache_s=5.0, clock=lambda: now[0]
    )
    collector.containers()
    now[0] = 4.9
    collector.containers()
    assert calls == [0.0]
    now[0] = 5.0
    fail[0] = True
    assert [c.service for c in collector.containers()] == ["cart"]  # last good list kept
    assert calls == [0.0, 5.0]


# ---- the reader's socket and the HTTP exporter -----------------------------------------------
@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A short folder for Unix sockets (their paths are limited to 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="fl-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _cart_collector() -> ContainerCollector:
    return ContainerCollector(detect_layout(_root("v2_systemd")), lambda: [Container(CID, "faultlab-cart-1", "cart")],
                              proc_root=PROC)


def _start(server: ReaderServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


def _stop(server: ReaderServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_reader_answers_each_connection_with_a_fresh_exposition(sock_dir: Path) -> None:
    path = sock_dir / "metrics.sock"
    path.write_text("left by a previous reader")  # a stale file is replaced, not an error
    renders: list[int] = []

    def render() -> bytes:
        renders.append(1)
        return exposition(_cart_collector())()

    server = ReaderServer(path, render, mode=0o660)
    thread = _start(server)
    try:
        assert path.is_socket() and path.stat().st_mode & 0o777 == 0o660  # the exporter's group may connect
        first = fetch(path, timeout_s=2).decode()
        second = fetch(path, timeout_s=2).decode()
    finally:
        _stop(server, thread)
    assert len(renders) == 2  # read at each scrape, never cached
    names = {f.name for f in text_string_to_metric_families(first)}
    assert {"container_memory_working_set_bytes", "container_memory_cache_bytes", "container_fs_read_bytes"} <= names
    assert first == second
    assert not path.exists()  # closing the reader removes its socket


def test_fetch_says_why_the_reader_is_unavailable(sock_dir: Path) -> None:
    with pytest.raises(ReaderUnavailable, match="not running .no socket"):
        fetch(sock_dir / "missing.sock", timeout_s=1)
    # a socket file nobody listens on any more (the reader died)
    dead = sock_dir / "dead.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(dead))
    listener.close()
    with pytest.raises(ReaderUnavailable, match="nobody listens"):
        fetch(dead, timeout_s=1)


def test_fetch_times_out_on_a_reader_that_does_not_answer(sock_dir: Path) -> None:
    path = sock_dir / "slow.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)  # accepts into the backlog, never writes
    try:
        with pytest.raises(ReaderUnavailable, match="did not answer within 0.2 s"):
            fetch(path, timeout_s=0.2)
    finally:
        listener.close()


def test_a_failing_render_is_an_empty_answer_not_a_dead_reader(sock_dir: Path) -> None:
    path = sock_dir / "metrics.sock"
    calls = [0]

    def render() -> bytes:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("bug")
        return b"ok 1\n"

    server = ReaderServer(path, render)
    thread = _start(server)
    try:
        with pytest.raises(ReaderUnavailable, match="without metrics"):
            fetch(path, timeout_s=2)
        assert fetch(path, timeout_s=2) == b"ok 1\n"  # still serving
    finally:
        _stop(server, thread)


def _get(port: int, path: str = "/metrics") -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def test_http_exporter_serves_the_reader_and_503_without_it(sock_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = sock_dir / "metrics.sock"
    http = serve(0, Exporter(path, timeout_s=2), host="127.0.0.1")
    port = http.server_address[1]
    http_thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    http_thread.start()
    caplog.set_level(logging.INFO, logger="container-exporter")
    try:
        status, ctype, body = _get(port)
        assert status == 503 and "container reader is not running" in body and ctype.startswith("text/plain")
        assert _get(port)[0] == 503
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # one line per distinct problem, not one per scrape
        server = ReaderServer(path, exposition(_cart_collector()))
        reader_thread = _start(server)
        try:
            status, ctype, body = _get(port)
        finally:
            _stop(server, reader_thread)
        assert status == 200 and ctype == "text/plain; version=0.0.4; charset=utf-8"
        samples = {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples}
        assert samples["container_memory_working_set_bytes"] == 157286400 - 38141952
        assert samples["container_fs_write_bytes_total"] == 4202496
        assert any("answers again" in r.getMessage() for r in caplog.records)
        assert _get(port, "/nothing")[0] == 404
    finally:
        http.shutdown()
        http.server_close()
        http_thread.join(timeout=5)


def test_scraper_timeout_header_shortens_the_wait() -> None:
    assert scraper_timeout_s("1") == pytest.approx(0.8)
    assert scraper_timeout_s("0.05") == pytest.approx(0.1)
    assert scraper_timeout_s(None) is None and scraper_timeout_s("soon") is None and scraper_timeout_s("0") is None


def test_tcp_counters_from_net_snmp() -> None:
    tcp = read_tcp(PROC, (999999, 2314))  # a vanished pid is skipped
    assert tcp is not None and (tcp["RetransSegs"], tcp["OutSegs"]) == (273, 39802)
    assert read_tcp(PROC, (5106,)) is None  # no snmp table readable: no counter, not zero
    assert parse_snmp_tcp("Udp: InDatagrams\nUdp: 3\n") == {}
    assert parse_snmp_tcp("Tcp: RetransSegs MaxConn\nTcp: 12 x\n") == {"RetransSegs": 12}
