"""The local edge's access-log lines and files without processes: varnishncsa's output (as
its 7.1 escaping writes it) turned into CloudFront lines, rolled into named gzip files."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from image_ops.accesslogs.fields import FIELD_NAMES
from wishlist_dev.edge.access_log import LineFormat, unescape, url_encode
from wishlist_dev.edge.log_delivery import HEADER, AccessLogs, LogDelivery

DOCS = Path(__file__).resolve().parents[2] / "docs" / "local-edge.md"
FORMAT = LineFormat("FRA56-P1", "d111111abcdef8.cloudfront.net")


def raw_line(
    when: str = "2026-01-28\t13:59:59", skip: str = "", values: dict[str, str] | None = None
) -> str:
    """A varnishncsa line of FORMAT's shape, with `values` by field name."""
    fields = dict.fromkeys(FIELD_NAMES, "-")
    fields["date"], fields["time"] = when.split("\t")
    assert set(values or {}) <= set(FIELD_NAMES)
    fields.update(values or {})
    return "\t".join([*fields.values(), skip])


def finished(values: dict[str, str]) -> dict[str, str]:
    line = FORMAT.finish(raw_line(values=values))
    assert line is not None
    return dict(zip(FIELD_NAMES, line.split("\t"), strict=True))


def test_the_format_reads_every_field_from_varnish_in_cloudfront_order() -> None:
    columns = FORMAT.ncsa_format.split("\\t")
    assert len(columns) == len(FIELD_NAMES) + 1
    assert columns[2] == "FRA56-P1" and columns[6] == "d111111abcdef8.cloudfront.net"
    assert columns[-1] == "%{VCL_Log:edge-log}x"
    assert "\t" not in FORMAT.ncsa_format  # varnishncsa expands the \t escapes


def test_varnishncsa_escapes_become_cloudfront_url_encoding() -> None:
    assert unescape(r"a\tb \"q\" \\ \xc3\xa9\n") == b'a\tb "q" \\ \xc3\xa9\n'
    assert url_encode(b'a\tb "q" \\ %41 \xc3\xa9') == "a%09b%20%22q%22%20%5C%20%2541%20%C3%A9"
    row = finished(
        {
            "cs(User-Agent)": r"Mozilla/5.0 (X11) \"x\"\t%41",
            "cs-uri-stem": r"/a%20b/\xc3\xa9.png",
            "cs-uri-query": r"?v=1&x=%22 \\",
            "sc-content-type": "text/html; charset=utf-8",
        }
    )
    assert row["cs(User-Agent)"] == "Mozilla/5.0%20(X11)%20%22x%22%09%2541"
    assert row["cs-uri-stem"] == "/a%20b/%C3%A9.png"  # a URL's own %XX stays
    assert row["cs-uri-query"] == "v=1&x=%22%20%5C"
    assert row["sc-content-type"] == "text/html;%20charset=utf-8"


def test_units_empty_values_ranges_and_result_types() -> None:
    row = finished(
        {
            "time-taken": "17521",
            "time-to-first-byte": "0.017177",
            "cs-uri-query": "",
            "x-forwarded-for": "",
            "sc-range-start": "bytes 0-9/2004",
            "sc-range-end": "bytes 0-9/2004",
            "x-edge-result-type": "Hit",
        }
    )
    assert (row["time-taken"], row["time-to-first-byte"]) == ("0.018", "0.017")
    assert (row["cs-uri-query"], row["x-forwarded-for"]) == ("-", "-")
    assert (row["sc-range-start"], row["sc-range-end"]) == ("0", "9")
    assert row["x-edge-result-type"] == "Hit"
    # Varnish refused the request before any VCL ran: no VCL_Log record, an edge error
    assert finished({"x-edge-result-type": ""})["x-edge-result-type"] == "Error"
    assert finished({"sc-range-start": "-"})["sc-range-start"] == "-"


def test_what_the_vcl_skips_is_dropped_and_a_misshapen_line_refused() -> None:
    assert FORMAT.finish(raw_line(skip="skip")) is None
    with pytest.raises(ValueError, match="columns"):
        FORMAT.finish(raw_line() + "\textra")
    with pytest.raises(ValueError, match="edge location"):
        LineFormat("local", "d111111abcdef8.cloudfront.net")
    with pytest.raises(ValueError, match="distribution ID"):
        AccessLogs(Path("logs"), distribution_id="../x")


def test_a_roll_delivers_complete_lines_one_file_per_hour(tmp_path: Path) -> None:
    working = tmp_path / "access.log"
    settings = AccessLogs(tmp_path / "logs", distribution_id="E1TEST")
    delivery = LogDelivery(settings, FORMAT, working)
    lines = [
        raw_line("2026-01-28\t13:59:59", values={"cs-uri-stem": "/a"}),
        raw_line("2026-01-28\t14:00:00", values={"cs-uri-stem": "/b"}),
        raw_line("2026-01-28\t14:00:01", skip="skip"),
        raw_line("2026-01-28\t14:00:02", values={"cs-uri-stem": "/c"}),
    ]
    working.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])  # the last still written
    files = delivery.roll()
    names = [p.relative_to(settings.folder).as_posix() for p in files]
    assert [re.sub(r"\.[0-9a-f]{8}\.gz$", ".ID.gz", n) for n in names] == [
        "cloudfront/w3c/E1TEST/2026/01/28/E1TEST.2026-01-28-13.ID.gz",
        "cloudfront/w3c/E1TEST/2026/01/28/E1TEST.2026-01-28-14.ID.gz",
    ]
    texts = [gzip.decompress(p.read_bytes()).decode() for p in files]
    assert all(t.startswith(HEADER) for t in texts)
    assert [len(t.splitlines()) - 2 for t in texts] == [1, 1]
    with working.open("a") as fh:
        fh.write(lines[3][20:] + "\n")
    (rest,) = delivery.roll()  # the rest of the line, not the lines rolled before
    assert "\t/c\t" in gzip.decompress(rest.read_bytes()).decode()
    assert delivery.roll() == []
    assert not list(settings.folder.rglob(".*"))


def test_the_docs_table_names_every_field_in_order() -> None:
    section = DOCS.read_text().split("## Access logs", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\| \d+ \| `([^`]+)` \|", section, flags=re.M)
    assert tuple(names) == FIELD_NAMES
