"""Fault injectors: one module per fault type, the scheduler, the ground-truth log, cleanup.

Importing this package registers every fault type in :data:`FAULTS`.
"""

from injectors.registry import FAULTS

# one import per fault module: importing registers it
from injectors import cpu as _cpu  # noqa: E402,F401
from injectors import disk as _disk  # noqa: E402,F401
from injectors import kill as _kill  # noqa: E402,F401
from injectors import latency as _latency  # noqa: E402,F401
from injectors import memory_alloc as _memory_alloc  # noqa: E402,F401
from injectors import memory_leak as _memory_leak  # noqa: E402,F401
from injectors import network_overload as _network_overload  # noqa: E402,F401
from injectors import packet_loss as _packet_loss  # noqa: E402,F401
from injectors import pause as _pause  # noqa: E402,F401
from injectors import traffic as _traffic  # noqa: E402,F401

__all__ = ["FAULTS"]
