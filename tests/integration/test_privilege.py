"""Least privilege in the running stack (issue 17): no Docker socket, no root in the shop.

Inspects every container of the project from the host: its mounts and HostConfig through the
Engine API, and the user, capability sets and no_new_privs flag of each of its processes from
the host's ``/proc/<pid>/status`` (what the kernel enforces, not what was asked for). The table
of users and capabilities is printed (``pytest -rP``) and written as JSON to
``$FAULTLAB_PRIVILEGE_REPORT`` when set.
"""

from __future__ import annotations

import json
import os
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
NO_ROOT = APP_SERVICES + DATABASES + ["locust", "prometheus", "node-exporter"]
READ_ONLY = APP_SERVICES + ["redis", "locust", "prometheus", "node-exporter"]
EXPORTER_CAPS = {"SYS_PTRACE", "DAC_READ_SEARCH"}


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
    assert set(NO_ROOT) | {"container-exporter"} <= set(stack), sorted(stack)


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


def test_read_only_root_where_the_service_allows(stack):
    for service in READ_ONLY:
        assert stack[service]["attrs"]["HostConfig"].get("ReadonlyRootfs"), service


def test_exporter_holds_only_what_it_needs(stack):
    procs = stack["container-exporter"]["processes"]
    for proc in procs:
        assert set(proc["bounding"]) <= EXPORTER_CAPS, proc
        assert set(proc["effective"]) <= EXPORTER_CAPS, proc


def test_exec_runs_as_the_service_user_with_a_writable_tmp_only(stack):
    from faultlab.injectors.docker_ops import DockerOps

    ops = DockerOps()
    cart = ops.resolve("cart")
    rc, out = ops.sh(cart, "id -u; touch /tmp/faultlab-probe && rm /tmp/faultlab-probe && echo tmp-ok; "
                           "touch /faultlab-probe 2>/dev/null || echo root-ro")
    assert rc == 0, out
    assert out.split() == ["10001", "tmp-ok", "root-ro"], out


def test_container_metrics_without_the_socket(stack, testbed_config):
    """The exporter labels every container from the map file and reads every process's io."""
    import time

    time.sleep(3 * testbed_config.scrape_interval_s)
    url = testbed_config.prometheus_url
    cpu = by_service(prom_query(url, "container_cpu_usage_seconds_total"))
    assert set(NO_ROOT) | {"container-exporter"} <= set(cpu), sorted(cpu)
    unreadable = by_service(prom_query(url, "container_fs_unreadable_processes"))
    assert unreadable, "no container_fs_unreadable_processes series"
    if os.environ.get("FAULTLAB_EXPORTER_USER", "0:0").split(":")[0] in ("0", "root"):
        assert all(v == 0 for v in unreadable.values()), unreadable  # every process's io is read


@pytest.mark.parametrize("caps,readable", [([], False), (["SYS_PTRACE"], False), (["DAC_READ_SEARCH"], False),
                                           (["SYS_PTRACE", "DAC_READ_SEARCH"], True)])
def test_each_exporter_capability_is_needed(stack, caps, readable):
    """Reading postgres' /proc/<pid>/io from a root container in the host's pid namespace."""
    import docker

    pid = stack["postgres"]["attrs"]["State"]["Pid"]
    image = stack["container-exporter"]["attrs"]["Config"]["Image"]
    client = docker.from_env()
    script = f"cat /proc/{pid}/io >/dev/null 2>&1 && echo readable || echo refused"
    out = client.containers.run(image, ["sh", "-c", script], entrypoint=[], user="0:0", pid_mode="host",
                                cap_drop=["ALL"], cap_add=caps, security_opt=["no-new-privileges:true"],
                                remove=True).decode().strip()
    assert out == ("readable" if readable else "refused"), (caps, out)
