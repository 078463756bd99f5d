"""The fault registry (``injectors.FAULTS``): fault modules register their class here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faultlab.registry import Registry

if TYPE_CHECKING:
    from faultlab.injectors.base import Fault

FAULTS: Registry[type[Fault]] = Registry("fault")
