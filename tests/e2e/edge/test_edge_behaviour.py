"""The story's edge test plan against the real local edge (Varnish + hitch + signing origin
over moto S3), over sockets: cache hits, cache key, error caching, redirects, headers,
methods, a private bucket."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.conftest import BUCKET, CDN
from tests.support.edge import LOCAL_CDN, TEST_TTLS

VIA = re.compile(r"^1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)$")
APP_ORIGIN = "https://app.lego-moc.com"  # the template's WebAppOrigin default


def _wait_past(seconds: float) -> None:
    time.sleep(seconds + 0.3)


def test_miss_then_hit_with_cloudfront_headers(edge, put_object) -> None:
    body = b"\x89PNG\r\n\x1a\nmiss-then-hit"
    key = put_object(body)
    first = edge.request("GET", f"/{key}")
    second = edge.request("GET", f"/{key}")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content == body
    assert first.headers["x-cache"] == "Miss from cloudfront"
    assert "age" not in first.headers
    assert second.headers["x-cache"] == "Hit from cloudfront"
    assert int(second.headers["age"]) >= 0
    assert first.headers["content-type"] == "image/png"
    assert first.headers["etag"] == second.headers["etag"]
    for resp in (first, second):
        assert VIA.match(resp.headers["via"])
        assert resp.headers["x-amz-cf-pop"] == "LCL50-P1"
        assert re.fullmatch(r"[A-Za-z0-9_-]{54}==", resp.headers["x-amz-cf-id"])
        assert "x-varnish" not in resp.headers
    assert first.headers["x-amz-cf-id"] != second.headers["x-amz-cf-id"]
    assert [r.method for r in edge.origin.requests_for(key)] == ["GET"]


def test_head_is_cached_like_get(edge, put_object) -> None:
    key = put_object(b"head-body")
    head = edge.request("HEAD", f"/{key}")
    get = edge.request("GET", f"/{key}")
    assert head.status_code == get.status_code == 200
    assert head.headers["x-cache"] == "Miss from cloudfront"
    assert get.headers["x-cache"] == "Hit from cloudfront"
    assert get.content == b"head-body"


def test_nothing_is_compressed_like_compress_false(edge, put_object) -> None:
    """Images are already compressed: the template keeps Accept-Encoding out of the cache key
    and compression off (issue 25), so even a compressible SVG comes back as stored, and
    one cache entry serves every Accept-Encoding."""
    svg_body = b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<g/>" * 500 + b"</svg>"
    svg = put_object(svg_body, content_type="image/svg+xml")
    gz = {"Accept-Encoding": "gzip"}
    first = edge.request("GET", f"/{svg}", headers=gz)
    assert "content-encoding" not in first.headers and first.content == svg_body
    again = edge.request("GET", f"/{svg}", headers={"Accept-Encoding": "identity"})
    assert again.headers["x-cache"] == "Hit from cloudfront" and again.content == svg_body


def test_a_new_version_misses(edge, put_object) -> None:
    key = put_object()
    assert edge.request("GET", f"/{key}?v=1").headers["x-cache"] == "Miss from cloudfront"
    assert edge.request("GET", f"/{key}?v=1").headers["x-cache"] == "Hit from cloudfront"
    assert edge.request("GET", f"/{key}?v=2").headers["x-cache"] == "Miss from cloudfront"
    assert [r.query for r in edge.origin.requests_for(key)] == ["v=1", "v=2"]


def test_other_query_strings_share_the_entry_and_are_not_forwarded(edge, put_object) -> None:
    key = put_object()
    got = [
        edge.request("GET", f"/{key}?v=3&utm_source=mail").headers["x-cache"],
        edge.request("GET", f"/{key}?fbclid=x&v=3").headers["x-cache"],
        edge.request("GET", f"/{key}?utm_source=a").headers["x-cache"],
        edge.request("GET", f"/{key}").headers["x-cache"],
    ]
    assert got == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
        "Hit from cloudfront",
    ]
    assert [r.query for r in edge.origin.requests_for(key)] == ["v=3", ""]


def test_cache_control_from_the_origin_is_honoured_within_the_policy(edge, put_object) -> None:
    short = put_object(CacheControl="max-age=1")
    never = put_object(CacheControl="no-store")
    assert edge.request("GET", f"/{short}").headers["x-cache"] == "Miss from cloudfront"
    assert edge.request("GET", f"/{short}").headers["x-cache"] == "Hit from cloudfront"
    _wait_past(1)
    assert edge.request("GET", f"/{short}").headers["x-cache"] == "Miss from cloudfront"
    # MinTTL 0: no-store is not cached
    assert edge.request("GET", f"/{never}").headers["x-cache"] == "Miss from cloudfront"
    assert edge.request("GET", f"/{never}").headers["x-cache"] == "Miss from cloudfront"
    assert len(edge.origin.requests_for(never)) == 2


def test_origin_404_is_cached_for_the_error_caching_ttl(edge, put_object) -> None:
    key = put_object(b"back again")
    edge.origin.faults.force_status(404, key)
    try:
        first = edge.request("GET", f"/{key}")
    finally:
        edge.origin.faults.force_status(None, key)
    assert first.status_code == 404
    assert first.headers["x-cache"] == "Error from cloudfront"
    cached = edge.request("GET", f"/{key}")
    assert cached.status_code == 404  # still the cached 404 (template: 300 s; here 2 s)
    assert cached.headers["x-cache"] == "Error from cloudfront"
    assert "age" in cached.headers
    assert len(edge.origin.requests_for(key)) == 1
    _wait_past(TEST_TTLS["error_ttl_404"])
    fresh = edge.request("GET", f"/{key}")
    assert fresh.status_code == 200
    assert fresh.headers["x-cache"] == "Miss from cloudfront"
    assert fresh.content == b"back again"


def test_a_missing_key_answers_as_the_bucket_policy_allows(edge, put_object) -> None:
    """Without s3:ListBucket for CloudFront, S3 hides a missing key behind 403; with it, 404."""
    expected = 404 if edge.config.origin_lists_bucket else 403
    key = f"uploads/wishlist/edge-missing-{time.time_ns()}/gone.png"
    first = edge.request("GET", f"/{key}")
    assert first.status_code == expected
    assert first.headers["x-cache"] == "Error from cloudfront"
    put_object(b"now it exists", key=key)
    cached = edge.request("GET", f"/{key}")
    assert cached.status_code == expected
    assert len(edge.origin.requests_for(key)) == 1
    _wait_past(TEST_TTLS[f"error_ttl_{expected}"])
    fresh = edge.request("GET", f"/{key}")
    assert fresh.status_code == 200
    assert fresh.content == b"now it exists"


def test_paths_outside_the_uploads_prefix_get_the_functions_404(edge, put_object) -> None:
    """The default behaviour's viewer-request function answers before any origin request,
    so nothing outside uploads/wishlist/ (not even / , a bucket listing) reaches S3."""
    key = put_object(key=f"private/edge-{time.time_ns()}.png")  # exists, outside the prefix
    for path in (f"/{key}", "/", "/?list-type=2"):
        resp = edge.request("GET", path)
        assert resp.status_code == 404, path
        assert resp.headers["x-cache"] == "FunctionGeneratedResponse from cloudfront"
        assert b"AccessDenied" not in resp.content and b"ListBucketResult" not in resp.content


@pytest.mark.parametrize("status", [500, 502, 503])
def test_origin_5xx_is_cached_only_for_the_error_caching_ttl(edge, put_object, status) -> None:
    key = put_object(b"recovers")
    edge.origin.faults.force_status(status, key)
    try:
        failed = edge.request("GET", f"/{key}")
        assert failed.status_code == status
        assert failed.headers["x-cache"] == "Error from cloudfront"
    finally:
        edge.origin.faults.force_status(None, key)
    still = edge.request("GET", f"/{key}")  # within the error caching TTL: the cached error
    assert still.status_code == status
    assert len(edge.origin.requests_for(key)) == 1
    _wait_past(TEST_TTLS["error_ttl"])
    healed = edge.request("GET", f"/{key}")
    assert healed.status_code == 200
    assert healed.headers["x-cache"] == "Miss from cloudfront"
    assert len(edge.origin.requests_for(key)) == 2


def test_origin_delay_knob_slows_only_its_key(edge, put_object) -> None:
    slow, fast = put_object(), put_object()
    edge.origin.faults.add_delay(400, slow)
    try:
        started = time.monotonic()
        assert edge.request("GET", f"/{slow}").status_code == 200
        slow_s = time.monotonic() - started
        started = time.monotonic()
        assert edge.request("GET", f"/{fast}").status_code == 200
        fast_s = time.monotonic() - started
    finally:
        edge.origin.faults.add_delay(0, slow)
    assert slow_s >= 0.4
    assert fast_s < 0.4


def test_http_redirects_to_https(edge, put_object) -> None:
    key = put_object()
    with_port = edge.request("GET", f"/{key}?v=1&x=2", tls=False, host=f"{CDN}:{edge.http_port}")
    assert with_port.status_code == 301
    assert with_port.headers["location"] == f"https://{CDN}:{edge.https_port}/{key}?v=1&x=2"
    assert with_port.headers["x-cache"] == "Redirect from cloudfront"
    bare = edge.request("GET", f"/{key}", tls=False)  # Host without a port, as in production
    assert bare.status_code == 301
    assert bare.headers["location"] == f"https://{CDN}/{key}"
    assert edge.origin.requests_for(key) == []


def test_localhost_names_get_plain_http_for_the_demo(edge, put_object) -> None:
    key = put_object(b"demo")
    resp = edge.request("GET", f"/{key}", tls=False, host=f"{LOCAL_CDN}:{edge.http_port}")
    assert resp.status_code == 200
    assert resp.content == b"demo"
    assert resp.headers["x-cache"] == "Miss from cloudfront"


def test_unknown_host_is_refused(edge, put_object) -> None:
    key = put_object()
    resp = edge.request("GET", f"/{key}", tls=False, host="d222222abcdef8.cloudfront.net")
    assert resp.status_code == 403
    assert resp.headers["x-cache"] == "Error from cloudfront"


def test_headers_policy_hsts_nosniff_and_cors(edge, put_object) -> None:
    key = put_object()
    allowed = edge.request("GET", f"/{key}", headers={"Origin": APP_ORIGIN})
    other = edge.request("GET", f"/{key}", headers={"Origin": "https://evil.example"})
    for resp in (allowed, other):
        assert resp.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-origin" not in other.headers
    preflight = edge.request(
        "OPTIONS",
        f"/{key}",
        headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert preflight.headers["access-control-max-age"] == "600"
    refused = edge.request(
        "OPTIONS",
        f"/{key}",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_methods_outside_the_behaviour_get_403(edge, put_object, method) -> None:
    key = put_object()
    resp = edge.request(method, f"/{key}")
    assert resp.status_code == 403
    assert resp.headers["x-cache"] == "Error from cloudfront"
    assert "not configured to allow the HTTP request method" in resp.text
    assert edge.origin.requests_for(key) == []


def test_options_outside_the_uploads_behaviour_gets_403(edge) -> None:
    resp = edge.request("OPTIONS", "/index.html")  # the default behaviour: GET, HEAD only
    assert resp.status_code == 403


def test_bucket_is_private_but_the_edge_serves_it(edge, local_aws, put_object) -> None:
    key = put_object(b"private")
    anonymous = httpx.get(f"{local_aws.endpoint}/{BUCKET}/{key}", timeout=10)
    assert anonymous.status_code == 403  # AC15: no direct anonymous reads
    through_edge = edge.request("GET", f"/{key}")
    assert through_edge.status_code == 200
    assert through_edge.content == b"private"


def test_purge_is_exact_or_prefix_and_loopback_only(edge, put_object) -> None:
    folder = f"uploads/wishlist/edge-purge-{time.time_ns()}"
    a, b = put_object(key=f"{folder}/a.png"), put_object(key=f"{folder}/b.png")
    other = put_object()
    for key in (a, b, other):
        edge.request("GET", f"/{key}?v=1")
    assert edge.purge(f"/{a}") == 200  # every query variant of the path
    assert edge.request("GET", f"/{a}?v=1").headers["x-cache"] == "Miss from cloudfront"
    assert edge.request("GET", f"/{b}?v=1").headers["x-cache"] == "Hit from cloudfront"
    assert edge.purge(f"/{folder}/*") == 200
    assert edge.request("GET", f"/{b}?v=1").headers["x-cache"] == "Miss from cloudfront"
    assert edge.request("GET", f"/{other}?v=1").headers["x-cache"] == "Hit from cloudfront"
    assert edge.purge('/bad"path') == 400


def test_stopped_edge_refuses_connections_and_comes_back(edge, put_object) -> None:
    key = put_object()
    assert edge.request("GET", f"/{key}").status_code == 200
    ports = (edge.http_port, edge.https_port)
    edge.stop()
    try:
        with pytest.raises(httpx.ConnectError):
            edge.request("GET", f"/{key}", timeout=2)
    finally:
        edge.start()
    assert (edge.http_port, edge.https_port) == ports  # same URLs after a restart
    again = edge.request("GET", f"/{key}")
    assert again.status_code == 200
    assert again.headers["x-cache"] == "Miss from cloudfront"  # a restart empties the cache
