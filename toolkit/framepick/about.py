"""What framepick is: its version and its bundled sample video (the bottom layer: no imports)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["__version__", "sample_video"]

__version__ = "0.1.0"


def sample_video() -> Path:
    """Path of the bundled sample: 30 s of *Big Buck Bunny* (CC-BY 3.0, Blender Foundation)."""
    return Path(__file__).parent / "data" / "big_buck_bunny_0_30.webm"
