"""``faultlab clean``: remove every leftover of any fault, safe to run at any time.

Finds what the owner marks point to, without needing the harness's memory (so it works after a
SIGKILL): helper containers labelled ``faultlab.owner``, paused project containers, project
containers a ``kill`` fault left stopped (marker files), and inside every running project
container the processes with ``FAULTLAB_OWNER`` in their environment, iptables rules commented
``faultlab:``, qdiscs with the faultlab handle, and fio data files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faultlab.injectors import kill as kill_fault
from faultlab.injectors import netns, procs
from faultlab.injectors.docker_ops import DockerOps


@dataclass
class CleanReport:
    helpers_removed: int = 0
    unpaused: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    processes_killed: dict[str, int] = field(default_factory=dict)
    rules_removed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def container_script() -> str:
    """Shell run in each project container: marked processes and fio data files."""
    return f"{{ {procs.scan_script(None, kill=True)}; }} | sed 's/^/pid /'; rm -f /tmp/faultlab-*.fio; true"


def netns_script() -> str:
    """Shell run in each project container's network namespace: marked rules and qdiscs."""
    return f"{netns.delete_rules_script(None)}; {netns.delete_qdiscs_script()}"


def clean(ops: DockerOps) -> CleanReport:
    """Remove every fault leftover; idempotent."""
    report = CleanReport()
    report.helpers_removed = ops.remove_helpers()
    for target in ops.project_targets(include_stopped=True):
        state = ops.state(target)
        if state.get("Paused"):
            ops.unpause(target)
            report.unpaused.append(target.service)
    markers = kill_fault.state_dir()
    if markers.exists():
        for marker in markers.iterdir():
            try:
                container = ops.client.containers.get(marker.name)
                if not (container.attrs.get("State") or {}).get("Running"):
                    container.start()
                    report.restarted.append(container.name)
            except Exception as exc:  # gone for good: nothing to restart
                report.errors.append(f"restart {marker.name[:12]}: {exc}")
            marker.unlink(missing_ok=True)
    for target in ops.project_targets():
        rc, out = ops.sh(target, container_script())
        rc_net, out_net = ops.sh(target, netns_script(), privileged=True)
        if rc != 0 or rc_net != 0:
            report.errors.append(f"{target.service}: exit {rc}/{rc_net}: {(out + out_net).strip()[-200:]}")
            continue
        killed = sum(1 for line in out.splitlines() if line.startswith("pid "))
        removed = out_net.count("deleted")
        if killed:
            report.processes_killed[target.service] = killed
        if removed:
            report.rules_removed[target.service] = removed
    return report


def leftovers(ops: DockerOps) -> dict[str, object]:
    """What of any fault is still there (empty values = nothing): used by tests and ``clean``."""
    found: dict[str, object] = {"helpers": ops.helper_ids(), "paused": [], "processes": {}, "rules": {}}
    check_rules = (
        "iptables -w -S 2>/dev/null | grep -c -E -- '--comment \"?faultlab:'; "
        "for dev in $(ls /sys/class/net); do tc qdisc show dev $dev; done | grep -c 'qdisc [a-z]* 4fa1:'"
    )
    for target in ops.project_targets():
        if ops.state(target).get("Paused"):
            found["paused"].append(target.service)  # type: ignore[union-attr]
            continue
        pids = procs.find(ops, target)
        if pids:
            found["processes"][target.service] = pids  # type: ignore[index]
        _, out = ops.sh(target, check_rules, privileged=True)
        count = sum(int(x) for x in out.split() if x.isdigit())
        if count:
            found["rules"][target.service] = count  # type: ignore[index]
    return found
