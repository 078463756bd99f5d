"""A Debian base image with or without a container registry.

Every Dockerfile starts ``ARG BASE_IMAGE`` / ``FROM ${BASE_IMAGE}``. We use
``debian:bookworm-slim`` when it is present or can be pulled; otherwise we build the same
distribution locally with ``debootstrap`` and ``docker import`` it as ``faultlab/debian:bookworm``
(kept in the engine, so the next build reuses it). One Dockerfile serves both worlds.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from faultlab.errors import RunFailed

REGISTRY_BASE = "debian:bookworm-slim"
LOCAL_BASE = "faultlab/debian:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def try_pull(name: str, timeout_s: float = 60.0) -> bool:
    try:
        return subprocess.run(["docker", "pull", "-q", name], capture_output=True, timeout=timeout_s).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ensure_base_image(preferred: str = REGISTRY_BASE, log=print) -> str:
    """Return the name of a usable Debian bookworm base image, building one if needed."""
    for name in (preferred, LOCAL_BASE):
        if image_exists(name):
            return name
    if try_pull(preferred):
        return preferred
    log(f"{preferred} cannot be pulled; building {LOCAL_BASE} with debootstrap (about a minute)")
    build_local_base()
    return LOCAL_BASE


def build_local_base(name: str = LOCAL_BASE, mirror: str = DEBIAN_MIRROR) -> None:
    """debootstrap a minimal bookworm into a temporary folder and import it as ``name``."""
    if shutil.which("debootstrap") is None:
        _apt_install_debootstrap()
    with tempfile.TemporaryDirectory(prefix="faultlab-rootfs-") as root:
        cmd = ["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", root, mirror]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RunFailed(f"debootstrap failed (mirror {mirror}): {done.stderr.strip()[-400:]}")
        # Keep apt's lists out of the image: builds run 'apt-get update' themselves.
        for sub in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for entry in (Path(root) / sub).glob("*"):
                if entry.is_file():
                    entry.unlink()
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(
            ["docker", "import", "--change", 'CMD ["/bin/bash"]', "-", name], stdin=tar.stdout, capture_output=True, text=True
        )
        tar.wait()
        if imp.returncode != 0 or tar.returncode != 0:
            raise RunFailed(f"docker import of the debootstrap root failed: {imp.stderr.strip()[-400:]}")


def _apt_install_debootstrap() -> None:
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "debootstrap"]):
        if subprocess.run(cmd, capture_output=True).returncode != 0:
            raise RunFailed("debootstrap is missing and could not be installed; install it (apt-get install debootstrap)")
