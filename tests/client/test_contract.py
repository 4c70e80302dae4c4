"""The generated stubs match protos/, and the domain's numbers match the wire's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from image_resolver.resolver import Origin
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist_images_client import Origin as ClientOrigin

ROOT = Path(__file__).resolve().parents[2]


def test_generated_stubs_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "protos" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_origin_numbers_match_the_proto_enum() -> None:
    assert Origin.CDN == pb.ORIGIN_CDN
    assert Origin.S3 == pb.ORIGIN_S3
    assert {o.name: o.value for o in ClientOrigin} == {
        name.removeprefix("ORIGIN_"): number for name, number in pb.Origin.items()
    }
