"""The package's layers, in its imports: every module imports only from its own layer or below,
counting imports inside functions (lazy imports of framepick modules may not hide a cycle).

The layers, low to high; a module's place is the first layer naming it or its package. Lazy
imports of heavy third-party packages (decord, scenedetect, torch, ...) are not framepick's and
are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit" / "framepick"

LAYERS: list[set[str]] = [
    {"errors", "about"},
    {"checks", "sizes", "qwen_rules", "qwen_models"},  # limits, picture sizes, Qwen's rules: pure functions
    {"settings"},  # analysis and output settings
    {"types"},
    {"probe", "_kernels"},
    {"decode"},  # the frame sources (a package: its modules import each other)
    {"score", "scenes", "transitions", "states", "transnet"},
    {"cache", "analysis", "segments"},
    {"strategies"},  # one module per strategy and their registry: analyses (types) in, indices out
    {"select", "metrics"},
    {"outdir", "extract"},
    {"config", "pipeline", "qwen", "vllm_request", "limits", "export"},  # the job: strategy + settings + limits
    {"batch", "show"},
    {"widgets", "report", "cli"},
    {"__init__"},  # the package's lazy public names
]


def layer_of(module: str) -> int:
    """Layer of ``module`` (a dotted name inside the package, e.g. ``decode._gops``)."""
    top = module.split(".")[0] or "__init__"
    return next(number for number, names in enumerate(LAYERS) if top in names)


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported(path: Path, package_root: Path) -> set[str]:
    """Package-internal modules ``path`` imports anywhere in it (dotted, relative to the package;
    ``""`` for the package itself)."""
    name = module_name(path, package_root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith("framepick"):
                target = node.module.removeprefix("framepick").lstrip(".")
            else:
                continue
            # ``from . import cache``: the names may be modules
            found |= {f"{target}.{alias.name}".lstrip(".") if _is_module(f"{target}.{alias.name}", package_root)
                      else target for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name.removeprefix("framepick").lstrip(".") for alias in node.names
                      if alias.name.split(".")[0] == "framepick"}
    return found


def _is_module(dotted: str, package_root: Path) -> bool:
    relative = Path(*dotted.strip(".").split("."))
    return (package_root / relative).with_suffix(".py").is_file() or (package_root / relative / "__init__.py").is_file()


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """``"importer -> imported"`` for every import of a module from a higher layer."""
    edges = []
    for path in sorted(package.rglob("*.py")):
        importer = module_name(path, package)
        for target in sorted(imported(path, package)):
            if layer_of(target) > layer_of(importer):
                edges.append(f"{importer or 'framepick'} -> {target or 'framepick'}")
    return edges


def test_every_module_has_a_layer():
    tops = {module_name(path, PACKAGE).split(".")[0] or "__init__" for path in PACKAGE.rglob("*.py")}
    assert tops <= set().union(*LAYERS), sorted(tops - set().union(*LAYERS))


def test_no_module_imports_from_a_higher_layer():
    assert upward_imports() == []


def test_an_upward_import_is_found(tmp_path):
    """The check itself: an import of the pipeline planted in a low module is caught."""
    planted = tmp_path / "framepick"
    for path in PACKAGE.rglob("*.py"):
        target = planted / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    probe = planted / "probe" / "_open.py"
    probe.write_text(probe.read_text() + "\n\ndef _planted():\n    from ..pipeline import sample\n")
    assert upward_imports(planted) == ["probe._open -> pipeline"]


def test_every_registered_name_is_served():
    """The registries the command line, the config and the widgets read name what the layers
    below serve: each detector builds, each strategy selects, each backend resolves."""
    from framepick.decode import BACKEND_NAMES, resolve_backend
    from framepick.scenes import make_detector
    from framepick.select import select
    from framepick.settings import BACKENDS, DETECTORS
    from framepick.strategies import STRATEGIES
    from helpers import synthetic_analysis

    assert [resolve_backend(name) for name in BACKENDS] == ["pyav", *BACKEND_NAMES]
    assert all(make_detector(name) is not None for name in DETECTORS)
    analysis = synthetic_analysis(frames=3000)
    assert all(len(select(analysis, name)) > 0 for name in STRATEGIES)
