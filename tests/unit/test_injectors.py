"""Fault params, the target guard, preflight memory rule, effect check, command scripts (no Docker)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from faultlab.errors import BadInput, RunFailed
from faultlab.injectors import FAULTS
from faultlab.injectors.base import EffectSpec, FaultContext
from faultlab.injectors.counters import Sample, count_established
from faultlab.injectors.cpu import effective_cores, stress_args
from faultlab.injectors.effect import measure_effect, series
from faultlab.injectors.netns import parse_qdisc_stats, parse_rule_counters
from faultlab.injectors.preflight import check_memory
from faultlab.injectors.procs import scan_script
from faultlab.injectors.targets import Target, guard, target_from_attrs

MB = 2**20
ALL = {"cpu", "memory_leak", "memory_alloc", "disk", "network_overload", "packet_loss",
       "latency", "pause", "kill", "http_flood", "slow_clients", "bot_burst"}


def target(service="cart", quota=0.0, limit=0):
    return Target(service=service, container_id="c" * 64, container_name=f"faultlab-{service}-1",
                  image="img", cpu_quota_cores=quota, memory_limit_bytes=limit, networks=("faultlab_default",))


def make(fault_type, params=None, tgt=None):
    cls = FAULTS.get(fault_type)
    ctx = FaultContext(fault_id="f1", target=tgt or target(), ops=SimpleNamespace())
    return cls(ctx, cls.validate_params(params or {}))


# --- registry and params ---------------------------------------------------------------
def test_every_fault_type_registered_with_params_and_mechanism():
    assert set(FAULTS.names()) == ALL
    for name, cls in FAULTS.items():
        assert cls.name == name and cls.mechanisms
        cls.validate_params({})  # defaults are valid


def test_params_reject_bad_values_naming_the_field():
    with pytest.raises(BadInput, match="cpu.*load_pct"):
        FAULTS.get("cpu").validate_params({"load_pct": 0})
    with pytest.raises(BadInput, match="size_mb"):
        FAULTS.get("memory_alloc").validate_params({"size_mb": -5})
    with pytest.raises(BadInput, match="loss_pct"):
        FAULTS.get("packet_loss").validate_params({"loss_pct": 101})
    with pytest.raises(BadInput, match="colour"):
        FAULTS.get("disk").validate_params({"colour": 1})
    with pytest.raises(BadInput, match="ramp"):
        FAULTS.get("cpu").validate_params({"ramp_from_pct": 10, "ramp_to_pct": 80})
    with pytest.raises(BadInput, match="endpoint"):
        FAULTS.get("bot_burst").validate_params({"endpoint": "products; rm -rf /"})


def test_cpu_ramp_steps_and_expected_level():
    fault = make("cpu", {"ramp_from_pct": 10, "ramp_to_pct": 80, "ramp_step_pct": 10, "ramp_step_s": 5})
    assert fault.params.steps_pct() == [10, 20, 30, 40, 50, 60, 70, 80]
    assert fault.min_duration_s() == 40
    # 40 s = 8 steps of 5 s: mean of 10..80 = 45 % of 1 core
    assert fault.effect(40).expected == pytest.approx(0.45)
    # 20 s = 4 steps: mean of 10..40 = 25 %
    assert fault.effect(20).expected == pytest.approx(0.25)


def test_cpu_percent_of_cores_capped_by_quota():
    assert make("cpu", {"load_pct": 90, "cores": 2}).effect(30).expected == pytest.approx(1.8)
    capped = make("cpu", {"load_pct": 90, "cores": 2}, target(quota=0.5))
    assert capped.effect(30).expected == pytest.approx(0.45)
    assert effective_cores(2, 0.0) == 2 and effective_cores(2, 1.5) == 1.5
    assert stress_args(90, 1.5) == (2, pytest.approx(67.5))
    assert stress_args(50, 1.0) == (1, 50.0)


def test_memory_expectations():
    assert make("memory_alloc", {"size_mb": 200}).effect(20).expected == 200 * MB
    leak = make("memory_leak", {"size_mb": 1, "every_s": 3})
    assert leak.chunks(30) == 11 and leak.memory_needed_mb(30) == 11
    assert leak.effect(30).expected == pytest.approx(6 * MB)  # mean of 1..11 chunks


def test_disk_expectation_and_command():
    fault = make("disk", {"rate_mb_s": 5, "block_kb": 16})
    assert fault.effect(20).expected == 10 * MB  # reads and writes, each capped
    cmd = fault.fio_command(20)
    assert "--rate=5120k" in cmd and "--bs=16k" in cmd and "--runtime=25" in cmd
    assert "/tmp/faultlab-f1.fio" in cmd and "oflag=direct" in cmd  # laid out without the page cache


# --- target guard ----------------------------------------------------------------------
def test_guard_accepts_service_or_container_name_and_refuses_others():
    cands = [target("cart"), target("catalog")]
    assert guard("cart", cands).service == "cart"
    assert guard("faultlab-catalog-1", cands).service == "catalog"
    with pytest.raises(BadInput) as err:
        guard("postgres-prod", cands)
    assert "postgres-prod" in str(err.value) and "cart, catalog" in str(err.value)


def test_target_from_inspect_attrs_reads_quota_limit_and_labels():
    attrs = {"Id": "abc", "Name": "/faultlab-cart-1", "Image": "sha256:1",
             "Config": {"Labels": {"com.docker.compose.service": "cart"}},
             "HostConfig": {"CpuQuota": 50000, "CpuPeriod": 100000, "Memory": 512 * MB},
             "State": {"Pid": 42, "Running": True},
             "NetworkSettings": {"Networks": {"faultlab_default": {}}}}
    t = target_from_attrs(attrs)
    assert (t.service, t.container_name, t.pid) == ("cart", "faultlab-cart-1", 42)
    assert t.cpu_quota_cores == 0.5 and t.memory_limit_bytes == 512 * MB
    assert target_from_attrs({**attrs, "HostConfig": {"NanoCpus": 1_500_000_000}}).cpu_quota_cores == 1.5


# --- preflight -------------------------------------------------------------------------
def test_memory_checked_against_limit_and_host():
    check_memory(200, 100 * MB, 512 * MB, 4096 * MB, "x")
    with pytest.raises(RunFailed, match="memory limit of 512 MB"):
        check_memory(450, 100 * MB, 512 * MB, 4096 * MB, "x")
    with pytest.raises(RunFailed, match="host's available memory"):
        check_memory(2000, 0, 0, 2048 * MB, "x")


# --- counters and effect ---------------------------------------------------------------
def samples_cpu(cores_by_second: list[float]) -> list[Sample]:
    out, ns = [], 0
    for i, cores in enumerate(cores_by_second):
        ns += int(cores * 1e9)
        out.append(Sample(t=float(i + 1), present=True, cpu_ns=ns))
    return [Sample(t=0.0, present=True, cpu_ns=0)] + out


def test_effect_applied_with_onset_offset_and_return():
    # baseline 0.05 cores for 10 s, fault at 0.9 cores over t in (10, 20], then back
    levels = [0.05] * 10 + [0.9] * 10 + [0.05] * 5
    spec = EffectSpec("cpu_cores", "cores", "up", expected=0.9)
    res = measure_effect(spec, samples_cpu(levels), (0.0, 10.0), (10.0, 20.0), settle_s=1.0)
    assert res.outcome == "applied"
    assert res.baseline == pytest.approx(0.05)
    assert res.during == pytest.approx(0.9)
    assert res.onset_t == 11.0 and res.offset_t == 20.0 and res.returned_t == 21.0
    assert res.as_record(spec)["achieved_pct"] == pytest.approx(94.4, abs=0.1)


def test_effect_weak_is_partial_and_none_is_failed():
    spec = EffectSpec("cpu_cores", "cores", "up", expected=0.9)
    weak = measure_effect(spec, samples_cpu([0.05] * 10 + [0.3] * 10), (0, 10), (10, 20))
    assert weak.outcome == "partial" and "weaker" in weak.error
    none = measure_effect(spec, samples_cpu([0.05] * 20), (0, 10), (10, 20))
    assert none.outcome == "failed" and "no measurable effect" in none.error


def test_effect_without_baseline_is_partial_never_silent():
    spec = EffectSpec("cpu_cores", "cores", "up", expected=0.9)
    res = measure_effect(spec, samples_cpu([0.9] * 10), (100, 110), (0, 10))
    assert res.outcome == "partial" and "not measured" in res.error


def test_effect_override_for_self_measured_faults():
    spec = EffectSpec("dropped_pct", "%", "up", expected=30.0)
    res = measure_effect(spec, [], (0, 10), (10, 20), override={"baseline": 0.0, "during": 28.0})
    assert res.outcome == "applied" and (res.onset_t, res.offset_t) == (10, 20)
    low = measure_effect(spec, [], (0, 10), (10, 20), override={"baseline": 0.0, "during": 5.0})
    assert low.outcome == "partial"


def test_down_and_frozen_series():
    s = [Sample(0, True), Sample(1, False), Sample(2, True, frozen=True)]
    assert series("down", s) == [(1, 1.0), (2, 0.0)]
    assert series("frozen", s) == [(1, 0.0), (2, 1.0)]


def test_established_connections_parser():
    # /proc/<pid>/net/dev and io are parsed by faultlab.testbed.app.cgroups (tests/unit/test_exporter.py)
    tcp = ("  sl  local_address rem_address   st\n"
           "   0: 0100007F:1F90 00000000:0000 0A 0\n   1: 0100007F:1F90 0200007F:9C40 01 0\n")
    assert count_established(tcp) == 1


def test_inbound_connections_count_only_the_service_port():
    # 0x1F90 = 8080 (a client held on the service port), 0xC350 = 50000 (the service's own pool)
    tcp = ("  sl  local_address rem_address   st\n"
           "   0: 0100007F:1F90 0200007F:9C40 01 0\n   1: 0100007F:C350 0300007F:1F90 01 0\n"
           "   2: 0100007F:1F90 0200007F:9C41 06 0\n")
    assert count_established(tcp) == 2
    assert count_established(tcp, local_port=8080) == 1


def test_iptables_and_tc_counters():
    listing = (
        "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
        " pkts bytes target prot opt in out source destination\n"
        "  100  8000        all  --  *  *  0.0.0.0/0  0.0.0.0/0  /* faultlab:f1 */\n"
        "   31  2480 DROP       all  --  *  *  0.0.0.0/0  0.0.0.0/0  statistic mode random "
        "probability 0.30000000009 /* faultlab:f1 */\n"
        "    7   560 DROP       all  --  *  *  0.0.0.0/0  0.0.0.0/0  /* faultlab:f2 */\n")
    assert parse_rule_counters(listing, "faultlab:f1") == (100, 31)
    tc = ("qdisc noqueue 0: dev lo root refcnt 2\n"
          "qdisc netem 4fa1: dev eth0 root refcnt 2 limit 1000 loss 30%\n"
          " Sent 7000 bytes 70 pkt (dropped 30, overlimits 0 requeues 0)\n")
    assert parse_qdisc_stats(tc) == (70, 30)


def test_scan_script_matches_one_fault_or_all():
    one = scan_script("faultlab:f1", kill=True)
    assert "'^FAULTLAB_OWNER=faultlab:f1$'" in one and "kill -9" in one
    every = scan_script(None, kill=False)
    assert "'^FAULTLAB_OWNER=faultlab:'" in every and "kill" not in every


def test_expected_effects_have_units_and_direction():
    for name in ALL:
        fault = make(name)
        spec = fault.effect(30)
        assert spec.unit and spec.direction in ("up", "down"), name
        assert spec.expected is None or (spec.expected > 0 and math.isfinite(spec.expected)), name


def test_rule_pattern_matches_quoted_and_plain_comments():
    import re
    import shlex

    from faultlab.injectors.netns import delete_rules_script

    def pattern(mark):
        script = delete_rules_script(mark)
        return shlex.split(script.split("grep -E -- ")[1].split(" | sed")[0])[0]

    one = re.compile(pattern("faultlab:f1"))
    assert one.search('-A INPUT -m comment --comment "faultlab:f1" -j DROP')
    assert one.search("-A INPUT -m comment --comment faultlab:f1 -j DROP")
    assert not one.search('-A INPUT -m comment --comment "faultlab:f10" -j DROP')
    every = re.compile(pattern(None))
    assert every.search('-A OUTPUT -m comment --comment "faultlab:f10"')
    assert not every.search("-A OUTPUT -m comment --comment other")


def _container_root(tmp_path: Path, binary: str) -> Path:
    """A container filesystem under ``tmp_path``: this host's ``binary`` and what it loads, copied to
    the same paths, with the loader reached through an absolute symbolic link (as Debian's /lib64 is)."""
    from faultlab.injectors import preflight

    root = tmp_path / "merged"
    for host in preflight.loaded_files(Path("/"), binary):
        copy = root / str(host).lstrip("/")
        copy.parent.mkdir(parents=True, exist_ok=True)
        if host.is_file():
            shutil.copyfile(host, copy)
    loader = next(p for p in root.rglob("ld-linux*") if p.is_file())
    (root / "lib64").mkdir(exist_ok=True)
    (root / "lib64" / "ld-linux-x86-64.so.2").symlink_to("/" + str(loader.relative_to(root)))
    return root


def test_the_files_a_tool_loads_are_found_on_the_host_from_its_elf(tmp_path):
    """Interpreter and DT_NEEDED libraries, recursively, resolved inside the container's root (an
    absolute link starts again at that root, never at the host's /)."""
    from faultlab.injectors import preflight

    binary = shutil.which("true")
    root = _container_root(tmp_path, binary)
    found = [p.relative_to(root) for p in preflight.loaded_files(root, binary)]
    names = {p.name for p in found}
    assert Path(binary.lstrip("/")) in found and "libc.so.6" in names and any(n.startswith("ld-linux") for n in names)
    assert all((root / p).is_file() for p in found)
    assert preflight.resolve_inside(root, "/lib64/ld-linux-x86-64.so.2") is not None  # the absolute link, inside root
    assert preflight.resolve_inside(root, "/lib64/../../../etc/passwd") is None  # '..' never leaves the root
    assert preflight.resolve_inside(root, "/no/such/file") is None


def test_prewarm_reads_what_the_tool_loads_from_the_host_and_never_loads_it_in_the_target(tmp_path, monkeypatch):
    """The target is only asked where the tool is (the shell's `command -v`, which loads nothing):
    asking it for the libraries (ldd) would map them there and charge the target the cache this
    avoids. Once per image and tool; no storage to read (a remote engine): the run goes on."""
    from faultlab.injectors import preflight

    monkeypatch.setattr(preflight, "_PREWARMED", set())
    binary = shutil.which("true")
    root = _container_root(tmp_path, binary)
    read: list[Path] = []
    monkeypatch.setattr(preflight, "_read", read.append)
    shells: list[str] = []

    def sh(tgt, script, **kw):
        shells.append(script)
        return 0, binary + "\n" if "fio" in script else ""  # dd is not in this container

    container = SimpleNamespace(attrs={"GraphDriver": {"Data": {"MergedDir": str(root)}}})
    ops = SimpleNamespace(sh=sh, client=SimpleNamespace(containers=SimpleNamespace(get=lambda cid: container)))
    fault = FAULTS.get("disk")(FaultContext("f1", target("catalog"), ops), FAULTS.get("disk").validate_params({}))
    assert preflight.prewarm_tools(fault)
    assert read == preflight.loaded_files(root, binary) and len(read) >= 3
    assert shells and all(s.startswith("command -v ") and "ldd" not in s for s in shells)
    read.clear()
    assert preflight.prewarm_tools(fault) and read == []  # once per image and tool
    container.attrs = {"GraphDriver": {"Data": {}}}
    monkeypatch.setattr(preflight, "_PREWARMED", set())
    assert not preflight.prewarm_tools(fault)  # no storage to read: the run goes on
