"""Firewall rules and qdiscs in a target's network namespace, all tagged with the owner mark.

Commands run as a privileged ``docker exec`` in the target (so in its network namespace, with
NET_ADMIN for that one command, without changing the container's own capabilities).
iptables rules carry ``-m comment --comment faultlab:<fault_id>``; qdiscs use the handle
``4fa1:`` that nothing else in the testbed uses.
"""

from __future__ import annotations

import re
import shlex

from faultlab.errors import RunFailed
from faultlab.injectors.docker_ops import DockerOps
from faultlab.injectors.marks import OWNER_PREFIX, QDISC_HANDLE
from faultlab.injectors.targets import Target

DEFAULT_DEV = "eth0"


def delete_rules_script(mark: str | None) -> str:
    """Shell deleting every iptables rule whose comment is ``mark`` (any fault's if None)."""
    # iptables-nft prints the comment quoted, iptables-legacy does not
    pattern = f'--comment "?{mark}"?( |$)' if mark else f'--comment "?{OWNER_PREFIX}'

    return (
        "command -v iptables >/dev/null || exit 0; "
        f"iptables -w -S 2>/dev/null | grep -E -- {shlex.quote(pattern)} | sed 's/^-A /-D /' | "
        'while read -r rule; do eval "iptables -w $rule" && echo deleted; done; true'
    )


def delete_qdiscs_script() -> str:
    """Shell removing every root qdisc with the faultlab handle, on every interface."""
    return (
        "command -v tc >/dev/null || exit 0; "
        f"for dev in $(ls /sys/class/net); do tc qdisc show dev $dev | grep -q 'qdisc [a-z]* {QDISC_HANDLE}' "
        "&& tc qdisc del dev $dev root && echo deleted; done; true"
    )


def add_loss_rules(ops: DockerOps, target: Target, mark: str, loss_pct: float) -> None:
    """A counting rule then a random DROP rule at the top of INPUT and OUTPUT."""
    probability = loss_pct / 100.0
    lines = []
    for chain in ("INPUT", "OUTPUT"):
        lines.append(f"iptables -w -I {chain} 1 -m statistic --mode random --probability "
                     f"{probability:.6f} -m comment --comment {mark} -j DROP")
        lines.append(f"iptables -w -I {chain} 1 -m comment --comment {mark}")
    ops.check(target, " && ".join(lines), "adding the packet-loss rules", privileged=True)


def parse_rule_counters(listing: str, mark: str) -> tuple[int, int]:
    """(packets seen, packets dropped) from ``iptables -L -v -x -n`` for one mark."""
    seen = dropped = 0
    for line in listing.splitlines():
        if f"/* {mark} */" not in line:
            continue
        cols = line.split()
        packets = int(cols[0])
        if cols[2] == "DROP":
            dropped += packets
        else:
            seen += packets
    return seen, dropped


def read_rule_counters(ops: DockerOps, target: Target, mark: str) -> tuple[int, int]:
    out = ops.check(target, "iptables -w -L INPUT -v -x -n && iptables -w -L OUTPUT -v -x -n",
                    "reading the packet-loss counters", privileged=True)
    return parse_rule_counters(out, mark)


def delete_rules(ops: DockerOps, target: Target, mark: str | None) -> int:
    _, out = ops.sh(target, delete_rules_script(mark), privileged=True)
    return out.count("deleted")


def add_qdisc(ops: DockerOps, target: Target, spec: str, dev: str = DEFAULT_DEV) -> None:
    """``tc qdisc add dev DEV root handle 4fa1: SPEC`` (e.g. ``netem delay 100ms``)."""
    ops.check(target, f"tc qdisc add dev {dev} root handle {QDISC_HANDLE} {spec}",
              f"adding qdisc '{spec}'", privileged=True)


def delete_qdiscs(ops: DockerOps, target: Target) -> int:
    _, out = ops.sh(target, delete_qdiscs_script(), privileged=True)
    return out.count("deleted")


def parse_qdisc_stats(text: str) -> tuple[int, int]:
    """(packets sent, packets dropped) of the faultlab qdisc in ``tc -s qdisc show``."""
    mine = False
    for line in text.splitlines():
        if line.startswith("qdisc "):
            mine = f" {QDISC_HANDLE} " in line + " "
            continue
        match = re.search(r"Sent \d+ bytes (\d+) pkt \(dropped (\d+)", line)
        if mine and match:
            return int(match.group(1)), int(match.group(2))
    return 0, 0


def read_qdisc_stats(ops: DockerOps, target: Target, dev: str = DEFAULT_DEV) -> tuple[int, int]:
    out = ops.check(target, f"tc -s qdisc show dev {dev}", "reading qdisc stats", privileged=True)
    return parse_qdisc_stats(out)


_NETEM_CACHE: dict[str, bool] = {}


def netem_available(ops: DockerOps, target: Target) -> bool:
    """Whether the kernel has sch_netem: try it on the target's loopback, remove it at once."""
    if target.container_id in _NETEM_CACHE:
        return _NETEM_CACHE[target.container_id]
    rc, _ = ops.sh(
        target,
        f"tc qdisc add dev lo root handle {QDISC_HANDLE} netem delay 0ms 2>/dev/null "
        f"&& tc qdisc del dev lo root",
        privileged=True,
    )
    _NETEM_CACHE[target.container_id] = rc == 0
    return rc == 0


def require_netem(ops: DockerOps, target: Target, fault: str) -> None:
    if not netem_available(ops, target):
        raise RunFailed(
            f"fault {fault!r} on {target.service}: the kernel has no sch_netem qdisc "
            "('tc qdisc add ... netem' fails), so delay/jitter cannot be injected on this machine"
        )
