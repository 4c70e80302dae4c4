"""The local demo's CDN under *.localhost: plain HTTP and a port, never for a real domain."""

from __future__ import annotations

import pytest

from image_resolver.config import ConfigError, load_settings
from image_resolver.urls import RefError, UrlRules

BUCKET = "lego-moc-wishlist-uploads"
KEY = "uploads/wishlist/u-1/a.jpg"
DEMO = UrlRules(
    bucket=BUCKET, region="us-east-1", cdn_domain="cdn.localhost:8443", cdn_scheme="http"
)


def test_demo_cdn_urls_use_the_scheme_and_port() -> None:
    assert DEMO.cdn_url(KEY, "2") == f"http://cdn.localhost:8443/{KEY}?v=2"


def test_demo_cdn_urls_parse_back_only_on_the_same_port() -> None:
    parsed = DEMO.parse(f"http://cdn.localhost:8443/{KEY}?v=2")
    assert (parsed.key, parsed.version) == (KEY, "2")
    for other in (f"http://cdn.localhost:9999/{KEY}", f"http://cdn.localhost/{KEY}"):
        with pytest.raises(RefError) as caught:
            DEMO.parse(other)
        assert caught.value.reason == "foreign_host"


def test_production_cdn_domain_accepts_default_and_443_ports_only() -> None:
    rules = UrlRules(bucket=BUCKET, region="us-east-1", cdn_domain="d1.cloudfront.net")
    assert rules.parse(f"https://d1.cloudfront.net:443/{KEY}").key == KEY
    with pytest.raises(RefError):
        rules.parse(f"https://d1.cloudfront.net:8443/{KEY}")


@pytest.mark.parametrize(
    ("domain", "scheme", "message"),
    [
        ("d1.cloudfront.net:8443", "https", "only for a local demo host"),
        ("cdn.localhost:0", "https", "only for a local demo host"),
        ("cdn.localhost:http", "https", "only for a local demo host"),
        ("d1.cloudfront.net", "http", "CDN_URL_SCHEME=http is only for a local demo"),
    ],
)
def test_settings_refuse_ports_and_http_outside_localhost(
    domain: str, scheme: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(cloudfront_distribution_domain=domain, cdn_url_scheme=scheme)
    assert message in str(caught.value)


def test_settings_accept_the_demo_domain() -> None:
    settings = load_settings(
        cloudfront_distribution_domain="cdn.localhost:8443", cdn_url_scheme="http"
    )
    assert settings.cloudfront_distribution_domain == "cdn.localhost:8443"
