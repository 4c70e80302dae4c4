"""The demo's gates file: the packaged defaults, but evidence a person can make by hand.

`rollout advance` refuses a step on fewer than `min_log_requests` requests in the window
(100 by default: fewer is not evidence of anything). A person browsing the demo's gallery
makes about 15 image requests a page, so the demo asks for 20 and says so; every other
gate and target is the product's own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_MIN_LOG_REQUESTS = 20
_DEFAULT_LINE = "min_log_requests = 100"


def write_demo_gates(folder: Path) -> Path:
    """``folder/demo-gates.toml``: the defaults with the demo's minimum request count."""
    text = resources.files("image_ops.gates").joinpath("defaults.toml").read_text("utf-8")
    if _DEFAULT_LINE not in text:  # the defaults changed: keep them rather than guess
        raise RuntimeError(f"image_ops/gates/defaults.toml has no line {_DEFAULT_LINE!r}")
    demo = text.replace(
        _DEFAULT_LINE,
        f"min_log_requests = {DEMO_MIN_LOG_REQUESTS}  # the demo's: a page view or two",
    )
    header = (
        "# Written by `wishlist-dev demo` (dev/wishlist_dev/demo_gates.py); not for production.\n"
    )
    path = folder / "demo-gates.toml"
    path.write_text(header + demo, encoding="utf-8")
    return path
