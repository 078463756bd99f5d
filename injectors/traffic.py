"""Traffic anomalies (DCRNN paper, seed 002) against a service through a load-generator helper.

A helper container from the Locust image joins the target's project network and runs
``testbed/app/loadgen/attacks.py`` (its source is passed on the command line, so the image
needs nothing but Python) against ``http://<target>:8080``. The helper carries the owner label;
revert removes it.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from pydantic import Field

from faultlab.errors import RunFailed
from faultlab.injectors.base import EffectSpec, Fault, FaultParams
from faultlab.injectors.registry import FAULTS

ATTACKS = Path(__file__).resolve().parent.parent / "testbed" / "app" / "loadgen" / "attacks.py"
LOCUST_IMAGE = "faultlab/locust"
LOCUST_IMAGE_LABEL = "org.faultlab.image=locust"


def locust_image(ops) -> str:
    """The Locust image: the one labelled ``org.faultlab.image=locust`` (any tag)."""
    images = ops.client.images.list(filters={"label": LOCUST_IMAGE_LABEL})
    if images:
        return images[0].id
    for tag in (LOCUST_IMAGE, f"{LOCUST_IMAGE}:dev", f"{LOCUST_IMAGE}:latest"):
        if ops.image_exists(tag):
            return tag
    raise RunFailed(f"the load-generator image {LOCUST_IMAGE} is not built; run 'faultlab testbed build'")


class TrafficFault(Fault):
    """Common apply/revert: one helper container running one attack mode."""

    mode: str
    mechanisms = ("attacks.py",)
    needs = ("locust_image",)
    port = 8080

    @abstractmethod
    def attack_args(self, duration_s: float) -> list[str]:
        """The attack's command-line arguments for these params."""

    def apply(self, duration_s: float) -> str:
        ctx = self.ctx
        command = ["python3", "-c", ATTACKS.read_text(), self.mode,
                   "--url", f"http://{ctx.target.service}:{self.port}",
                   "--duration-s", str(int(duration_s) + 5), *self.attack_args(duration_s)]
        ctx.ops.run_helper(locust_image(ctx.ops), command, ctx.mark,
                           network=ctx.target.networks[0], entrypoint=[])
        return f"attacks.py:{self.mode}"

    def revert(self) -> None:
        self.ctx.ops.remove_helpers(self.ctx.mark)


class HttpFloodParams(FaultParams):
    users_factor: float = Field(default=5.0, gt=1, le=100)
    base_users: int = Field(default=10, ge=1, le=1000)


@FAULTS.register("http_flood")
class HttpFloodFault(TrafficFault):
    dataset_metrics = ("request_rate",)
    Params = HttpFloodParams
    mode = "flood"
    description = "users_factor x base_users extra users requesting back to back"
    params: HttpFloodParams

    def effect(self, duration_s: float) -> EffectSpec:
        return EffectSpec("rx_packets_per_s", "packets/s", "up", min_ratio=1.5, min_abs=20.0)

    def attack_args(self, duration_s: float) -> list[str]:
        users = int(round(self.params.users_factor * self.params.base_users))
        return ["--users", str(min(users, 500))]


class SlowClientsParams(FaultParams):
    connections: int = Field(default=50, ge=1, le=500)
    interval_s: float = Field(default=5.0, gt=0, le=60)


@FAULTS.register("slow_clients")
class SlowClientsFault(TrafficFault):
    dataset_metrics = ("in_flight",)
    Params = SlowClientsParams
    mode = "slow"
    description = "hold `connections` unfinished requests open (slowloris-style, bounded)"
    params: SlowClientsParams

    def effect(self, duration_s: float) -> EffectSpec:
        # inbound only: the target's own pools to its callees expire with the previous load
        return EffectSpec("tcp_inbound", "connections", "up",
                          expected=float(self.params.connections))

    def attack_args(self, duration_s: float) -> list[str]:
        p = self.params
        return ["--connections", str(p.connections), "--interval-s", str(p.interval_s)]


class BotBurstParams(FaultParams):
    endpoint: str = Field(default="/products", pattern=r"^/[A-Za-z0-9_./{}-]*$")
    bots: int = Field(default=20, ge=1, le=500)
    rate_rps: float = Field(default=100.0, gt=0, le=10000)


@FAULTS.register("bot_burst")
class BotBurstFault(TrafficFault):
    dataset_metrics = ("request_rate",)
    Params = BotBurstParams
    mode = "bot"
    description = "bots hammer one endpoint at rate_rps requests/s"
    params: BotBurstParams

    def effect(self, duration_s: float) -> EffectSpec:
        return EffectSpec("rx_packets_per_s", "packets/s", "up", min_ratio=1.5, min_abs=20.0)

    def attack_args(self, duration_s: float) -> list[str]:
        p = self.params
        return ["--endpoint", p.endpoint, "--bots", str(p.bots), "--rate-rps", str(p.rate_rps)]
