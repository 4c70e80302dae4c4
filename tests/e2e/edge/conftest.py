"""The edge suite's fixtures live in fixtures.py so other suites can import them too."""

from tests.support.edge import edge, edge_binaries, put_object, start_edge

__all__ = ["edge", "edge_binaries", "put_object", "start_edge"]
