"""Import every module the app can reach, once, before any page runs.

Streamlit runs each session's script in its own thread. When several sessions reach a fresh
server at the same moment, their pages import ``metrics``, ``exports`` and ``loaders`` modules in
different orders (some imports are deferred into functions), and Python's per-module import locks
can then deadlock (``_DeadlockError``, seen in the concurrent-users load test). app.py imports this
module first: the first session imports everything in one fixed order while the others wait for it.
"""

import importlib
import pkgutil

PACKAGES = ("loaders", "metrics", "exports", "ui")


def _import_all() -> list[str]:
    imported = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
            if module.name.endswith(("__main__", ".preload")):
                continue
            importlib.import_module(module.name)
            imported.append(module.name)
    return imported


MODULES = _import_all()
