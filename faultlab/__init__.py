"""Faultlab: a testbed and benchmark harness for anomaly detectors on microservice metrics.

This folder is the shared foundation, the one layer every other part may import and that
imports none of them: :mod:`faultlab.errors` (the two failure kinds), :mod:`faultlab.registry`
(one name -> object registry per concept) and :mod:`faultlab.dataset` (the dataset format).
The parts live in the repository's top-level folders and install as subpackages:

    testbed/   -> faultlab.testbed     the Compose stack and its lifecycle
    injectors/ -> faultlab.injectors   one module per fault type, schedule, ground truth
    detectors/ -> faultlab.detectors   one module per detector or classifier
    harness/   -> faultlab.harness     scenarios, runner, collection, scoring, reports, CLI

Layers run one way: foundation <- testbed, injectors, detectors <- harness <- CLI.
"""

__version__ = "0.2.0"
