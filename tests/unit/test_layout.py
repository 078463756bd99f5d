"""The package layout: one ``faultlab`` import package, layers that run one way, no import circles."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: repository folder -> import package (the mapping in pyproject.toml)
PARTS = {"faultlab": "faultlab", "testbed": "faultlab.testbed", "injectors": "faultlab.injectors",
         "detectors": "faultlab.detectors", "harness": "faultlab.harness"}
#: which parts each part may import (besides itself); the foundation imports none.
ALLOWED = {
    "faultlab": set(),
    "faultlab.testbed": {"faultlab"},
    "faultlab.injectors": {"faultlab", "faultlab.testbed"},
    "faultlab.detectors": {"faultlab"},
    "faultlab.harness": {"faultlab", "faultlab.testbed", "faultlab.injectors", "faultlab.detectors"},
}
OLD_TOP_LEVEL = ("harness", "detectors", "injectors", "testbed")


def _modules() -> dict[str, Path]:
    """Every module of the import package, by dotted name (testbed/app runs in containers: skipped)."""
    out: dict[str, Path] = {}
    for folder, package in PARTS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder)
            if folder == "testbed" and rel.parts[0] == "app":
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Project modules imported anywhere in the file (function-level imports included)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return {m for m in found if m == "faultlab" or m.startswith("faultlab.")}


def _part(module: str) -> str:
    for package in sorted(PARTS.values(), key=len, reverse=True):
        if module == package or module.startswith(package + "."):
            return package
    raise AssertionError(module)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(name, path):
            while imported and imported not in modules:  # "pkg.mod.Name" -> "pkg.mod"
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def test_every_package_folder_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    for folder, package in PARTS.items():
        assert config["package-dir"][package] == folder
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            dotted = ".".join([package, *rel.parts])
            assert dotted in listed, f"{init.parent} is a package but not listed in pyproject.toml"


def test_no_module_imports_the_old_top_level_names() -> None:
    for path in [*ROOT.glob("*/**/*.py")]:
        if ".venv" in path.parts or "app" in path.relative_to(ROOT).parts[:2]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for n in names:
                assert n.split(".")[0] not in OLD_TOP_LEVEL, f"{path}: imports {n!r}; use faultlab.{n}"


def test_layers_run_one_way() -> None:
    for module, targets in _graph().items():
        for target in targets:
            src, dst = _part(module), _part(target)
            assert dst == src or dst in ALLOWED[src], f"{module} imports {target}: {src} may not import {dst}"


def test_no_import_circle_between_files() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                if nxt == _package_of(node):  # a module importing its own package's __init__
                    continue
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def _package_of(module: str) -> str:
    return module.rpartition(".")[0]


def test_the_wheel_installs_only_the_faultlab_package(tmp_path) -> None:
    """``pip install .`` puts ``faultlab`` at the top level and nothing named harness/detectors/..."""
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("faultlab-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"faultlab"}
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "faultlab/detectors/base.py" in names and "faultlab/harness/cli.py" in names
    assert any(n.startswith("faultlab/testbed/app/") for n in names)  # package data travels


#: Top-level names of the project's own code (import package, the containers' ``app``, test helpers).
OWN_CODE = ("faultlab", "app", "tests", *OLD_TOP_LEVEL)


def _repository_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not {".venv", ".git", "build"} & set(p.relative_to(ROOT).parts)]


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in ("ImportError", "ModuleNotFoundError") for k in kinds)


def _imported_tops(body: list[ast.stmt]) -> set[str]:
    tops = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Import):
                tops.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                tops.add("<relative>" if node.level else (node.module or "").split(".")[0])
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
                tops.add("<dynamic>")
    return tops


def test_import_errors_are_caught_only_around_optional_extras() -> None:
    """A guarded import of the project's own code hides a broken module (a clean-up was once
    silently skipped that way); only an optional extra may be guarded, and its handler must
    tell the user what to install."""
    for path in _repository_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            for handler in node.handlers:
                if handler.type is None or not _catches_import_error(handler):
                    continue
                where = f"{path.relative_to(ROOT)}:{handler.lineno}"
                tops = _imported_tops(node.body)
                own = tops & {*OWN_CODE, "<relative>"}
                assert not own, f"{where}: 'except ImportError' around the project's own modules {sorted(own)}"
                assert tops, f"{where}: 'except ImportError' around a block that imports nothing"
                text = ast.unparse(handler)
                assert "install" in text, f"{where}: an optional extra's ImportError must say what to install"
