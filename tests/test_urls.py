import pytest

from worker.urls import article_id, canonicalize, choose_canonical


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
