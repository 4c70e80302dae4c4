"""parquet_footer.py against DuckDB's reading of the same files: Apache's test corpus
(written by other Parquet implementations), files DuckDB writes in every shape hypothesis
picks, and damaged footers, which must give FooterError and nothing else."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from image_ops.accesslogs import parquet_footer
from image_ops.accesslogs.parquet_footer import Footer, FooterError
from tests.ops.accesslogs.conftest import report_json
from wishlist_dev import synth_logs as synth

CORPUS = sorted((Path(__file__).parent / "data" / "parquet-testing").glob("*.parquet"))


def read(path: Path) -> Footer:
    fd = os.open(path, os.O_RDONLY)
    try:
        return parquet_footer.read(fd)
    finally:
        os.close(fd)


def duckdb_reading(path: Path) -> Footer:
    """What DuckDB says: the columns read_parquet exposes, the rows its metadata holds."""
    with duckdb.connect() as con:
        names = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        meta = con.execute("SELECT num_rows FROM parquet_file_metadata(?)", [str(path)])
        (rows,) = meta.fetchone() or (None,)
    return Footer(tuple(r[0] for r in names), int(rows))


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) == 14


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_files_other_writers_wrote_read_as_duckdb_reads_them(path: Path) -> None:
    assert read(path) == duckdb_reading(path)


_TYPES = st.sampled_from(
    [
        "VARCHAR",
        "INTEGER",
        "BIGINT",
        "DOUBLE",
        "BOOLEAN",
        "DATE",
        "TIMESTAMP",
        "DECIMAL(18, 3)",
        "BLOB",
        "INTEGER[]",
        "STRUCT(a INTEGER, b VARCHAR[])",
        "MAP(VARCHAR, INTEGER)",
        "STRUCT(x STRUCT(y BOOLEAN[]))",
    ]
)
_NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.lists(
        st.tuples(_NAMES, _TYPES), min_size=1, max_size=12, unique_by=lambda c: c[0].lower()
    ),
    rows=st.integers(0, 300),
    row_group=st.sampled_from([1, 7, 100, 122880]),
    codec=st.sampled_from(["uncompressed", "snappy", "zstd", "gzip"]),
    version=st.sampled_from(["V1", "V2"]),
    kv=st.booleans(),
)
def test_files_duckdb_writes_read_as_duckdb_reads_them(
    tmp_path: Path,
    columns: list[tuple[str, str]],
    rows: int,
    row_group: int,
    codec: str,
    version: str,
    kv: bool,
) -> None:
    path = tmp_path / f"h-{abs(hash((tuple(columns), rows, row_group, codec))):x}.parquet"
    cols = ", ".join(
        f'CAST(NULL AS {t}) AS "{n.replace(chr(34), chr(34) * 2)}"' for n, t in columns
    )
    options = f"FORMAT parquet, COMPRESSION {codec}, ROW_GROUP_SIZE {row_group}"
    options += f", PARQUET_VERSION {version}"
    if kv:
        options += ", KV_METADATA {origin: 'hypothesis', note: 'x'}"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT {cols} FROM range({rows})) TO '{path}' ({options})")
    assert read(path) == duckdb_reading(path)


def _with_footer(tmp_path: Path, metadata: bytes, length: int | None = None) -> Path:
    path = tmp_path / "damaged.parquet"
    n = len(metadata) if length is None else length
    path.write_bytes(b"PAR1" + metadata + struct.pack("<I", n) + b"PAR1")
    return path


def test_every_cut_of_a_real_footer_is_refused_or_read_whole(tmp_path: Path) -> None:
    data = CORPUS[0].read_bytes()
    (length,) = struct.unpack("<I", data[-8:-4])
    metadata = data[-8 - length : -8]
    complete = parquet_footer.parse(metadata)
    assert complete == duckdb_reading(CORPUS[0])
    parsed = []
    for cut in range(length):
        try:
            parsed.append(parquet_footer.parse(metadata[:cut]))
        except FooterError:
            assert not parsed, f"cut at {cut} refused after a shorter cut parsed"
    # Reading stops once the schema and the row count are in (the row groups follow):
    # a cut after them reads in full; every shorter one is refused, none half-read.
    assert parsed and all(p == complete for p in parsed)
    assert len(parsed) < length * 0.9


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_random_footers_give_a_footer_or_a_footer_error(metadata: bytes) -> None:
    try:
        footer: Footer | str = parquet_footer.parse(metadata)
    except FooterError as exc:
        footer = str(exc)
    if isinstance(footer, str):
        assert footer  # a reason, in words
    else:
        assert footer.num_rows >= 0 and all(isinstance(c, str) for c in footer.columns)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (b"\x1c" * 100, "nested too deeply"),  # field 1 as a struct, in a struct, ...
        (b"\x19\xfc" + b"\xff" * 8 + b"\x01", "list longer than the footer"),  # 2^63 nodes
        (b"\x15\x02\x19\x1c\x48\x01x\x15\x04\x00\x16\x02\x00", "schema tree has fewer nodes"),
        (b"\x15\x02\x00", "without a schema or a row count"),
        (b"\x1f", "unknown Thrift type 15"),
    ],
    ids=["deep", "huge-list", "short-tree", "no-schema", "bad-type"],
)
def test_hostile_footers_are_refused_with_a_reason(metadata: bytes, message: str) -> None:
    with pytest.raises(FooterError, match=message):
        parquet_footer.parse(metadata)


def test_a_footer_length_beyond_the_file_or_no_end_magic_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FooterError, match="does not fit the file"):
        read(_with_footer(tmp_path, b"\x00" * 10, length=1 << 31))
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(CORPUS[0].read_bytes()[:-3])
    with pytest.raises(FooterError, match="no PAR1 at the end"):
        read(cut)
    tiny = tmp_path / "tiny.parquet"
    tiny.write_bytes(b"PAR1PAR1")
    with pytest.raises(FooterError, match="too short"):
        read(tiny)


def test_a_parquet_file_whose_pages_do_not_decode_is_left_out_by_name(
    tmp_path: Path, records: list[synth.Record]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    synth.write_format(logs / "good.parquet", records, "parquet")
    good = (logs / "good.parquet").read_bytes()
    damaged = bytearray(good)
    (length,) = struct.unpack("<I", good[-8:-4])
    for i in range(8, len(good) - 8 - length, 5):  # the data pages, not the footer
        damaged[i] ^= 0x5A
    (logs / "damaged.parquet").write_bytes(bytes(damaged))
    assert read(logs / "damaged.parquet") == read(logs / "good.parquet")  # the footer is fine
    rep = report_json(str(logs))
    assert rep["input"]["unreadable_files"] == [str(logs / "damaged.parquet")]
    assert rep["input"]["files"] == 2
    assert rep["summary"]["requests"] == len(records)
    assert rep["input"]["malformed_lines"] == 0
