"""Kill a service container and start it again when the fault ends.

The container is stopped with a zero grace period (SIGKILL at once), which also keeps Docker's
restart policy from bringing it back before the fault ends. A marker file written before the
kill lets ``faultlab clean`` restart it after a SIGKILL of the harness.
"""

from __future__ import annotations

import os
from pathlib import Path

from faultlab.injectors.base import EffectSpec, Fault, FaultParams
from faultlab.injectors.registry import FAULTS


def state_dir() -> Path:
    """Where kill markers live (``FAULTLAB_STATE_DIR``, default ``~/.cache/faultlab/killed``)."""
    default = Path.home() / ".cache" / "faultlab" / "killed"
    return Path(os.environ.get("FAULTLAB_STATE_DIR", default))


class KillParams(FaultParams):
    pass


@FAULTS.register("kill")
class KillFault(Fault):
    Params = KillParams
    mechanisms = ("docker-kill",)
    needs = ()
    description = "kill the target container (SIGKILL) and start it again afterwards"

    def _marker(self) -> Path:
        return state_dir() / self.ctx.target.container_id

    def effect(self, duration_s: float) -> EffectSpec:
        return EffectSpec("down", "fraction of samples", "up", expected=1.0, min_fraction=0.6)

    def apply(self, duration_s: float) -> str:
        marker = self._marker()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(self.ctx.mark)
        self.ctx.ops.client.containers.get(self.ctx.target.container_id).stop(timeout=0)
        return "docker-kill"

    def revert(self) -> None:
        self.ctx.ops.start(self.ctx.target)
        self._marker().unlink(missing_ok=True)
