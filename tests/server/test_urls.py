"""URL rules: key -> URL, legacy URL -> key, and what is refused."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from image_resolver.urls import (
    MAX_KEY_BYTES,
    MAX_VERSION_CHARS,
    RefError,
    UrlRules,
    has_invisible,
    quote_key,
)

BUCKET = "lego-moc-wishlist-uploads"
CDN = "d1234abcd.cloudfront.net"
KEY = "uploads/wishlist/user-123/abc123.jpg"
RULES = UrlRules(bucket=BUCKET, region="us-east-1", cdn_domain=CDN)
SLOW = UrlRules(bucket=BUCKET, region="us-east-1", cdn_domain=CDN)
object.__setattr__(SLOW, "_plain_key", re.compile(r"(?!)"))  # same rules, fast path off


# ---- key -> URL (the story's examples first) ---------------------------------------


def test_story_key_becomes_cloudfront_url() -> None:
    assert (
        RULES.cdn_url(KEY)
        == "https://d1234abcd.cloudfront.net/uploads/wishlist/user-123/abc123.jpg"
    )


def test_version_is_appended_as_v_query() -> None:
    assert RULES.cdn_url(KEY, "1706400000") == f"https://{CDN}/{KEY}?v=1706400000"


def test_version_is_url_encoded() -> None:
    assert RULES.cdn_url(KEY, "a b&c=d/e") == f"https://{CDN}/{KEY}?v=a%20b%26c%3Dd%2Fe"


def test_key_segments_are_percent_encoded_slashes_kept() -> None:
    key = "uploads/wishlist/u 1/caf\u00e9 #1?.jpg"
    assert RULES.cdn_url(key) == f"https://{CDN}/uploads/wishlist/u%201/caf%C3%A9%20%231%3F.jpg"


def test_unreserved_characters_are_not_encoded() -> None:
    key = "uploads/wishlist/A-z_0.9~/x.jpg"
    assert RULES.cdn_url(key) == f"https://{CDN}/{key}"


def test_plus_is_encoded_like_botocore() -> None:
    assert RULES.cdn_url("uploads/wishlist/u/a+b.jpg").endswith("/a%2Bb.jpg")


def test_s3_fallback_is_virtual_hosted_in_region() -> None:
    rules = UrlRules(bucket=BUCKET, region="eu-west-1", cdn_domain=CDN)
    assert rules.s3_url(KEY) == f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/{KEY}"


def test_dotted_bucket_falls_back_to_path_style() -> None:
    rules = UrlRules(bucket="images.example.com", region="eu-west-1")
    assert rules.s3_url(KEY) == f"https://s3.eu-west-1.amazonaws.com/images.example.com/{KEY}"


def test_local_endpoint_gives_path_style_urls() -> None:
    rules = UrlRules(bucket=BUCKET, region="us-east-1", s3_endpoint="http://127.0.0.1:5000/")
    assert rules.s3_url(KEY) == f"http://127.0.0.1:5000/{BUCKET}/{KEY}"


def test_invalidation_path_matches_cdn_url_path() -> None:
    key = "uploads/wishlist/u/\u00e9 t.png"
    assert RULES.cdn_url(key).removeprefix(f"https://{CDN}") == RULES.invalidation_path(key)


# ---- legacy URL -> key ----------------------------------------------------------------

LEGACY_FORMS = {
    "story path-style": f"https://s3.amazonaws.com/{BUCKET}/{KEY}",
    "http path-style": f"http://s3.amazonaws.com/{BUCKET}/{KEY}",
    "regional path-style": f"https://s3.eu-central-1.amazonaws.com/{BUCKET}/{KEY}",
    "dash-region path-style": f"https://s3-us-west-2.amazonaws.com/{BUCKET}/{KEY}",
    "external-1 path-style": f"https://s3-external-1.amazonaws.com/{BUCKET}/{KEY}",
    "virtual-hosted global": f"https://{BUCKET}.s3.amazonaws.com/{KEY}",
    "virtual-hosted regional": f"https://{BUCKET}.s3.us-east-1.amazonaws.com/{KEY}",
    "virtual-hosted dash-region": f"https://{BUCKET}.s3-eu-west-1.amazonaws.com/{KEY}",
    "dualstack virtual-hosted": f"https://{BUCKET}.s3.dualstack.us-east-1.amazonaws.com/{KEY}",
    "dualstack path-style": f"https://s3.dualstack.ap-south-1.amazonaws.com/{BUCKET}/{KEY}",
    "accelerate": f"https://{BUCKET}.s3-accelerate.amazonaws.com/{KEY}",
    "accelerate dualstack": f"https://{BUCKET}.s3-accelerate.dualstack.amazonaws.com/{KEY}",
    "fips": f"https://{BUCKET}.s3-fips.us-gov-west-1.amazonaws.com/{KEY}",
    "website": f"http://{BUCKET}.s3-website-us-east-1.amazonaws.com/{KEY}",
    "website dot-region": f"http://{BUCKET}.s3-website.eu-west-3.amazonaws.com/{KEY}",
    "s3 uri": f"s3://{BUCKET}/{KEY}",
    "upper-case host": f"HTTPS://{BUCKET.upper()}.S3.AMAZONAWS.COM/{KEY}",
    "explicit port 443": f"https://{BUCKET}.s3.amazonaws.com:443/{KEY}",
    "sigv4 presigned": (
        f"https://{BUCKET}.s3.amazonaws.com/{KEY}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIA%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-Signature=deadbeef"
    ),
    "sigv2 presigned": f"https://s3.amazonaws.com/{BUCKET}/{KEY}?AWSAccessKeyId=AKIA&Expires=1&Signature=x%3D",
    "fragment": f"https://{BUCKET}.s3.amazonaws.com/{KEY}#top",
    "our cdn url": f"https://{CDN}/{KEY}",
}


@pytest.mark.parametrize("url", LEGACY_FORMS.values(), ids=LEGACY_FORMS.keys())
def test_every_legacy_form_gives_the_key(url: str) -> None:
    assert RULES.parse(url).key == KEY


def test_percent_encoded_key_is_decoded_once() -> None:
    url = f"https://{BUCKET}.s3.amazonaws.com/uploads/wishlist/u%201/caf%C3%A9%2520x.jpg"
    assert RULES.parse(url).key == "uploads/wishlist/u 1/caf\u00e9%20x.jpg"


def test_s3_uri_key_is_taken_raw() -> None:
    assert (
        RULES.parse(f"s3://{BUCKET}/uploads/wishlist/u/a%20b.jpg").key
        == "uploads/wishlist/u/a%20b.jpg"
    )


def test_cdn_url_keeps_its_version_unless_one_is_given() -> None:
    url = RULES.cdn_url(KEY, "7")
    assert RULES.parse(url).version == "7"
    assert RULES.parse(url, version="8").version == "8"


def test_resolving_a_resolved_url_is_idempotent() -> None:
    key = "uploads/wishlist/u/\u00fcber ~(1).jpg"
    url = RULES.cdn_url(key, "v 1")
    again = RULES.parse(url)
    assert (again.key, again.version) == (key, "v 1")
    assert RULES.cdn_url(again.key, again.version) == url


def test_local_endpoint_urls_are_ours() -> None:
    rules = UrlRules(bucket=BUCKET, region="us-east-1", s3_endpoint="http://127.0.0.1:5000")
    assert rules.parse(rules.s3_url(KEY)).key == KEY


# ---- refused ------------------------------------------------------------------------

REFUSED = {
    "empty": ("", "empty"),
    "blank": ("   ", "empty"),
    "other bucket path-style": (f"https://s3.amazonaws.com/other-bucket/{KEY}", "foreign_bucket"),
    "other bucket virtual-hosted": (f"https://other.s3.amazonaws.com/{KEY}", "foreign_bucket"),
    "other bucket s3 uri": (f"s3://other/{KEY}", "foreign_bucket"),
    "foreign host": (f"https://evil.example.com/{BUCKET}/{KEY}", "foreign_host"),
    "lookalike host": (f"https://{BUCKET}.s3.amazonaws.com.evil.net/{KEY}", "foreign_host"),
    "foreign port": (f"https://{BUCKET}.s3.amazonaws.com:8443/{KEY}", "foreign_host"),
    "userinfo": (f"https://user:pw@{BUCKET}.s3.amazonaws.com/{KEY}", "foreign_host"),
    "ftp scheme": (f"ftp://{BUCKET}.s3.amazonaws.com/{KEY}", "bad_scheme"),
    "javascript scheme": ("javascript://alert(1)", "bad_scheme"),
    "outside prefix": ("uploads/other/u/a.jpg", "outside_prefix"),
    "prefix without slash": ("uploads/wishlistx/u/a.jpg", "outside_prefix"),
    "leading slash": ("/uploads/wishlist/u/a.jpg", "empty_segment"),
    "dot-dot escape": ("uploads/wishlist/../private/a.jpg", "dot_segment"),
    "encoded dot-dot": (f"https://{CDN}/uploads/wishlist/%2E%2E/x/a.jpg", "dot_segment"),
    "dot segment": ("uploads/wishlist/./a.jpg", "dot_segment"),
    "empty segment": ("uploads/wishlist/u//a.jpg", "empty_segment"),
    "trailing slash": ("uploads/wishlist/u/", "empty_segment"),
    "prefix only": ("uploads/wishlist/", "empty_segment"),
    "backslash": ("uploads/wishlist/u\\a.jpg", "backslash"),
    "control char": ("uploads/wishlist/u/a\n.jpg", "control_char"),
    "encoded control char": (f"https://{CDN}/uploads/wishlist/u/a%00.jpg", "control_char"),
    "del char": ("uploads/wishlist/u/a\x7f.jpg", "control_char"),
    "too long": ("uploads/wishlist/" + "a" * MAX_KEY_BYTES, "too_long"),
    "too long in utf-8": ("uploads/wishlist/" + "\u00e9" * 510, "too_long"),
    "invalid utf-8 escape": (f"https://{CDN}/uploads/wishlist/u/%FF.jpg", "bad_encoding"),
    "bad port": (f"https://{BUCKET}.s3.amazonaws.com:99999/{KEY}", "bad_url"),
}


@pytest.mark.parametrize(("ref", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_refused(ref: str, reason: str) -> None:
    with pytest.raises(RefError) as caught:
        RULES.parse(ref)
    assert caught.value.reason == reason


def test_error_messages_never_echo_the_ref() -> None:
    secret = "X-Amz-Signature=topsecretsignature"
    for ref in (
        f"https://evil.example.com/{KEY}?{secret}",
        f"https://zzforeign.s3.amazonaws.com/x?{secret}",
    ):
        with pytest.raises(RefError) as caught:
            RULES.parse(ref)
        assert "evil" not in caught.value.message
        assert "zzforeign" not in caught.value.message
        assert "topsecret" not in caught.value.message


def test_overlong_version_is_refused_naming_version() -> None:
    with pytest.raises(RefError) as caught:
        RULES.parse(KEY, version="x" * 200)
    assert caught.value.field == "version"


def test_cdn_url_needs_no_cdn_domain_to_be_refused_when_unset() -> None:
    rules = UrlRules(bucket=BUCKET, region="us-east-1")
    with pytest.raises(RefError):
        rules.parse(f"https://{CDN}/{KEY}")


def test_custom_prefix() -> None:
    rules = UrlRules(bucket=BUCKET, region="us-east-1", allowed_prefix="media/")
    assert rules.parse("media/x.png").key == "media/x.png"
    with pytest.raises(RefError):
        rules.parse(KEY)


# ---- properties -----------------------------------------------------------------------

segment = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp"), blacklist_characters="/\\"
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: s not in (".", ".."))
keys = st.lists(segment, min_size=1, max_size=5).map(
    lambda parts: "uploads/wishlist/" + "/".join(parts)
)
versions = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), max_size=20
)


@settings(max_examples=400)
@given(keys, versions)
def test_accepted_key_round_trips_through_cdn_url(key: str, version: str) -> None:
    assume(len(key.encode()) <= MAX_KEY_BYTES)
    parsed = RULES.parse(key, version)
    url = RULES.cdn_url(parsed.key, parsed.version)
    back = RULES.parse(url)
    assert (back.key, back.version) == (key, version)
    # the URL path is exactly botocore's quoting of the key
    assert urlsplit(url).path == "/" + quote(key, safe="/~")
    assert unquote(urlsplit(url).path[1:]) == key


@settings(max_examples=300)
@given(keys)
def test_s3_url_round_trips(key: str) -> None:
    assume(len(key.encode()) <= MAX_KEY_BYTES)
    assert RULES.parse(RULES.s3_url(key)).key == key


@settings(max_examples=500)
@given(st.text(max_size=60))
def test_nothing_outside_the_prefix_is_ever_accepted(ref: str) -> None:
    try:
        key = RULES.parse(ref).key
    except RefError:
        return
    assert key.startswith("uploads/wishlist/")
    assert all(seg not in ("", ".", "..") for seg in key.split("/"))


@settings(max_examples=500)
@given(
    st.one_of(
        keys,
        st.text(max_size=40),
        st.from_regex(r"uploads/wishlist/[a-z./~_-]{0,12}", fullmatch=True),
    ),
    st.one_of(
        st.just(""),
        st.from_regex(r"[A-Za-z0-9]{1,130}", fullmatch=True),
        versions,
        st.text(max_size=12),
    ),
)
def test_fast_path_agrees_with_checked_path(ref: str, version: str) -> None:
    """The plain-key and plain-version fast paths are optimisations only: same answers
    (URLs, version, refusal reason) as the full checks."""

    def outcome(rules: UrlRules) -> object:
        try:
            parsed = rules.parse(ref, version)
        except RefError as exc:
            return ("refused", exc.field, exc.reason)
        # the path and query parse() builds are the ones cdn_url()/s3_url() would build
        assert rules.cdn_url_of(parsed) == rules.cdn_url(parsed.key, parsed.version)
        assert rules.s3_url_of(parsed) == rules.s3_url(parsed.key, parsed.version)
        return (parsed.key, parsed.version, rules.cdn_url_of(parsed), rules.s3_url_of(parsed))

    assert outcome(RULES) == outcome(SLOW)


@settings(max_examples=400)
@given(
    st.one_of(st.from_regex(r"[A-Za-z0-9]{1,130}", fullmatch=True), versions, st.text(max_size=140))
)
def test_plain_version_shortcut_keeps_the_full_rule(version: str) -> None:
    """Letters-and-digits versions skip the checks and quote(): same refusals, same URL."""
    accepted = (
        len(version) <= MAX_VERSION_CHARS
        and not re.search(r"[\x00-\x1f\x7f-\x9f]", version)
        and not has_invisible(version)
    )
    if not accepted:
        with pytest.raises(RefError) as refused:
            RULES.parse(KEY, version)
        assert (refused.value.field, refused.value.reason) == ("version", "bad_version")
        return
    url = RULES.cdn_url_of(RULES.parse(KEY, version))
    assert url == f"https://{CDN}/{KEY}" + (f"?v={quote(version, safe='')}" if version else "")


def test_quote_key_is_the_botocore_rule() -> None:
    from botocore.utils import percent_encode

    for key in ("uploads/wishlist/a b+c~d", "uploads/wishlist/\u00e9\u00e8/\U0001f600.png"):
        assert quote_key(key) == "/".join(percent_encode(p) for p in key.split("/"))


# ---- the legacy-URL parse memo ---------------------------------------------------


def test_parse_memo_is_bounded_by_bytes_not_entries() -> None:
    from image_resolver.urls import PARSE_CACHE_BYTES

    rules = UrlRules(bucket=BUCKET, region="us-east-1", cdn_domain=CDN)
    big = "%C3%A9" * 490  # a 980-byte name, ~3 KB once percent-encoded
    urls = [
        f"https://{BUCKET}.s3.amazonaws.com/uploads/wishlist/u/{i}/{big}.jpg" for i in range(6000)
    ]
    for url in urls:
        rules.parse(url)
    assert 0 < rules.parse_cache_bytes <= PARSE_CACHE_BYTES
    again = rules.parse(urls[-1])  # recent entries stay memoised and correct
    assert again.key == f"uploads/wishlist/u/5999/{'é' * 490}.jpg"
    assert rules.parse(urls[0]).key.startswith("uploads/wishlist/u/0/")  # evicted, parsed again


# ---- invisible and bidi characters (Trojan Source) ----------------------------------

INVISIBLE = ["\u202e", "\u200b", "\u2066", "\u200f", "\ufeff", "\u00ad", "\u2028", "\u0085"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_keys_with_invisible_or_bidi_characters_are_refused(char: str) -> None:
    key = f"uploads/wishlist/u-1/photo{char}gpj.exe"
    encoded = quote(key.encode(), safe="/")
    for ref in (key, f"https://s3.amazonaws.com/{BUCKET}/{encoded}", f"s3://{BUCKET}/{key}"):
        with pytest.raises(RefError) as caught:
            RULES.parse(ref)
        assert caught.value.field == "ref"
        assert caught.value.reason in ("invisible_char", "control_char")
        assert char not in caught.value.message


@given(
    st.characters(categories=["Cf", "Cc", "Zl", "Zp"]),
    st.text(alphabet="abc-_.", min_size=1, max_size=8),
)
def test_any_format_or_control_character_is_refused(char: str, name: str) -> None:
    with pytest.raises(RefError):
        RULES.parse(f"uploads/wishlist/u-1/{name}{char}.jpg")


def test_visible_non_ascii_keys_are_still_accepted() -> None:
    key = "uploads/wishlist/u-1/été 日本 ñ.jpg"
    assert RULES.parse(key).key == key


@pytest.mark.parametrize("char", ["\u202e", "\u200b"])
def test_versions_with_invisible_characters_are_refused(char: str) -> None:
    with pytest.raises(RefError) as caught:
        RULES.parse(KEY, f"v{char}1")
    assert caught.value.field == "version"
