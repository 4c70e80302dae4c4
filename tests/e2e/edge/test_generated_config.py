"""The edge's VCL comes from deploy/'s CloudFormation template: same TTLs, cache key,
error caching and headers policy, and a change to the template changes the VCL."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from wishlist_dev.cli import main
from wishlist_dev.edge.model import EdgeConfig
from wishlist_dev.edge.template import TemplateError, edge_config_from_template, find_template
from wishlist_dev.edge.vcl import VclParams, render_vcl

REPO_TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "cloudformation" / "image-cdn.yaml"

PARAMS = VclParams(
    origin_port=9, https_port=8443, cdn_hosts=["d111111abcdef8.cloudfront.net"], pop="LCL50-P1",
    via_id="0" * 32,
)  # fmt: skip


def _vcl(config: EdgeConfig) -> str:
    return render_vcl(config, PARAMS)


def _edited_template(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = REPO_TEMPLATE.read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    copy = tmp_path / "image-cdn.yaml"
    copy.write_text(text)
    return copy


def test_the_default_template_is_the_checkouts_own() -> None:
    assert find_template() == REPO_TEMPLATE
    assert find_template([REPO_TEMPLATE.parents[1] / "kubernetes"]) == REPO_TEMPLATE
    assert edge_config_from_template() == edge_config_from_template(REPO_TEMPLATE)


def test_outside_a_checkout_the_template_must_be_named(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TemplateError, match=r"not a source checkout\): pass --template PATH"):
        find_template([tmp_path])
    # installed from a wheel, run outside a checkout: one line naming the flag
    from wishlist_dev.edge import template

    monkeypatch.setattr(template, "__file__", str(tmp_path / "site-packages" / "template.py"))
    monkeypatch.chdir(tmp_path)
    assert main(["edge", "--print-vcl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("wishlist-dev edge: no deploy/cloudformation/image-cdn.yaml above ")
    assert err.endswith("pass --template PATH\n")


def test_cli_uses_the_template_it_is_given(tmp_path: Path, capsys) -> None:
    edited = _edited_template(tmp_path, ("ErrorCachingMinTTL: 300", "ErrorCachingMinTTL: 301"))
    assert main(["edge", "--print-vcl", "--template", str(edited)]) == 0
    assert 'x-edge-error-ttl = "301"' in capsys.readouterr().out
    assert main(["edge", "--print-vcl", "--template", str(tmp_path / "missing.yaml")]) == 2
    assert "template not found" in capsys.readouterr().err


def test_config_carries_the_story_values_from_the_template() -> None:
    config = edge_config_from_template()
    images, default = config.behaviors
    assert images.path_pattern == "/uploads/wishlist/*"
    assert default.path_pattern is None
    for b in config.behaviors:
        assert (b.cache.min_ttl, b.cache.default_ttl, b.cache.max_ttl) == (0, 86400, 31536000)
        assert b.cache.query_string_behavior == "whitelist"
        assert b.cache.query_strings == ("v",)
        assert b.viewer_protocol_policy == "redirect-to-https"
        assert b.headers is not None
        assert b.headers.hsts == "max-age=31536000; includeSubDomains"
        assert b.headers.nosniff
        assert b.headers.cors is not None
        assert b.headers.cors.allow_origins == ("https://app.lego-moc.com",)
    assert images.allowed_methods == ("GET", "HEAD", "OPTIONS")
    assert default.allowed_methods == ("GET", "HEAD")
    assert config.error_ttl(404) == 300  # the story: placeholder cached 5 minutes
    assert config.error_ttl(503) == 10  # no CustomErrorResponse: CloudFront's 10 s default
    vcl = _vcl(config)
    assert 'beresp.status == 404) {\n        set beresp.http.x-edge-error-ttl = "300";' in vcl
    assert "set beresp.ttl = 86400s;" in vcl
    assert "set beresp.ttl = 31536000s;" in vcl
    assert '"max-age=31536000; includeSubDomains"' in vcl


def test_a_template_change_changes_the_vcl(tmp_path: Path) -> None:
    before = _vcl(edge_config_from_template())
    edited = _edited_template(
        tmp_path,
        ("DefaultTTL: 86400", "DefaultTTL: 4242"),
        ("MinTTL: 0", "MinTTL: 7"),
        ("QueryStrings: [v]", "QueryStrings: [v, size]"),
        ("ErrorCachingMinTTL: 300", "ErrorCachingMinTTL: 301"),
        ("AccessControlMaxAgeSec: 31536000", "AccessControlMaxAgeSec: 63072000"),
        ("AllowedMethods: [GET, HEAD, OPTIONS]\n            CachedMethods",
         "AllowedMethods: [GET, HEAD]\n            CachedMethods"),
    )  # fmt: skip
    config = edge_config_from_template(edited)
    after = _vcl(config)
    assert after != before
    assert "set beresp.ttl = 4242s;" in after and "set beresp.ttl = 4242s;" not in before
    assert "if (beresp.ttl < 7s)" in after
    assert "(?:v|size)" in after
    assert 'x-edge-error-ttl = "301"' in after
    assert "max-age=63072000; includeSubDomains" in after
    assert config.behaviors[0].allowed_methods == ("GET", "HEAD")
    assert 'req.method !~ "^(GET|HEAD|OPTIONS)$"' in before
    assert 'req.method !~ "^(GET|HEAD|OPTIONS)$"' not in after


def test_compression_and_the_404_function_follow_the_template(tmp_path: Path) -> None:
    """Images are not compressed (Compress: false, issue 25); every path outside the uploads
    behaviour gets the viewer-request function's 404, with no origin fetch."""
    config = edge_config_from_template()
    images, default = config.behaviors
    assert not images.compress and not default.compress
    assert (images.function_status, default.function_status) == (None, 404)
    vcl = _vcl(config)
    assert "edge_compress" not in vcl  # an unused sub would not even compile
    assert 'set req.http.x-edge-function = "404";' in vcl
    uploads_compress = ("\n            Compress: false", "\n            Compress: true")
    edited = _edited_template(tmp_path, uploads_compress)
    assert "call edge_compress;" in _vcl(edge_config_from_template(edited))
    passthrough = _edited_template(tmp_path, ("statusCode: 404,", "uri: event.request.uri,"))
    with pytest.raises(TemplateError, match="fixed response"):
        edge_config_from_template(passthrough)


def test_origin_access_follows_the_bucket_policy(tmp_path: Path) -> None:
    config = edge_config_from_template()
    assert config.origin_read_prefixes == ("uploads/wishlist/",)
    resource = '\n              Resource: !Sub "${UploadsBucket.Arn}/uploads/wishlist/*"'
    condition = "\n              Condition:"
    edited = _edited_template(
        tmp_path,
        (f"Action: s3:GetObject{resource}{condition}",
         f"Action: [s3:GetObject, s3:ListBucket]{resource}{condition}"),
    )  # fmt: skip
    assert edge_config_from_template(edited).origin_lists_bucket is True


def test_template_parameters_reach_the_headers_policy() -> None:
    config = edge_config_from_template(parameters={"WebAppOrigin": "http://127.0.0.1:8080"})
    cors = config.behaviors[0].headers.cors  # type: ignore[union-attr]
    assert cors is not None and cors.allow_origins == ("http://127.0.0.1:8080",)
    with pytest.raises(TemplateError, match="NoSuchParameter"):
        edge_config_from_template(parameters={"NoSuchParameter": "x"})


def test_ttl_overrides_are_checked() -> None:
    config = edge_config_from_template().with_ttl_overrides({"error_ttl_404": 2, "max_ttl": 60})
    assert config.error_ttl(404) == 2
    assert all(b.cache.max_ttl == 60 for b in config.behaviors)
    with pytest.raises(ValueError, match="unknown ttl override 'ttl'"):
        config.with_ttl_overrides({"ttl": 1})
    with pytest.raises(ValueError, match="error_ttl"):
        config.with_ttl_overrides({"error_ttl": -1})


def test_values_that_would_break_the_vcl_are_refused() -> None:
    config = edge_config_from_template(parameters={"WebAppOrigin": 'https://a.example"x'})
    with pytest.raises(ValueError, match="cannot put"):
        _vcl(config)
    with pytest.raises(ValueError, match="not a host name"):
        render_vcl(edge_config_from_template(), PARAMS.__class__(9, 1, ["bad host"], "P", "0"))


@pytest.mark.skipif(
    shutil.which("varnishd", path="/usr/sbin:/usr/bin") is None, reason="no varnishd"
)
def test_generated_vcl_compiles() -> None:
    varnishd = shutil.which("varnishd", path="/usr/sbin:/usr/bin")
    # varnishd compiles as its own unprivileged user: a world-readable directory
    with tempfile.TemporaryDirectory(prefix="edge-vcl-") as tmp:
        Path(tmp).chmod(0o755)
        vcl = Path(tmp) / "edge.vcl"
        vcl.write_text(_vcl(edge_config_from_template()))
        vcl.chmod(0o644)
        done = subprocess.run(
            [str(varnishd), "-C", "-f", str(vcl), "-n", str(Path(tmp) / "n")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"VGC_function_vcl_recv", done.stdout + done.stderr)  # the C source
