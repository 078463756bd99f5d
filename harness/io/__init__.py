"""Data in and out: foreign benchmark layouts -> Faultlab datasets, and datasets -> those layouts.

``import_dataset("timeeval", "x.csv")`` reads one format (``IMPORTERS`` lists them: ``timeeval``,
``tsb-ad``, ``smd``, ``microservice``, ``rcaeval``); ``resolve_spec("smd:ROOT")`` does the same for
the ``--dataset FORMAT:PATH`` form; ``export_dataset(data, "tsb-ad", out)`` writes the other way
(``timeeval``, ``tsb-ad``, ``rcaeval``). Every import counts what it changed in
``meta["import"]["summary"]`` (:mod:`~faultlab.harness.io.summary`); the rules (non-finite values
masked, ``order``, ``fill_gaps``, ``train_end``) are in :mod:`~faultlab.harness.io.parsing`.
"""

from faultlab.harness.io.export import EXPORTERS, export_dataset
from faultlab.harness.io.formats import IMPORTERS, import_dataset, is_spec, resolve_spec

__all__ = ["EXPORTERS", "IMPORTERS", "export_dataset", "import_dataset", "is_spec", "resolve_spec"]
