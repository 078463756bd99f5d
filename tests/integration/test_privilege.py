"""Least privilege in the running stack (issue 17): no Docker socket, no root in the shop, and
the only privileged process (the container reader) without any network.

Inspects every container of the project from the host: its mounts and HostConfig through the
Engine API, and the user, capability sets and no_new_privs flag of each of its processes from
the host's ``/proc/<pid>/status`` (what the kernel enforces, not what was asked for), and the
reader's network interfaces from the host's ``/proc/<pid>/net/dev``. The table of users and
capabilities is printed (``pytest -rP``) and written as JSON to ``$FAULTLAB_PRIVILEGE_REPORT``
when set. Last, the container metrics are checked complete: every service's working set, and
postgres' and redis' disk bytes rising when they write.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import psutil
import pytest

from faultlab.testbed.lifecycle import APP_SERVICES, DATABASES
from faultlab.testbed.smoke import by_service, prom_query

pytestmark = pytest.mark.integration

# include/uapi/linux/capability.h, bit -> name
CAP_NAMES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
]
NO_ROOT = APP_SERVICES + DATABASES + ["locust", "prometheus", "node-exporter", "container-exporter"]
READ_ONLY = NO_ROOT + ["container-reader"]
READER_CAPS = {"SYS_PTRACE", "DAC_READ_SEARCH"}


def cap_names(mask_hex: str) -> list[str]:
    mask = int(mask_hex, 16)
    return [name for bit, name in enumerate(CAP_NAMES) if mask >> bit & 1] + [
        f"cap{bit}" for bit in range(len(CAP_NAMES), 64) if mask >> bit & 1
    ]


def process_facts(pid: int) -> dict:
    """uid and capability sets of one process, from the host's /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return {
        "pid": pid,
        "command": Path(f"/proc/{pid}/comm").read_text().strip(),
        "uids": [int(u) for u in fields["Uid"].split()],  # real, effective, saved, filesystem
        "effective": cap_names(fields["CapEff"].strip()),
        "permitted": cap_names(fields["CapPrm"].strip()),
        "bounding": cap_names(fields["CapBnd"].strip()),
        "no_new_privs": fields.get("NoNewPrivs", "0").strip() == "1",
    }


@pytest.fixture(scope="module")
def stack(testbed, testbed_config) -> dict[str, dict]:
    """service -> {attrs, processes} for every running container of the project."""
    import docker

    client = docker.from_env()
    found = {}
    for container in client.containers.list(filters={"label": f"com.docker.compose.project={testbed_config.project}"}):
        attrs = container.attrs
        service = attrs["Config"]["Labels"]["com.docker.compose.service"]
        root = psutil.Process(attrs["State"]["Pid"])
        procs = [process_facts(p.pid) for p in [root, *root.children(recursive=True)]]
        found[service] = {"attrs": attrs, "processes": procs}
    report = {
        service: {
            "user": info["attrs"]["Config"].get("User") or "(image default: root)",
            "uids": sorted({p["uids"][1] for p in info["processes"]}),
            "effective_caps": sorted({c for p in info["processes"] for c in p["effective"]}),
            "bounding_caps": sorted({c for p in info["processes"] for c in p["bounding"]}),
            "no_new_privs": all(p["no_new_privs"] for p in info["processes"]),
            "read_only_root": bool(info["attrs"]["HostConfig"].get("ReadonlyRootfs")),
        }
        for service, info in sorted(found.items())
    }
    print("\n" + json.dumps(report, indent=1))
    if os.environ.get("FAULTLAB_PRIVILEGE_REPORT"):
        Path(os.environ["FAULTLAB_PRIVILEGE_REPORT"]).write_text(json.dumps(report, indent=1) + "\n")
    return found


def test_every_service_is_running(stack):
    assert set(READ_ONLY) <= set(stack), sorted(stack)


def test_no_container_mounts_the_docker_socket(stack):
    for service, info in stack.items():
        sources = [m.get("Source", "") for m in info["attrs"].get("Mounts") or []]
        assert not any(s.endswith("docker.sock") or s.rstrip("/") in ("/var/run", "/run") for s in sources), (
            service, sources)


def test_no_container_is_privileged(stack):
    for service, info in stack.items():
        host = info["attrs"]["HostConfig"]
        assert not host.get("Privileged"), service
        assert "no-new-privileges:true" in (host.get("SecurityOpt") or []), service
        assert all(p["no_new_privs"] for p in info["processes"]), service


def test_no_app_process_runs_as_root_or_holds_a_capability(stack):
    for service in NO_ROOT:
        for proc in stack[service]["processes"]:
            assert 0 not in proc["uids"], (service, proc)
            assert proc["effective"] == [] and proc["permitted"] == [], (service, proc)
            assert proc["bounding"] == [], (service, proc)  # cap_drop: [ALL]


def test_databases_run_as_their_own_users(stack):
    for service, user in (("postgres", "postgres"), ("redis", "redis")):
        assert stack[service]["attrs"]["Config"]["User"] == user
        uids = {p["uids"][1] for p in stack[service]["processes"]}
        assert len(uids) == 1 and 10001 not in uids and 0 not in uids, (service, uids)


def test_every_root_filesystem_is_read_only(stack):
    for service in READ_ONLY:
        assert stack[service]["attrs"]["HostConfig"].get("ReadonlyRootfs"), service


def test_postgres_keeps_its_data_on_a_volume(stack):
    mounts = {m["Destination"]: m for m in stack["postgres"]["attrs"].get("Mounts") or []}
    for folder in ("/var/lib/postgresql/faultlab", "/run/postgresql", "/tmp"):
        assert folder in mounts and mounts[folder]["Type"] == "volume" and mounts[folder]["RW"], (folder, sorted(mounts))
    data = Path(f"/proc/{stack['postgres']['attrs']['State']['Pid']}/root/var/lib/postgresql/faultlab")
    assert (data / "PG_VERSION").read_text().strip() == "15"


def test_reader_holds_its_two_capabilities_and_nothing_else(stack):
    procs = stack["container-reader"]["processes"]
    for proc in procs:
        assert set(proc["bounding"]) <= READER_CAPS, proc
        assert set(proc["effective"]) <= READER_CAPS, proc
    reader = [p for p in procs if p["command"].startswith("python")]
    assert reader and set(reader[0]["effective"]) == READER_CAPS, procs  # it really holds them


def test_reader_has_no_network_but_loopback(stack):
    attrs = stack["container-reader"]["attrs"]
    assert attrs["HostConfig"]["NetworkMode"] == "none"
    assert attrs["HostConfig"]["PidMode"] == "host"
    for proc in stack["container-reader"]["processes"]:
        lines = Path(f"/proc/{proc['pid']}/net/dev").read_text().splitlines()[2:]
        interfaces = sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)
        assert interfaces == ["lo"], (proc, interfaces)


def test_exporter_is_unprivileged_and_reaches_the_reader_through_its_socket(stack):
    for proc in stack["container-exporter"]["processes"]:
        assert proc["uids"] == [10001] * 4 and proc["effective"] == [] and proc["bounding"] == [], proc
    exporter = stack["container-exporter"]["attrs"]
    mounts = {m["Destination"]: m for m in exporter.get("Mounts") or []}
    assert mounts["/run/faultlab"]["Type"] == "volume" and not mounts["/run/faultlab"]["RW"]
    assert not exporter["HostConfig"].get("CapAdd") and exporter["HostConfig"]["PidMode"] != "host"
    sock = Path(f"/proc/{stack['container-reader']['attrs']['State']['Pid']}/root/run/faultlab/metrics.sock")
    info = sock.stat()
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o660 and info.st_gid == 10001, info


def test_exec_runs_as_the_service_user_with_a_writable_tmp_only(stack):
    from faultlab.injectors.docker_ops import DockerOps

    ops = DockerOps()
    cart = ops.resolve("cart")
    rc, out = ops.sh(cart, "id -u; touch /tmp/faultlab-probe && rm /tmp/faultlab-probe && echo tmp-ok; "
                           "touch /faultlab-probe 2>/dev/null || echo root-ro")
    assert rc == 0, out
    assert out.split() == ["10001", "tmp-ok", "root-ro"], out


def test_container_metrics_without_the_socket(stack, testbed_config):
    """The reader labels every container from the map file, reads every process's io, and every
    service's working set comes through the exporter."""
    time.sleep(3 * testbed_config.scrape_interval_s)
    url = testbed_config.prometheus_url
    cpu = by_service(prom_query(url, "container_cpu_usage_seconds_total"))
    assert set(READ_ONLY) <= set(cpu), sorted(cpu)
    unreadable = by_service(prom_query(url, "container_fs_unreadable_processes"))
    assert unreadable and all(v == 0 for v in unreadable.values()), unreadable  # every process's io is read
    for name in ("container_memory_working_set_bytes", "container_memory_usage_bytes", "container_memory_rss_bytes",
                 "container_memory_cache_bytes"):
        values = by_service(prom_query(url, name))
        assert set(READ_ONLY) <= set(values), (name, sorted(values))
    working_set = by_service(prom_query(url, "container_memory_working_set_bytes"))
    usage = by_service(prom_query(url, "container_memory_usage_bytes"))
    for service in READ_ONLY:
        assert 0 < working_set[service] <= usage[service], (service, working_set[service], usage[service])


def _written(url: str, service: str) -> float:
    return by_service(prom_query(url, f'container_fs_write_bytes_total{{service="{service}"}}')).get(service, -1.0)


def test_database_disk_bytes_rise_when_they_write(stack, testbed_config):
    """postgres and redis run as other users than the reader: their /proc/<pid>/io needs its capabilities."""
    import docker

    client = docker.from_env()
    url, wait_s = testbed_config.prometheus_url, 3 * testbed_config.scrape_interval_s
    before = {s: _written(url, s) for s in DATABASES}
    assert all(v >= 0 for v in before.values()), before
    postgres = client.containers.get(stack["postgres"]["attrs"]["Id"])
    sql = ("DROP TABLE IF EXISTS faultlab_probe; CREATE TABLE faultlab_probe AS SELECT g, md5(g::text) AS h "
           "FROM generate_series(1, 200000) g; CHECKPOINT; DROP TABLE faultlab_probe;")
    rc, out = postgres.exec_run(["psql", "-q", "-U", "postgres", "-d", "shop", "-c", sql], user="postgres")
    assert rc == 0, out
    redis = client.containers.get(stack["redis"]["attrs"]["Id"])
    # hex digests, so that the snapshot's LZF compression cannot shrink the 4 MB away
    fill = ("for i=1,20000 do local v='' for j=1,5 do v=v..redis.sha1hex(i..':'..j) end "
            "redis.call('set','faultlab-probe:'..i,v) end return 1")
    drop = "for i=1,20000 do redis.call('del','faultlab-probe:'..i) end return 1"
    for cmd in (["redis-cli", "eval", fill, "0"], ["redis-cli", "save"], ["redis-cli", "eval", drop, "0"]):
        rc, out = redis.exec_run(cmd, user="redis")
        assert rc == 0 and b"ERR" not in out, (cmd, out)
    time.sleep(wait_s)
    after = {s: _written(url, s) for s in DATABASES}
    for service in DATABASES:
        assert after[service] - before[service] > 1e6, (service, before[service], after[service])


def test_exporter_answers_503_while_the_reader_is_away(stack, testbed_config):
    import docker

    client = docker.from_env()
    reader = client.containers.get(stack["container-reader"]["attrs"]["Id"])
    exporter = client.containers.get(stack["container-exporter"]["attrs"]["Id"])
    probe = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://localhost:9101/metrics"]
    reader.stop(timeout=5)
    try:
        _, out = exporter.exec_run(probe)
        assert out.decode().strip() == "503", out
        _, out = exporter.exec_run(["curl", "-s", "http://localhost:9101/metrics"])
        assert b"container reader is not running" in out, out
    finally:
        reader.start()
    deadline = time.monotonic() + 30
    code = ""
    while time.monotonic() < deadline and code != "200":
        time.sleep(0.5)
        code = exporter.exec_run(probe)[1].decode().strip()
    assert code == "200"
    assert "answering 503" in exporter.logs(tail=50).decode()


@pytest.mark.parametrize("caps,readable", [([], False), (["SYS_PTRACE"], False), (["DAC_READ_SEARCH"], False),
                                           (["SYS_PTRACE", "DAC_READ_SEARCH"], True)])
def test_each_reader_capability_is_needed(stack, caps, readable):
    """Reading postgres' /proc/<pid>/io from a root container in the host's pid namespace."""
    import docker

    pid = stack["postgres"]["attrs"]["State"]["Pid"]
    image = stack["container-reader"]["attrs"]["Config"]["Image"]
    client = docker.from_env()
    script = f"cat /proc/{pid}/io >/dev/null 2>&1 && echo readable || echo refused"
    out = client.containers.run(image, ["sh", "-c", script], entrypoint=[], user="0:0", pid_mode="host",
                                cap_drop=["ALL"], cap_add=caps, security_opt=["no-new-privileges:true"],
                                network_mode="none", remove=True).decode().strip()
    assert out == ("readable" if readable else "refused"), (caps, out)
