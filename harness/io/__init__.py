"""Data in and out: foreign benchmark layouts -> Faultlab datasets, and datasets -> those layouts.

``import_dataset("timeeval", "x.csv")`` reads one format (``IMPORTERS`` lists them: ``timeeval``,
``tsb-ad``, ``smd``, ``microservice``); ``resolve_spec("smd:ROOT")`` does the same for the
``--dataset FORMAT:PATH`` form; ``export_dataset(data, "tsb-ad", out)`` writes the other way.
"""

from faultlab.harness.io.export import EXPORTERS, export_dataset
from faultlab.harness.io.formats import IMPORTERS, import_dataset, is_spec, resolve_spec

__all__ = ["EXPORTERS", "IMPORTERS", "export_dataset", "import_dataset", "is_spec", "resolve_spec"]
