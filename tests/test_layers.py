"""Imports go one way (docs/ARCHITECTURE.md):

    app.py, app_pages/ → ui → views → metrics → store
    loaders → store            exports → views

Read from the source with ``ast``, so an import inside a function counts like one at the top. The
module graph of the project has no cycle (two sessions importing modules in different orders then
cannot deadlock on Python's per-module import locks), and ten threads of a fresh interpreter
importing every module in ten different orders finish without ``_DeadlockError``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app_pages", "ui", "views", "exports", "metrics", "loaders", "store")

# Which package may import which (besides itself). A package absent from this checkout (views/, while
# it is being written) simply has no modules.
ALLOWED = {
    "app": {"app_pages", "ui", "views", "exports", "metrics", "loaders", "store"},
    "app_pages": {"ui", "views", "exports", "metrics", "loaders", "store"},
    "ui": {"views", "metrics", "loaders", "store"},  # loaders: the demo database on first start, uploads
    "exports": {"views", "metrics", "store"},
    "views": {"metrics", "store"},
    "metrics": {"store"},
    "loaders": {"store"},
    "store": set(),
}
# Command lines (``python -m loaders|metrics|exports``) are entry points like app.py, without a browser.
ENTRY_POINT_ALLOWED = {"views", "exports", "metrics", "loaders", "store"}
# Packages that must run without Streamlit: the command lines and the build use them.
WITHOUT_STREAMLIT = ("views", "exports", "metrics", "loaders", "store")


def project_modules() -> dict[str, Path]:
    modules = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


MODULES = project_modules()


def _target(name: str) -> str | None:
    """The project module an import name loads (``metrics.views.build_info`` → ``metrics.views``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path) -> list[tuple[str, int, str]]:
    """(imported project module, line, 'top'|'deferred') of every executed import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    typing_only = {  # under ``if TYPE_CHECKING:``: never executed
        id(inner)
        for node in tree.body
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _target(name)
            if target and target != module:
                found.append((target, node.lineno, "top" if id(node) in top_level else "deferred"))
    return found


def _package(module: str) -> str:
    return module.split(".")[0]


def test_every_package_imports_only_the_layers_below_it():
    assert MODULES.keys() >= {"metrics", "store", "loaders", "ui", "exports"}  # the walk found the project
    wrong = []
    for module, path in MODULES.items():
        source = _package(module)
        allowed = ENTRY_POINT_ALLOWED if module.endswith(".__main__") else ALLOWED[source]
        for target, line, where in imports_of(module, path):
            if _package(target) in (source, *allowed):
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{line} ({where}) imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_packages_below_ui_run_without_streamlit():
    wrong = []
    for module, path in MODULES.items():
        if _package(module) not in WITHOUT_STREAMLIT:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(name == "streamlit" or name.startswith("streamlit.") for name in names):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not wrong, "Streamlit imported below ui/: " + ", ".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def import_graph() -> dict[str, set[str]]:
    """Module → the modules importing it waits for. A submodule also waits for its package: Python takes
    ``metrics.tables``' lock, then runs ``metrics/__init__.py`` if it has not run; so a package whose
    ``__init__`` imports its own submodules is a cycle (two sessions importing two of them deadlock)."""
    graph = {module: {target for target, _, _ in imports_of(module, path)} for module, path in MODULES.items()}
    for module in MODULES:
        parent = module.rpartition(".")[0]
        if parent in MODULES:
            graph[module].add(parent)
    return graph


def test_the_module_graph_has_no_cycle():
    graph = import_graph()
    cycles = _cycles(graph)
    assert not cycles, "import cycles (a deferred import counts too): " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_deferred_project_imports_are_only_for_heavy_optional_libraries():
    """An import inside a function is there to keep start-up light (python-pptx, kaleido), never to
    dodge a cycle: the modules that defer a project import are exactly these."""
    deferring = {
        module
        for module, path in MODULES.items()
        for _, _, where in imports_of(module, path)
        if where == "deferred" and not module.startswith("app_pages.")
    }
    # exports.__main__: `png` must not load python-pptx, `deck` must not need kaleido until it draws.
    assert deferring <= {"exports.__main__"}, deferring


IMPORT_IN_THREADS = textwrap.dedent(
    """
    import importlib, json, random, sys, threading, traceback
    modules = json.loads(sys.argv[1])
    for library in json.loads(sys.argv[2]):  # third-party packages are already loaded, see the test
        try:
            importlib.import_module(library)
        except ImportError:
            pass
    barrier = threading.Barrier(len(modules))
    errors = []

    def run(order):
        barrier.wait()
        for name in order:
            try:
                importlib.import_module(name)
            except BaseException as exc:
                errors.append(f"{name}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(order,)) for order in modules]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    print(json.dumps({"errors": errors, "alive": sum(t.is_alive() for t in threads)}))
    """
)


def third_party_packages() -> list[str]:
    names = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return sorted(names - set(sys.stdlib_module_names) - {"app", *PACKAGES})


def test_ten_threads_import_the_app_modules_in_different_orders_without_deadlock():
    """The project's own modules, in ten orders at once. Third-party packages are imported first:
    some have import cycles among themselves (pandas ↔ pyarrow), and in the app every session's first
    import is app.py's same ``from ui import …``, so their first import happens once, in one order."""
    import random

    names = sorted(m for m in MODULES if _package(m) not in ("app", "app_pages") and not m.endswith(".__main__"))
    generator = random.Random(17)
    orders = [names, names[::-1]] + [generator.sample(names, len(names)) for _ in range(8)]
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_IN_THREADS, json.dumps(orders), json.dumps(third_party_packages())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"errors": [], "alive": 0}, outcome
