"""Dask worker plugins of the bench grid (imported only where dask.distributed is installed).

Why: a Dask worker is a separate interpreter, like the local bench worker (:mod:`.worker`). It
knows the package's methods, but not a user's own detector registered from a file of theirs; the
task then failed on the worker as "unknown detector". :class:`UserModules` imports those files on
every worker, those running now and those that join later, before any task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from faultlab.harness.evaluation.worker import import_files

#: one registration per cluster: a second bench on the same scheduler replaces the first's list
PLUGIN_NAME = "faultlab-user-modules"


class UserModules(WorkerPlugin):
    """Imports ``(module name, file)`` pairs on each worker (the files must exist at the same paths there)."""

    idempotent = False  # a later bench may bring other files: register again, replace

    def __init__(self, modules: Sequence[tuple[str, str]]) -> None:
        self.modules = [tuple(m) for m in modules]

    def setup(self, worker: Any) -> None:
        import_files(self.modules)
