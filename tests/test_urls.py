import pytest

from worker.urls import article_id, canonicalize, choose_canonical, resolve_url, web_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM:443/a/b?utm_source=x&b=2&a=1#top", "https://example.com/a/b?a=1&b=2"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/x?fbclid=abc", "http://example.com:8080/x"),
    ],
)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


def test_declared_canonical_is_used_when_believable() -> None:
    url = "https://www.site.example/news/story?utm_medium=social"
    assert choose_canonical(url, "/news/story-slug") == "https://www.site.example/news/story-slug"
    assert choose_canonical(url, "https://site.example/news/x") == "https://site.example/news/x"


@pytest.mark.parametrize(
    "declared", ["https://other.example/news/story", "/", "javascript:void(0)"]
)
def test_unbelievable_canonical_is_ignored(declared: str) -> None:
    url = "https://site.example/news/story"
    assert choose_canonical(url, declared) == url


def test_id_is_stable_and_differs_per_url() -> None:
    a = article_id(canonicalize("https://site.example/a?utm_campaign=1"))
    assert a == article_id(canonicalize("https://SITE.example/a"))
    assert a != article_id(canonicalize("https://site.example/b"))
    assert len(a) == 32


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://alice:s3cr3t@site.example/a?b@c", "https://site.example/a?b@c"),
        ("HTTPS://trusted.example@evil.example", "HTTPS://evil.example"),
        ("https://site.example:8443/a", "https://site.example:8443/a"),
        ("http://[::1]/a", "http://[::1]/a"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("file:///etc/passwd", None),
        ("mailto:a@site.example", None),
        ("ftp://site.example/a", None),
        ("http:/site.example/a", None),
        ("https://:443/a", None),
        ("http://[x/a", None),  # broken IPv6 host
        ("https://site\uff0eexample\u2100.com/", None),  # the netloc changes under NFKC
        ("https://site\uff0eexample/", None),  # a fullwidth dot: NFKC changes it too
        ("https://bücher.example/ü", "https://bücher.example/ü"),  # NFKC keeps it
        ("https://site.example:99999/", None),
        ("https://site.example/a\nb", None),
    ],
)
def test_web_url(url: str, expected: str | None) -> None:
    assert web_url(url) == expected


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/b\n/c ", "https://site.example/b/c"),
        ("//cdn.example/i.jpg", "https://cdn.example/i.jpg"),
        ("http://[x", None),
        ("javascript:void(0)", None),
        ("https://u:p@cdn.example/i.jpg", "https://cdn.example/i.jpg"),
        ("", None),
    ],
)
def test_links_in_the_markup_are_resolved_or_dropped(href: str, expected: str | None) -> None:
    assert resolve_url(href, "https://site.example/a/") == expected


def test_an_unparseable_declared_canonical_is_ignored() -> None:
    assert choose_canonical("https://site.example/a", "http://[x") == "https://site.example/a"
