"""The story end to end in a real browser: AC7 literally, the edge's cache, the rollout,
and the error cases (CDN down -> S3 fallback, object missing -> placeholder, CDN 5xx ->
"Image temporarily unavailable")."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import CDN
from tests.e2e.browser.conftest import ARTIFACTS, Stack, Visit
from wishlist_dev.demo_data import PREFIX, sample_png


def _items_with_images(stack: Stack, user: str, count: int, tag: str) -> list[str]:
    keys = []
    for n in range(count):
        key = f"{PREFIX}{user}/{tag}-{n}.png"
        stack.put_image(key, sample_png(n))
        item = stack.repo.create(user, f"MOC {tag} #{n}")
        stack.repo.set_image(user, item.id, key)
        keys.append(key)
    return keys


def _x_cache(visit: Visit, key: str, kind: str = "image") -> list[str]:
    """X-Cache of each response for `key` of one resource type (image loads, fetch probes)."""
    return [
        r.headers.get("x-cache", "")
        for r in visit.responses
        if r.request.resource_type == kind and urlsplit(r.url).path == f"/{key}"
    ]


def test_every_image_comes_from_the_cdn_and_renders(make_stack, visit, user) -> None:
    stack = make_stack()
    _items_with_images(stack, user, 4, "ac7")
    seen = visit(stack, user)
    hosts = {urlsplit(u).hostname for u in seen.image_request_urls()}
    assert hosts == {CDN}
    assert not [r.url for r in seen.requests if "amazonaws.com" in r.url]
    assert not [r.url for r in seen.requests if stack.aws.endpoint in r.url]
    states = seen.image_states()
    assert len(states) == 4
    assert all(s["state"] == "primary" and s["width"] > 0 for s in states), states
    messages = seen.page.locator("figure .image-message")
    assert messages.count() == 4
    assert not any(messages.nth(i).is_visible() for i in range(4))
    ARTIFACTS.mkdir(exist_ok=True)
    seen.page.screenshot(path=str(ARTIFACTS / "gallery.png"), full_page=True)


def test_a_second_visitor_is_served_from_the_edge_and_a_new_version_misses(
    make_stack, visit, user
) -> None:
    stack = make_stack()
    [key] = _items_with_images(stack, user, 1, "hit")
    assert _x_cache(visit(stack, user), key) == ["Miss from cloudfront"]
    assert _x_cache(visit(stack, user), key) == ["Hit from cloudfront"]
    item = stack.repo.list_page(user, 10, None)[0][0]
    stack.repo.set_image(user, item.id, key)  # re-attached: imageVersion 2, a new ?v=
    again = visit(stack, user)
    assert _x_cache(again, key) == ["Miss from cloudfront"]
    assert [urlsplit(u).query for u in again.image_request_urls()] == ["v=2"]


def test_outside_the_rollout_images_come_from_s3_and_render(make_stack, visit, user) -> None:
    stack = make_stack(cdn_rollout_percent=0)
    _items_with_images(stack, user, 2, "s3")
    seen = visit(stack, user)
    urls = seen.image_request_urls()
    assert len(urls) == 2
    assert all(u.startswith(f"{stack.aws.endpoint}/") and "X-Amz-Signature=" in u for u in urls)
    assert all(s["state"] == "primary" and s["width"] > 0 for s in seen.image_states())


def test_with_the_edge_down_images_render_from_the_s3_fallback(make_stack, visit, user) -> None:
    stack = make_stack()
    _items_with_images(stack, user, 2, "down")
    stack.edge.stop()
    try:
        seen = visit(stack, user)
    finally:
        stack.edge.start()
    states = seen.image_states()
    assert [s["state"] for s in states] == ["fallback", "fallback"]
    assert all(s["width"] > 0 and s["src"].startswith(stack.aws.endpoint) for s in states)
    assert all(s["cdnStatus"] == "0" for s in states)


def test_a_missing_object_shows_the_placeholder(make_stack, visit, user) -> None:
    stack = make_stack()
    [key] = _items_with_images(stack, user, 1, "gone")
    stack.aws.client("s3").delete_object(Bucket="lego-moc-wishlist-uploads", Key=key)
    seen = visit(stack, user)
    [state] = seen.image_states()
    assert state["state"] == "placeholder"
    assert state["cdnStatus"] == "404"
    assert state["src"].endswith("/static/placeholder.svg") and state["width"] > 0
    # The page's HEAD probe read the edge's cached-error answer.
    assert _x_cache(seen, key, "fetch") == ["Error from cloudfront"]


def test_an_image_reported_broken_twice_is_probed_once(make_stack, visit, user) -> None:
    """An image that fails while the page script starts reports twice (the script's
    complete-and-broken check, then its queued error event): one probe, one decision."""
    stack = make_stack()
    [key] = _items_with_images(stack, user, 1, "twice")
    stack.aws.client("s3").delete_object(Bucket="lego-moc-wishlist-uploads", Key=key)
    seen = visit(stack, user)
    probes = [r for r in seen.requests if r.resource_type == "fetch"]
    assert len(probes) == 1
    seen.page.evaluate(
        """() => { const i = document.querySelector('img[data-image]');
                   i.dataset.state = 'primary';
                   i.dispatchEvent(new Event('error'));
                   i.dispatchEvent(new Event('error')); }"""
    )
    seen.page.wait_for_function(
        "() => document.querySelector('img[data-image]').dataset.state === 'placeholder'"
    )
    seen.page.wait_for_timeout(500)  # room for a second probe, had one started
    # The probe read the placeholder's 200, so the S3 copy was tried: gone too -> placeholder.
    assert len([r for r in seen.requests if r.resource_type == "fetch"]) == 2


def _visit_with_origin_status(make_stack, visit, user, status: int) -> tuple[Stack, Visit]:
    """The gallery of one image whose origin answers `status` at the edge."""
    stack = make_stack()
    [key] = _items_with_images(stack, user, 1, f"status{status}")
    stack.edge.origin.faults.force_status(status, key)
    try:
        return stack, visit(stack, user)
    finally:
        stack.edge.origin.faults.clear()


@pytest.mark.parametrize("status", [500, 502])
def test_an_origin_error_shows_the_message(make_stack, visit, user, status: int) -> None:
    _, seen = _visit_with_origin_status(make_stack, visit, user, status)
    [state] = seen.image_states()
    assert state["state"] == "message" and state["hidden"] is True
    assert state["cdnStatus"] == str(status)
    message = seen.page.locator("figure .image-message").first
    assert message.is_visible()
    assert message.inner_text() == "Image temporarily unavailable"


def test_a_cdn_503_falls_back_to_s3(make_stack, visit, user) -> None:
    stack, seen = _visit_with_origin_status(make_stack, visit, user, 503)
    [state] = seen.image_states()
    assert state["state"] == "fallback" and state["cdnStatus"] == "503"
    assert state["width"] > 0 and state["src"].startswith(stack.aws.endpoint)
