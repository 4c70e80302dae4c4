"""The probe loads only http(s) URLs on the CDN host and the S3 fallback hosts it was
configured for (issue #21): whatever else the resolver hands out is a refused sample,
never a connection."""

from __future__ import annotations

import json

from image_ops.probe import sampling
from image_ops.probe.timing import fetch
from image_ops.probe.urls import UrlPolicy
from tests.ops.gating.conftest import HandsOut, Listener, probe_args, run, set_flag


def test_only_http_urls_on_the_configured_hosts_are_loaded(listener: Listener) -> None:
    p = listener.port
    hostile = [
        f"gopher://127.0.0.1:{p}/_GET%20/",
        f"ftp://127.0.0.1:{p}/",
        f"ws://127.0.0.1:{p}/",
        f"wss://127.0.0.1:{p}/",
        "javascript:alert(1)",
        f"file:///etc/passwd#127.0.0.1:{p}",
        f"http://user:secret@cdn.localhost:{p}/x.png",
        f"http://cdn.localhost:{p}@127.0.0.1:{p}/x.png",
        f"http://127.0.0.1:{p}/x.png",  # a host that is not the CDN's
        f"http://cdn.localhost:{p}/x.png",  # the CDN's host on another port
        f"HTTP://[::1]:{p}/x.png",
    ]
    policy = UrlPolicy.from_hosts(["cdn.localhost:1"], [])
    samples = sampling.run(
        HandsOut(hostile), ["k"], ["u"], pinned={"cdn.localhost": "127.0.0.1"}, policy=policy
    ).samples
    assert len(samples) == len(hostile)
    for s in samples:
        assert s.status == 0 and s.error.startswith("refused: "), s
    assert listener.accepted == 0
    reasons = [s.error for s in samples]
    assert "scheme 'gopher' is not http or https" in reasons[0]
    assert "scheme 'javascript'" in reasons[4]
    assert "credentials (userinfo)" in reasons[6] and "credentials" in reasons[7]
    assert f"127.0.0.1:{p} is not a configured cdn host" in reasons[8]


def test_the_configured_host_is_loaded_with_a_clean_host_header(listener: Listener) -> None:
    policy = UrlPolicy.from_hosts([f"cdn.localhost:{listener.port}"], ["s3.example:9000"])
    url = f"http://cdn.localhost:{listener.port}/x.png"
    assert policy.refuse(url, "cdn") is None
    assert policy.refuse(url, "s3") is not None  # an S3 URL must be on an S3 host
    assert policy.refuse("https://s3.example:9000/b/k", "s3") is None
    assert policy.refuse("https://S3.EXAMPLE:9000/b/k", "s3") is None
    assert policy.refuse("https://s3.example/b/k", "s3") is not None  # 443, not 9000
    default = UrlPolicy.from_hosts(["d111.cloudfront.net"], [])
    assert default.refuse("https://d111.cloudfront.net/k", "cdn") is None
    assert default.refuse("http://d111.cloudfront.net/k", "cdn") is None
    assert default.refuse("https://d111.cloudfront.net:8443/k", "cdn") is not None
    sample = fetch(url, origin="cdn", user="u", pinned={"cdn.localhost": "127.0.0.1"}, timeout=2)
    assert listener.accepted == 1  # it connected (the listener closes: no HTTP answer)
    assert sample.status == 0 and not sample.error.startswith("refused")


def test_fetch_itself_refuses_other_schemes_and_credentials(listener: Listener) -> None:
    for url in (f"gopher://127.0.0.1:{listener.port}/", f"http://a:b@127.0.0.1:{listener.port}/"):
        assert fetch(url, origin="cdn", user="u", timeout=2).error.startswith("refused: ")
    assert listener.accepted == 0


def test_a_resolver_handing_out_another_host_fails_the_probe(
    stack, put_object, gates_file, tmp_path, monkeypatch
) -> None:
    """The resolver's CDN domain is not the one the probe was configured for: every CDN
    sample is refused (counted as 5xx), nothing is loaded from it, the probe fails."""
    set_flag(stack["client"], 100)
    monkeypatch.setenv("PROBE_CDN_HOSTS", "d111111abcdef8.cloudfront.net")
    key = put_object(body=b"\x89PNG\r\n\x1a\n" + bytes(100))
    out = tmp_path / "probe.json"
    code, text, _ = run(*probe_args(stack["target"], [key], gates_file, out, "--users", "3"))
    assert code == 1, text
    report = json.loads(out.read_text())
    assert {r["error"].split(" is ")[-1] for r in report["requests"]} == {
        "not a configured cdn host"
    }
    assert report["error_rates"]["5xx"] == 1.0


def test_no_cdn_host_is_a_usage_error(gates_file, monkeypatch) -> None:
    monkeypatch.delenv("PROBE_CDN_HOSTS", raising=False)
    code, _, err = run("probe", "--key", "k", "--config", str(gates_file), "--target", "x:1")
    assert code == 2 and "name the CDN host the probe may load: --cdn-host" in err
    code, _, err = run("probe", "--key", "k", "--cdn-host", "a/b", "--target", "x:1")
    assert code == 2 and "not a HOST or HOST:PORT" in err
