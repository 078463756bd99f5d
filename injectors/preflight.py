"""Preflight: check what each planned fault needs before anything runs, and fail loudly.

A fault that would do nothing (no netem for a delay, no iptables, not enough memory, no
load-generator image, a tool missing in the target) is refused before the run starts, with a
message naming the fault, the target and what is missing.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from faultlab.errors import RunFailed
from faultlab.injectors import netns
from faultlab.injectors.base import Fault

MB = 2**20
HOST_MARGIN_MB = 256.0  # left free on the host for the testbed and the harness


def check_memory(needed_mb: float, usage_bytes: int, limit_bytes: int, available_bytes: int,
                 where: str) -> None:
    """``needed_mb`` on top of current use (the working set) must fit under the container limit
    and host memory."""
    needed = needed_mb * MB
    if limit_bytes > 0 and usage_bytes + needed > limit_bytes:
        raise RunFailed(
            f"{where}: {needed_mb:g} MB on top of the current {usage_bytes / MB:.0f} MB exceeds the "
            f"container's memory limit of {limit_bytes / MB:.0f} MB"
        )
    if needed + HOST_MARGIN_MB * MB > available_bytes:
        raise RunFailed(
            f"{where}: {needed_mb:g} MB (+{HOST_MARGIN_MB:g} MB margin) exceeds the host's "
            f"available memory of {available_bytes / MB:.0f} MB"
        )


def container_working_set(fault: Fault) -> int:
    """The target's working set (what the dataset's ``memory_bytes`` shows): the page cache the
    kernel would drop before the limit bites is not counted as used."""
    from faultlab.injectors.counters import CGROUP_ROOT
    from faultlab.testbed.app.cgroups import detect_layout, read_cgroup_stats

    stats = read_cgroup_stats(detect_layout(CGROUP_ROOT), fault.ctx.target.container_id)
    return stats.memory.working_set_bytes if stats is not None else 0


_PREWARMED: set[tuple[str, str]] = set()
#: Where the dynamic loader looks for a library named by DT_NEEDED (Debian's multiarch first).
LIBRARY_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib")
#: Files every dynamically linked C program reads at start (the loader's cache, the C.UTF-8 locale).
STARTUP_FILES = ("/etc/ld.so.cache", "/usr/lib/locale/C.utf8")


def prewarm_tools(fault: Fault) -> bool:
    """Read the fault's tools (binaries, the libraries they load, the loader's cache and the C
    locale) into the page cache from the harness's own cgroup, through the target's filesystem on
    the host; True when done.

    A page is charged to the cgroup that first brings it into the page cache. Run cold inside the
    target, ``stress-ng`` charges about 31 MB of file cache to the target (its binary and 16
    libraries, libIPSec_MB alone 12 MB) and ``fio`` 5-28 MB, which stays in the target's memory
    for 10-20 minutes after the fault and, through the active file list, in its working set: on
    the ``ladder`` recording the working set of a CPU or disk fault's target sat 2-16 MB above its
    level before, 60 s after the revert. Read here first, the pages belong to the harness and the
    target maps them without a charge (measured on the runtime image: 0 bytes charged). The
    libraries are found by reading the ELF files on the host (:func:`loaded_files`): asking the
    container (``ldd``) would map them in the target and charge exactly what this avoids. Image
    layers are shared, so this happens once per tool and image. Where the host cannot see
    Docker's storage (a remote or rootless engine) nothing is read and the run goes on.
    """
    ctx = fault.ctx
    try:
        merged = ctx.ops.client.containers.get(ctx.target.container_id).attrs["GraphDriver"]["Data"]["MergedDir"]
    except (KeyError, TypeError, AttributeError):
        return False
    root = Path(merged) if merged else None
    if root is None or not root.is_dir():
        return False
    done = False
    for tool in fault.tools:
        key = (ctx.target.image, tool)
        if key in _PREWARMED:
            done = True
            continue
        # `command -v` is the shell's own: it finds the tool without loading it in the target
        _, out = ctx.ops.sh(ctx.target, f"command -v {tool} || true")
        binary = out.strip().splitlines()[0].strip() if out.strip() else ""
        if not binary.startswith("/"):
            continue
        for path in loaded_files(root, binary):
            _read(path)
        _PREWARMED.add(key)
        done = True
    return done


def loaded_files(root: Path, binary: str) -> list[Path]:
    """The files a dynamically linked ``binary`` (a path inside the container) loads, as paths on
    the host under ``root`` (the container's filesystem): itself, its interpreter, the libraries of
    its DT_NEEDED entries (recursively; searched in its DT_RUNPATH/DT_RPATH, then :data:`LIBRARY_DIRS`)
    and :data:`STARTUP_FILES`.
    Symbolic links are followed inside ``root``; what cannot be found or parsed is left out."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    found: dict[Path, None] = {}
    queue = [binary]
    while queue:
        host = resolve_inside(root, queue.pop(0))
        if host is None or host in found:
            continue
        found[host] = None
        try:
            with open(host, "rb") as fh:
                elf = ELFFile(fh)
                for segment in elf.iter_segments():
                    if segment.header.p_type == "PT_INTERP":
                        queue.append(segment.get_interp_name())
                for section in elf.iter_sections():
                    if not isinstance(section, DynamicSection):
                        continue
                    tags = list(section.iter_tags())
                    # DT_RUNPATH / DT_RPATH first ($ORIGIN: the library's own folder), then the system's
                    origin = "/" + str(host.parent.relative_to(root))
                    own = [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for tag in tags
                           if tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH")
                           for d in (getattr(tag, "runpath", None) or getattr(tag, "rpath", "")).split(":") if d]
                    for tag in tags:
                        if tag.entry.d_tag == "DT_NEEDED":
                            queue += [f"{d}/{tag.needed}" for d in (*own, *LIBRARY_DIRS)
                                      if resolve_inside(root, f"{d}/{tag.needed}") is not None][:1]
        except (OSError, ELFError):
            continue
    for extra in STARTUP_FILES:
        host = resolve_inside(root, extra, want_file=False)
        if host is not None and host.is_dir():
            found.update(dict.fromkeys(sorted(p for p in host.iterdir() if p.is_file())))
        elif host is not None:
            found[host] = None
    return list(found)


def resolve_inside(root: Path, path: str, want_file: bool = True, hops: int = 40) -> Path | None:
    """``path`` inside the container whose filesystem is ``root`` on the host, its symbolic links
    followed inside ``root`` (an absolute link target starts again at ``root``, never at the host's
    /); None when it does not exist, is not a file (``want_file``) or loops."""
    import os

    parts = [p for p in path.split("/") if p]
    stack: list[str] = []
    while parts:
        part = parts.pop(0)
        if part in (".", ""):
            continue
        if part == "..":
            if stack:
                stack.pop()
            continue
        candidate = root.joinpath(*stack, part)
        if candidate.is_symlink():
            hops -= 1
            if hops < 0:
                return None
            target = os.readlink(candidate)
            if target.startswith("/"):
                stack = []
            parts = [p for p in target.split("/") if p] + parts
            continue
        stack.append(part)
    found = root.joinpath(*stack)
    if not found.exists() or (want_file and not found.is_file()):
        return None
    return found


def _read(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except OSError:
        pass


def check_fault(fault: Fault, duration_s: float) -> list[str]:
    """Check one fault's needs; return what was checked, raise RunFailed on the first miss."""
    ctx = fault.ctx
    target = ctx.target
    where = f"fault {fault.name!r} ({ctx.fault_id}) on {target.service}"
    checked: list[str] = []
    if duration_s < fault.min_duration_s():
        raise RunFailed(f"{where}: duration_s {duration_s:g} is shorter than its params need "
                        f"({fault.min_duration_s():g} s)")
    needs = fault.active_needs()
    if fault.name not in ("kill",) and not target.running:
        raise RunFailed(f"{where}: the container {target.container_name} is not running")
    if "exec" in needs and fault.tools:
        script = " && ".join(f"command -v {tool} >/dev/null" for tool in fault.tools)
        rc, _ = ctx.ops.sh(target, script)
        if rc != 0:
            raise RunFailed(f"{where}: missing in the container: {', '.join(fault.tools)}")
        checked.append("tools")
        if prewarm_tools(fault):
            checked.append("prewarm")
    if "net_admin" in needs or "iptables" in needs:
        rc, out = ctx.ops.sh(target, "iptables -w -L -n >/dev/null && tc qdisc show >/dev/null",
                             privileged=True)
        if rc != 0:
            raise RunFailed(f"{where}: no NET_ADMIN/iptables/tc in the target's namespace: "
                            f"{out.strip()[-200:]}")
        checked.append("net_admin")
    if "netem" in needs:
        netns.require_netem(ctx.ops, target, fault.name)
        checked.append("netem")
    if "tbf" in needs:
        rc, _ = ctx.ops.sh(target, "tc qdisc add dev lo root handle 4fa1: tbf rate 1gbit burst 32kbit "
                                   "latency 400ms && tc qdisc del dev lo root", privileged=True)
        if rc != 0:
            raise RunFailed(f"{where}: the kernel has no tbf qdisc")
        checked.append("tbf")
    if "memory" in needs:
        check_memory(fault.memory_needed_mb(duration_s), container_working_set(fault),
                     target.memory_limit_bytes, psutil.virtual_memory().available, where)
        checked.append("memory")
    if "locust_image" in needs:
        from faultlab.injectors.traffic import locust_image

        locust_image(ctx.ops)
        checked.append("locust_image")
    if "runtime_image" in needs:
        if not ctx.ops.image_exists(target.image):
            raise RunFailed(f"{where}: the target's image {target.image} is not available")
        if not target.networks:
            raise RunFailed(f"{where}: the target is on no network")
        checked.append("runtime_image")
    return checked
