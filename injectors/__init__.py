"""Fault injectors: one module per fault type, the scheduler, the ground-truth log, cleanup.

Importing this package registers every fault type in :data:`FAULTS`.
"""

from injectors.registry import FAULTS

__all__ = ["FAULTS"]
