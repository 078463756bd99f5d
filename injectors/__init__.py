"""Fault injectors: one module per fault type, the scheduler, the ground-truth log, cleanup.

Importing this package imports every module in it, so each fault type registers itself in
:data:`FAULTS`: adding a fault is one new file with ``@FAULTS.register("name")`` above its class.
"""

from faultlab.injectors.registry import FAULTS
from faultlab.registry import import_all

import_all(__name__, __path__)

__all__ = ["FAULTS"]
