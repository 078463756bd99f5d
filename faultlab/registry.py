"""One name -> object registry per concept (faults, detectors, classifiers, metrics, datasets).

Adding a fault, detector or metric is one module plus one ``@REGISTRY.register("name")`` line;
it then shows up in ``faultlab list`` and scenarios can refer to it by that name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from faultlab.errors import BadInput

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection with a clear error that lists the valid names on a miss."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@FAULTS.register("cpu")`` above a class or function.

        The name is written once: a registered class gets it as its ``name`` attribute.
        """

        def deco(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            if isinstance(obj, type):
                obj.name = name  # type: ignore[attr-defined]
            self._items[name] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` without a decorator."""
        return self.register(name)(obj)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items)) or "(none)"
            raise BadInput(f"unknown {self.kind} {name!r}; valid: {valid}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        return [(k, self._items[k]) for k in self.names()]


def import_all(package: str, path: Iterable[str]) -> list[str]:
    """Import every module of ``package`` (its ``__path__``), so each registers itself.

    Adding a fault, detector or classifier is then one new file: nothing to list by hand.
    Modules whose name starts with ``_`` are skipped (private helpers).
    """
    names = sorted(m.name for m in pkgutil.iter_modules(list(path)) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names
