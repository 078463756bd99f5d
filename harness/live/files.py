"""Where live detection writes in a run folder; standard library only, so the live process can
name its status file before it has imported anything heavy (a starved process must still say so)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ALERTS_FILE = "alerts.jsonl"


@dataclass(frozen=True)
class LiveFiles:
    """The live files of run folder ``run`` (DESIGN.md: ``alerts.jsonl`` at the top, the rest in ``live/``)."""

    run: Path

    @property
    def alerts(self) -> Path:
        return self.run / ALERTS_FILE

    @property
    def dir(self) -> Path:
        return self.run / "live"

    @property
    def scores(self) -> Path:
        """One line per step and detector (:meth:`.journal.Verdict.score_record`)."""
        return self.dir / "scores.jsonl"

    @property
    def status(self) -> Path:
        """The live process's state, fit costs and counts (:mod:`.session`), rewritten atomically."""
        return self.dir / "status.json"

    @property
    def usage(self) -> Path:
        """The runner's view of the live process: its CPU bound and the cores it used per phase (:mod:`.process`)."""
        return self.dir / "usage.json"

    @property
    def config(self) -> Path:
        return self.dir / "config.json"

    @property
    def log(self) -> Path:
        return self.dir / "session.log"

    @property
    def models(self) -> Path:
        """One saved model per live detector (:mod:`.models`), for re-scoring and ``faultlab watch``."""
        return self.dir / "models"

    @property
    def report(self) -> Path:
        """The live figures (:mod:`.report`)."""
        return self.dir / "report.json"
