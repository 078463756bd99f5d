"""Live detection: fitted detectors scoring each new scrape as it arrives.

Used by ``faultlab run`` (a scenario's ``evaluate.live``) and ``faultlab watch`` (a saved model
against any Prometheus). One job per module:

* :mod:`.stream`: a step of a stream, the sources of steps, the rolling buffer detectors score;
* :mod:`.poller`: steps from a Prometheus server, one per scrape, through the collector's own path;
* :mod:`.replay`: steps from a recorded dataset, one at a time (tests and the offline comparison);
* :mod:`.scorer`: detectors on a buffer: a score per step, alarms with their top suspects;
* :mod:`.files`: where live detection writes in a run folder;
* :mod:`.journal`: ``alerts.jsonl`` (fsynced like the ground truth) and the per-step score log;
* :mod:`.models`: fitted detectors saved for ``watch`` with what the stream must look like;
* :mod:`.cpubound`: a low-weight CPU cgroup (or a documented fallback) for the live process;
* :mod:`.session`: the live process of a run (collect training data, fit, score until stopped);
* :mod:`.process`: the run's handle on that process (start bounded, sample its CPU, stop it);
* :mod:`.report`: the live figures of a run folder (time to detect, missed, false alarms, cost).
"""
