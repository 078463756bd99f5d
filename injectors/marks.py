"""The owner marks every artefact of a fault carries, so cleanup finds leftovers after a SIGKILL.

Processes get ``FAULTLAB_OWNER=faultlab:<fault_id>`` in their environment, helper containers
the label ``faultlab.owner``, firewall rules a ``--comment``, qdiscs one fixed handle.
"""

from __future__ import annotations

OWNER_PREFIX = "faultlab:"
OWNER_ENV = "FAULTLAB_OWNER"
OWNER_LABEL = "faultlab.owner"
# tc qdisc handle used for every qdisc a fault installs: cleanup removes only this handle.
QDISC_HANDLE = "4fa1:"


def owner_mark(fault_id: str) -> str:
    """The mark every artefact of one fault carries (``faultlab:<fault_id>``)."""
    return f"{OWNER_PREFIX}{fault_id}"
