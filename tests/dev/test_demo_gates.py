"""The demo's gates file is the product's defaults but for two lines, and loads as one."""

from __future__ import annotations

from pathlib import Path

from image_ops.gates import config
from wishlist_dev.demo_gates import DEMO_MIN_LOG_REQUESTS, write_demo_gates


def test_the_demo_gates_differ_from_the_defaults_only_where_it_says(tmp_path: Path) -> None:
    demo = config.load(write_demo_gates(tmp_path))
    product = config.load()
    assert demo.gates.min_log_requests == DEMO_MIN_LOG_REQUESTS < product.gates.min_log_requests
    assert demo.region_of("LCL50-P1") == "EU" and product.region_of("LCL50-P1") == "unknown"
    assert demo.region_of("FRA56-P1") == product.region_of("FRA56-P1") == "EU"
    same = demo.model_copy(
        update={
            "gates": demo.gates.model_copy(
                update={"min_log_requests": product.gates.min_log_requests}
            ),
            "pop_regions": product.pop_regions,
        }
    )
    assert same == product
