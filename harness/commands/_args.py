"""Small argument parsers shared by bench, check and compare (comma lists, seeds, KEY=VALUE)."""

from __future__ import annotations

from faultlab.errors import BadInput


def name_list(text: str | None, option: str) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]``; ``None`` stays None (use the default); ``"none"`` -> []."""
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return []
    names = [part.strip() for part in text.split(",")]
    if any(not n for n in names):
        raise BadInput(f"{option} {text!r}: empty name in the comma-separated list")
    return names


def seed_list(text: str | None) -> list[int] | None:
    """``"0,1,2"`` -> ``[0, 1, 2]``; BadInput names a value that is not a non-negative integer."""
    if text is None:
        return None
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():
            raise BadInput(f"--seeds {text!r}: {part!r} is not a non-negative integer")
        seeds.append(int(part))
    if not seeds:
        raise BadInput("--seeds: give at least one seed")
    return seeds


def float_pairs(items: list[str] | None, option: str) -> dict[str, float]:
    """``["vus_pr=0.05"]`` -> ``{"vus_pr": 0.05}``."""
    out: dict[str, float] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise BadInput(f"{option} {item!r}: expected METRIC=NUMBER")
    return out
