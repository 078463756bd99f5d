"""A foreign metric's group and unit: guessed from its name by one documented table, or given in a file.

The name is cut into lower-case words at anything that is not a letter or a digit, at camelCase
humps and at the boundary between letters and digits (``container_cpu_usage_seconds_total`` -> container, cpu,
usage, seconds, total; ``latency-90`` -> latency, 90). The first row whose words match decides:

=============  ===================================================================  ==========================
group          words (any of)                                                       unit
=============  ===================================================================  ==========================
cpu            cpu, cpus, cores                                                     ``%`` with pct, percent,
                                                                                    util, utilization; else
                                                                                    ``cores``
memory         mem, memory, rss, working (working_set), workingset, heap, swap      ``%`` as above; ``MB`` with
                                                                                    mb, mib; else ``bytes``
network        net, network, rx, tx, receive, received, transmit, transmitted,      ``bytes`` with bytes,
               sent, recv, packets, tcp, udp, socket, bandwidth                     ``packets`` with packets
disk           disk, io, fs, blkio, iops, diskio, filesystem                        ``bytes`` with bytes
application    latency, lat, duration, rt, response                                 ``bytes`` with bytes;
                                                                                    ``ms`` with ms, msec,
                                                                                    millis, milliseconds;
                                                                                    ``us`` with us, micros,
                                                                                    microseconds; else ``s``
application    error, errors, fail, failed, failure, failures                       ``errors``
application    request, requests, req, qps, rps, calls, throughput                  ``requests``
disk           read, reads, write, writes, written (after the rows above)           ``bytes`` with bytes
application    anything else                                                        (empty)
=============  ===================================================================  ==========================

A unit gets ``/s`` when a word says the value is a rate (rate, qps, rps, ps, persec, or per
followed by s, sec or second). A columns file (``--option columns=FILE``) overrides the guess:
CSV with a header ``name,group,unit`` (``kind`` optional), or YAML/JSON, a list of
``{name, group, unit, kind}``; ``name`` is a column name or a metric name (then every
service's column of that metric), and a row that matches nothing is BadInput (a typo would
otherwise change nothing, silently).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from faultlab.dataset import METRIC_GROUPS
from faultlab.documents import read_document
from faultlab.errors import BadInput

WORDS = re.compile(r"[a-z]+|[0-9]+")
CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
PERCENT = {"pct", "percent", "percentage", "util", "utilization", "utilisation"}
#: (group, words, unit rule) in the order they are tried; see the module docstring's table.
RULES: tuple[tuple[str, frozenset[str], str], ...] = (
    ("cpu", frozenset({"cpu", "cpus", "cores"}), "cpu"),
    ("memory", frozenset({"mem", "memory", "rss", "working", "workingset", "heap", "swap"}), "memory"),
    ("network", frozenset({"net", "network", "rx", "tx", "receive", "received", "transmit", "transmitted", "sent", "recv",
                           "packets", "tcp", "udp", "socket", "bandwidth"}), "volume"),
    ("disk", frozenset({"disk", "io", "fs", "blkio", "iops", "diskio", "filesystem"}), "volume"),
    ("application", frozenset({"latency", "lat", "duration", "rt", "response"}), "time"),
    ("application", frozenset({"error", "errors", "fail", "failed", "failure", "failures"}), "errors"),
    ("application", frozenset({"request", "requests", "req", "qps", "rps", "calls", "throughput"}), "requests"),
    ("disk", frozenset({"read", "reads", "write", "writes", "written"}), "volume"),
)
TABLE_KEYS = {"name", "group", "unit", "kind"}


def words_of(name: str) -> list[str]:
    """Lower-case words of a metric name (camelCase split too: ``cpuUsage`` -> cpu, usage)."""
    return WORDS.findall(CAMEL.sub(" ", name).lower())


def _is_rate(words: Sequence[str]) -> bool:
    if {"rate", "qps", "rps", "ps", "persec"} & set(words):
        return True
    return any(a == "per" and b in ("s", "sec", "second") for a, b in zip(words, words[1:]))


def _unit(rule: str, words: list[str]) -> str:
    found = set(words)
    if rule in ("cpu", "memory") and found & PERCENT:
        return "%"
    if rule == "cpu":
        return "cores"
    if rule == "memory":
        return "MB" if found & {"mb", "mib"} else "bytes"
    if rule == "time" and "bytes" in found:
        rule = "volume"  # response_size_bytes: a size, not a time
    elif rule == "time":
        if found & {"ms", "msec", "millis", "milliseconds"}:
            return "ms"
        return "us" if found & {"us", "usec", "micros", "microseconds"} else "s"
    if rule == "volume":
        unit = "bytes" if "bytes" in found else "packets" if "packets" in found else ""
    else:
        unit = rule
    return f"{unit}/s" if unit and _is_rate(words) else unit


def group_and_unit(metric: str) -> tuple[str, str]:
    """``(group, unit)`` for a metric name by the table in the module docstring."""
    words = words_of(metric)
    for group, keys, rule in RULES:
        if keys & set(words):
            return group, _unit(rule, words)
    return "application", ""


def guessed_table(columns: Sequence[tuple[str, str, str]]) -> list[dict[str, str]]:
    """Column-table rows for ``(name, service, metric)`` triples, group and unit guessed from the metric."""
    rows = []
    for name, service, metric in columns:
        group, unit = group_and_unit(metric)
        rows.append({"name": name, "service": service, "metric": metric, "group": group, "kind": "gauge", "unit": unit})
    return rows


def _entries(file: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(where, row)`` pairs of a columns file: ``file: line N`` for CSV, ``file: columns[i]`` otherwise."""
    if file.suffix.lower() == ".csv":
        if not file.is_file():
            raise BadInput(f"import option columns: {file}: no such file")
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True)
        frame.columns = [str(c).strip() for c in frame.columns]
        return [(f"{file}: line {i + 2}", {k: v.strip() for k, v in row.items() if v.strip()})
                for i, row in enumerate(frame.to_dict("records"))]
    doc = read_document(file, label=f"import option columns: {file}")
    doc = doc.get("columns") if isinstance(doc, dict) else doc
    if not isinstance(doc, list) or not all(isinstance(row, dict) for row in doc):
        raise BadInput(f"{file}: expected a list of {{name, group, unit}} mappings (or a mapping with 'columns:')")
    return [(f"{file}: columns[{i}]", {k: str(v) for k, v in row.items()}) for i, row in enumerate(doc)]


def apply_columns_file(table: list[dict[str, str]], file: str | Path) -> list[dict[str, str]]:
    """``table`` with the groups, units and kinds a columns file gives; BadInput names the line or entry."""
    file = Path(file)
    out = [dict(row) for row in table]
    for where, entry in _entries(file):
        unknown = sorted(set(entry) - TABLE_KEYS)
        if unknown:
            raise BadInput(f"{where}: unknown field {unknown[0]!r}; valid: {', '.join(sorted(TABLE_KEYS))}")
        name = entry.get("name")
        if not name:
            raise BadInput(f"{where}: field 'name' is missing")
        if "group" in entry and entry["group"] not in METRIC_GROUPS:
            raise BadInput(f"{where}: group {entry['group']!r} is not one of {', '.join(METRIC_GROUPS)}")
        if "kind" in entry and entry["kind"] not in ("counter", "gauge"):
            raise BadInput(f"{where}: kind {entry['kind']!r} is not counter or gauge")
        hits = [row for row in out if row["name"] == name] or [row for row in out if row["metric"] == name]
        if not hits:
            raise BadInput(f"{where}: {name!r} matches no column and no metric of the data")
        for row in hits:
            row.update({k: v for k, v in entry.items() if k != "name"})
    return out
