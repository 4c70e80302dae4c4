"""The demo's gates file: the packaged defaults, but evidence a person can make by hand.

`rollout advance` refuses a step on fewer than `min_log_requests` requests in the window
(100 by default: fewer is not evidence of anything). A person browsing the demo's gallery
makes about 15 image requests a page, so the demo asks for 20 and says so. The local edge
answers with the POP code LCL50-P1, which no table knows: it is mapped to EU (its logs
name FRA56-P1, Frankfurt), so the probe's p95 is held to a target too. Every other gate and
target is the product's own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_MIN_LOG_REQUESTS = 20
DEMO_POP_REGION = 'LCL = "EU"  # the demo\'s local edge (X-Amz-Cf-Pop LCL50-P1)'
_DEFAULT_LINE = "min_log_requests = 100"
_POP_REGIONS = "[pop_regions]\n"


def write_demo_gates(folder: Path) -> Path:
    """``folder/demo-gates.toml``: the defaults with the demo's minimum request count."""
    text = resources.files("image_ops.gates").joinpath("defaults.toml").read_text("utf-8")
    lines = text.splitlines(keepends=True)
    count = next((i for i, line in enumerate(lines) if line.startswith(_DEFAULT_LINE)), None)
    if count is None or _POP_REGIONS not in lines:  # the defaults changed: do not guess
        raise RuntimeError(
            f"image_ops/gates/defaults.toml has no line {_DEFAULT_LINE!r} or {_POP_REGIONS!r}"
        )
    lines[count] = (
        f"min_log_requests = {DEMO_MIN_LOG_REQUESTS}  # the demo's: a page view or two "
        "(the product's: 100)\n"
    )
    pops = lines.index(_POP_REGIONS)
    lines.insert(pops + 1, DEMO_POP_REGION + "\n")
    demo = "".join(lines)
    header = (
        "# Written by `wishlist-dev demo` (dev/wishlist_dev/demo_gates.py); not for production.\n"
    )
    path = folder / "demo-gates.toml"
    path.write_text(header + demo, encoding="utf-8")
    return path
