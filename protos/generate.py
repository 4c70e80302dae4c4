"""Regenerate the Python stubs for protos/ into client/wishlist/images/v1.

Run: python protos/generate.py            (write the stubs)
     python protos/generate.py --check    (exit 1 if the committed stubs are stale)

The stubs live beside the client library because every consumer imports them from
there; the server depends on the same package.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
OUT_ROOT = ROOT / "client"
PACKAGE_DIR = Path("wishlist/images/v1")


def _include_dirs() -> list[str]:
    """protoc needs the well-known types (grpc_tools) and google/rpc (googleapis-common-protos)."""
    well_known = str(resources.files("grpc_tools") / "_proto")
    import google.rpc  # shipped by googleapis-common-protos, a grpcio-status dependency

    googleapis = str(Path(next(iter(google.rpc.__path__))).parent.parent)
    return [str(PROTO_ROOT), well_known, googleapis]


def generate(out_root: Path) -> None:
    protos = sorted(
        str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE_DIR).glob("*.proto")
    )
    args = ["protoc", *(f"-I{d}" for d in _include_dirs())]
    args += [f"--python_out={out_root}", f"--pyi_out={out_root}", f"--grpc_python_out={out_root}"]
    if protoc.main([*args, *protos]) != 0:
        raise SystemExit("protoc failed")
    for part in (Path("wishlist"), Path("wishlist/images"), PACKAGE_DIR):
        init = out_root / part / "__init__.py"
        init.touch()


def _stale_files(fresh: Path) -> list[str]:
    stale = []
    for new in sorted((fresh / PACKAGE_DIR).iterdir()):
        old = OUT_ROOT / PACKAGE_DIR / new.name
        if not old.exists() or not filecmp.cmp(new, old, shallow=False):
            stale.append(str(old.relative_to(ROOT)))
    for old in sorted((OUT_ROOT / PACKAGE_DIR).glob("*_pb2*.py*")):
        if not (fresh / PACKAGE_DIR / old.name).exists():
            stale.append(str(old.relative_to(ROOT)))
    return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed stubs are stale"
    )
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        stale = _stale_files(Path(tmp))
        if check:
            if stale:
                print("stale generated files (run: python protos/generate.py):", *stale, sep="\n  ")
                return 1
            print("generated stubs are up to date")
            return 0
        target = OUT_ROOT / PACKAGE_DIR
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*_pb2*.py*"):
            old.unlink()
        for new in (Path(tmp) / PACKAGE_DIR).iterdir():
            shutil.copy2(new, target / new.name)
        for part in (Path("wishlist"), Path("wishlist/images")):
            (OUT_ROOT / part / "__init__.py").touch()
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
