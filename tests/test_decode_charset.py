"""Charset precedence: envelope -> HTTP -> BOM -> meta -> detector -> UTF-8 default."""

from __future__ import annotations

import base64

import orjson
import pytest

from worker.decode import decode
from worker.decode.charset import decode_bytes

RUSSIAN = (
    "<p>Городской совет одобрил строительство нового моста через реку. Работы начнутся "
    "весной следующего года, а движение по старому мосту ограничат на время ремонта.</p>"
)
META_1251 = '<html><head><meta charset="windows-1251"><title>Новости</title></head><body>'
HTTP_EQUIV_1251 = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    "<title>Новости</title></head><body>"
)


def raw(body: bytes, content_type: bytes = b"text/html") -> tuple[str, str | None, str | None]:
    headers = [("content-type", content_type), ("url", b"https://city.example/news")]
    page = decode(body, headers)
    return page.body, page.charset, page.charset_source


@pytest.mark.parametrize("head", [META_1251, HTTP_EQUIV_1251])
def test_windows_1251_page_with_only_a_meta_tag(head: str) -> None:
    body, charset, source = raw((head + RUSSIAN + "</body></html>").encode("cp1251"))
    assert (charset, source) == ("cp1251", "meta")
    assert "Городской совет одобрил" in body


def test_http_header_that_lies_falls_through_to_meta() -> None:
    page = (META_1251 + RUSSIAN).encode("cp1251")
    body, charset, source = raw(page, b"text/html; charset=utf-8")
    assert (charset, source) == ("cp1251", "meta")
    assert "Городской" in body


def test_legacy_label_on_valid_utf8_is_a_lie() -> None:
    body, charset, source = raw(RUSSIAN.encode("utf-8"), b"text/html; charset=iso-8859-1")
    assert (charset, source) == ("utf-8", "default")
    assert "Городской" in body


def test_unknown_charset_label_falls_through() -> None:
    body, charset, source = raw("<p>café</p>".encode(), b"text/html; charset=x-no-such-thing")
    assert (body, charset, source) == ("<p>café</p>", "utf-8", "default")


def test_non_text_codec_label_is_not_used() -> None:
    _, charset, source = raw(b"<p>aGVsbG8=</p>", b"text/html; charset=base64")
    assert (charset, source) == ("utf-8", "default")


@pytest.mark.parametrize(
    ("encoded", "codec"),
    [
        (b"\xef\xbb\xbf" + "<p>café</p>".encode(), "utf-8"),
        ("<p>café</p>".encode("utf-16"), "utf-16-le"),
        (b"\xfe\xff" + "<p>café</p>".encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_byte_order_mark(encoded: bytes, codec: str) -> None:
    assert raw(encoded) == ("<p>café</p>", codec, "bom")


def test_bom_beats_a_contradicting_meta_and_a_lying_header() -> None:
    page = b"\xef\xbb\xbf" + '<meta charset="koi8-r"><p>café</p>'.encode()
    body, charset, source = raw(page, b"text/html; charset=utf-16")
    assert (charset, source) == ("utf-8", "bom")
    assert body.endswith("<p>café</p>")


def test_http_charset() -> None:
    assert raw("<p>Ärger</p>".encode("cp1252"), b"text/html; charset=windows-1252") == (
        "<p>Ärger</p>",
        "cp1252",
        "http",
    )


def test_latin1_label_decodes_as_windows_1252() -> None:
    body, _, _ = raw("<p>“quoted” – €5</p>".encode("cp1252"), b"text/html; charset=ISO-8859-1")
    assert body == "<p>“quoted” – €5</p>"


def test_envelope_charset_beats_http_charset() -> None:
    record = {
        "url": "https://city.example/news",
        "body_b64": base64.b64encode("<p>Ärger</p>".encode("cp1252")).decode(),
        "charset": "windows-1252",
        "headers": {"content-type": "text/html; charset=iso-8859-2"},
    }
    page = decode(orjson.dumps(record), [])
    assert (page.body, page.charset, page.charset_source) == ("<p>Ärger</p>", "cp1252", "envelope")


def test_detector_for_undeclared_legacy_bytes() -> None:
    body, charset, source = raw(("<html><body>" + RUSSIAN * 3).encode("cp1251"))
    assert source == "detector"
    assert charset == "cp1251"
    assert "Городской совет одобрил" in body


def test_valid_utf8_without_declaration_is_default() -> None:
    assert raw("<p>naïve café</p>".encode()) == ("<p>naïve café</p>", "utf-8", "default")


def test_a_stray_bad_byte_keeps_the_declared_utf8() -> None:
    page = ("<p>" + "Grüße aus Köln. " * 50 + "</p>").encode() + b"\xff"
    body, charset, source = raw(page, b"text/html; charset=utf-8")
    assert (charset, source) == ("utf-8", "http")
    assert body.endswith("\ufffd")


def test_meta_naming_utf16_means_utf8() -> None:
    _, charset, source = raw('<meta charset="utf-16"><p>café</p>'.encode())
    assert (charset, source) == ("utf-8", "meta")


def test_meta_tag_beyond_the_scan_window_is_ignored() -> None:
    page = ("<html><head>" + "<!-- padding -->" * 400 + '<meta charset="koi8-r">').encode()
    _, _, source = raw(page + "<p>привет</p>".encode("koi8-r"))
    assert source != "meta"


def test_undecodable_garbage_still_decodes() -> None:
    text, charset, source = decode_bytes(bytes(range(128, 256)) * 4, [])
    assert isinstance(text, str)
    assert source in {"detector", "default"}
    assert charset


def test_json_string_body_has_no_charset() -> None:
    page = decode(orjson.dumps({"url": "https://city.example/", "html": RUSSIAN}), [])
    assert (page.charset, page.charset_source) == (None, "none")


FRENCH = (
    "<p>Le café du théâtre a rouvert après les travaux : déjà complet, à l'été "
    "prochain la scène accueillera un festival. Où réserver ? À l'accueil.</p>"
)


def stray(data: bytes, every: int) -> bytes:
    """A Latin-1 é after every ``every``-th space: the invalid bytes of a pasted snippet."""
    parts = data.split(b" ")
    return b" ".join(p + b"\xe9" if i % every == every - 1 else p for i, p in enumerate(parts))


@pytest.mark.parametrize(("repeat", "every"), [(20, 200), (190, 900)])
def test_a_few_stray_bytes_in_declared_utf8_are_replaced_not_a_reason_to_guess(
    repeat: int, every: int
) -> None:
    """2 invalid bytes in 3 KB, 5 in 30 KB: declared UTF-8 (header and meta) stays UTF-8."""
    page = stray(('<meta charset="utf-8">' + FRENCH * repeat).encode(), every)
    assert 2 <= page.count(b"\xe9 ") <= 5
    body, charset, source = raw(page, b"text/html; charset=utf-8")
    assert (charset, source) == ("utf-8", "http")
    assert body.count("\ufffd") == page.count(b"\xe9 ")
    assert body.replace("\ufffd", "").count("café du théâtre") == repeat


def test_a_legacy_page_labelled_utf8_is_still_a_lie() -> None:
    """Every accented letter invalid, no valid multi-byte character: not UTF-8."""
    body, charset, source = raw((FRENCH * 10).encode("cp1252"), b"text/html; charset=utf-8")
    assert (charset, source) != ("utf-8", "http")
    assert "\ufffd" not in body
