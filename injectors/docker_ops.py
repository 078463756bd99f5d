"""The few Docker operations the injectors need, behind one small class (mockable in tests).

Tools run *inside* the target container (``docker exec``) so that their CPU, memory and I/O are
charged to the target's cgroup and their packets to its network namespace. Helper containers
(traffic generators, iperf3 clients) carry the label ``faultlab.owner=faultlab:<fault_id>``.

Privileges (testbed/README.md, "Users and capabilities"): ``docker exec`` runs as the target's
own user (uid 10001 for the shop, postgres, redis) with the target's capabilities (none), so
every in-target tool must work unprivileged. Helpers run as their image's user (uid 10001) with
no capabilities, except the network-namespace helper: root with NET_ADMIN alone, because Docker
grants capabilities to uid 0 only.
"""

from __future__ import annotations

from typing import Any

from faultlab.errors import RunFailed
from faultlab.injectors.marks import OWNER_ENV, OWNER_LABEL, OWNER_PREFIX
from faultlab.injectors.targets import PROJECT_LABEL, Target, guard, project_name, target_from_attrs

# What a helper may do: nothing but its own work. NETNS_CAPS is all iptables (nft) and tc need.
HELPER_SECURITY: dict[str, Any] = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"]}
NETNS_CAPS = ["NET_ADMIN"]


class DockerOps:
    """Thin wrapper over the Docker SDK client."""

    def __init__(self, client: Any | None = None) -> None:
        if client is None:
            import docker

            try:
                client = docker.from_env()
                client.ping()
            except Exception as exc:
                raise RunFailed(f"cannot reach the Docker engine ({exc}); is dockerd running?") from None
        self.client = client

    # --- targets -------------------------------------------------------------------------
    def project_targets(self, include_stopped: bool = False) -> list[Target]:
        """Every container of the project, as Targets."""
        containers = self.client.containers.list(
            all=include_stopped, filters={"label": f"{PROJECT_LABEL}={project_name()}"}
        )
        return [target_from_attrs(c.attrs) for c in containers]

    def resolve(self, name: str) -> Target:
        """Apply the target guard to a service/container name (stopped ones included)."""
        return guard(name, self.project_targets(include_stopped=True))

    # --- exec ----------------------------------------------------------------------------
    def exec(
        self,
        target: Target,
        cmd: list[str],
        mark: str | None = None,
        detach: bool = False,
        privileged: bool = False,
    ) -> tuple[int, str]:
        """Run ``cmd`` in the target; ``mark`` goes into the process environment (owner mark).

        ``privileged`` commands (iptables, tc) run in a short-lived helper container that joins
        the target's network namespace with NET_ADMIN: ``docker exec --privileged`` cannot
        raise capabilities in an unprivileged container on this engine.
        """
        if privileged:
            return self.netns_run(target, cmd)
        container = self.client.containers.get(target.container_id)
        env = {OWNER_ENV: mark} if mark else None
        result = container.exec_run(cmd, environment=env, detach=detach, privileged=privileged)
        if detach:
            return 0, ""
        output = result.output.decode(errors="replace") if result.output else ""
        return int(result.exit_code or 0), output

    def netns_run(self, target: Target, cmd: list[str], timeout_s: float = 30.0) -> tuple[int, str]:
        """Run ``cmd`` in a helper (target's image) inside the target's network namespace.

        The helper is root (the image's default user is not) holding NET_ADMIN only.
        """
        helper = self.client.containers.run(
            target.image, cmd, entrypoint=[], detach=True, user="0:0",
            cap_add=NETNS_CAPS, **HELPER_SECURITY,
            network_mode=f"container:{target.container_id}",
            labels={OWNER_LABEL: f"{OWNER_PREFIX}netns"},
        )
        try:
            status = helper.wait(timeout=timeout_s)
            output = helper.logs().decode(errors="replace")
            return int(status.get("StatusCode", -1)), output
        finally:
            helper.remove(force=True)

    def sh(self, target: Target, script: str, mark: str | None = None, detach: bool = False,
           privileged: bool = False) -> tuple[int, str]:
        """Run a /bin/sh script in the target."""
        return self.exec(target, ["/bin/sh", "-c", script], mark, detach, privileged)

    def check(self, target: Target, script: str, what: str, privileged: bool = False) -> str:
        """Run a script that must succeed; RunFailed names the target and the step."""
        rc, out = self.sh(target, script, privileged=privileged)
        if rc != 0:
            raise RunFailed(f"{what} in {target.service}: exit {rc}: {out.strip()[-300:]}")
        return out

    # --- helpers -------------------------------------------------------------------------
    def run_helper(
        self,
        image: str,
        command: list[str],
        mark: str,
        network: str | None = None,
        network_mode: str | None = None,
        cap_add: list[str] | None = None,
        environment: dict[str, str] | None = None,
        entrypoint: list[str] | None = None,
    ) -> str:
        """Start a detached, labelled helper container (its image's user, no capabilities but
        ``cap_add``); return its id."""
        kwargs: dict[str, Any] = {
            "detach": True,
            "labels": {OWNER_LABEL: mark},
            "environment": {OWNER_ENV: mark, **(environment or {})},
            "cap_add": cap_add or [],
            **HELPER_SECURITY,
        }
        if entrypoint is not None:
            kwargs["entrypoint"] = entrypoint
        if network_mode:
            kwargs["network_mode"] = network_mode
        elif network:
            kwargs["network"] = network
        try:
            container = self.client.containers.run(image, command, **kwargs)
        except Exception as exc:
            raise RunFailed(f"cannot start helper container from {image}: {exc}") from None
        return container.id

    def helper_ids(self, mark: str | None = None) -> list[str]:
        """Helper containers of one fault (``mark``) or of any fault."""
        label = f"{OWNER_LABEL}={mark}" if mark else OWNER_LABEL
        return [c.id for c in self.client.containers.list(all=True, filters={"label": label})]

    def remove_helpers(self, mark: str | None = None) -> int:
        """Force-remove helper containers; idempotent."""
        removed = 0
        for cid in self.helper_ids(mark):
            try:
                self.client.containers.get(cid).remove(force=True)
                removed += 1
            except Exception:  # already gone
                continue
        return removed

    def wait_helper(self, container_id: str, timeout_s: float) -> tuple[int, str]:
        """Wait for a helper to exit; return its status and logs."""
        container = self.client.containers.get(container_id)
        status = container.wait(timeout=timeout_s)
        logs = container.logs().decode(errors="replace")
        return int(status.get("StatusCode", -1)), logs

    def container_ip(self, container_id: str, network: str) -> str:
        """The address of a container on one network."""
        container = self.client.containers.get(container_id)
        networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        address = (networks.get(network) or {}).get("IPAddress") or ""
        if not address:
            raise RunFailed(f"container {container.name} has no address on network {network}")
        return address

    def image_exists(self, image: str) -> bool:
        try:
            self.client.images.get(image)
        except Exception:
            return False
        return True

    # --- lifecycle -----------------------------------------------------------------------
    def state(self, target: Target) -> dict[str, Any]:
        return self.client.containers.get(target.container_id).attrs.get("State") or {}

    def pause(self, target: Target) -> None:
        self.client.containers.get(target.container_id).pause()

    def unpause(self, target: Target) -> None:
        container = self.client.containers.get(target.container_id)
        if (container.attrs.get("State") or {}).get("Paused"):
            container.unpause()

    def kill(self, target: Target) -> None:
        self.client.containers.get(target.container_id).kill()

    def start(self, target: Target) -> None:
        container = self.client.containers.get(target.container_id)
        if not (container.attrs.get("State") or {}).get("Running"):
            container.start()
