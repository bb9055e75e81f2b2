"""Helpers shared by the tests (imported as ``helpers``; no test module imports another)."""

from __future__ import annotations

from pathlib import Path

from framepick.outdir import RESERVED


def listing(out: Path) -> list[str]:
    """Names in an output folder, the tool's own ``.framepick`` left out once it is checked to
    hold no staging or replaced extraction (nothing half written, nothing stale)."""
    own = out / RESERVED
    for kind in ("staging", "replaced"):
        assert not (own / kind).exists() or list((own / kind).iterdir()) == [], f"{own / kind} is not empty"
    return sorted(p.name for p in out.iterdir() if p.name != RESERVED)
