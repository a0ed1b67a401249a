"""Page metadata from what a page says about itself: JSON-LD, meta tags, links, fallbacks.

The rules read ``PageFacts`` (``facts``), which each engine gathers from its own parse,
so both engines decide alike (``metadata_from_facts``); this module knows no parser.
Each field is taken from the first source in its priority list that yields a usable
value, because publishers fill the structured sources (JSON-LD, OpenGraph) more
carefully than the visible page.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from worker.decode.fields import depth_exceeds
from worker.extract.bounds import MAX_AUTHOR_CHARS, MAX_AUTHORS
from worker.extract.facts import PageFacts, TimeTag
from worker.urls import domain_of, resolve_url


@dataclass(slots=True)
class PageMetadata:
    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None  # ISO 8601: a date, or a datetime with its offset when given
    modified_at: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    image_url: str | None = None
    language_hint: str | None = None  # <html lang>, as declared
    schema_types: list[str] = field(default_factory=list)  # JSON-LD @type of the page's entities
    og_type: str | None = None


# --- meta tag names, in priority order (lower-case) --------------------------------------------

TITLE_TAGS = ("og:title", "twitter:title", "parsely-title", "sailthru.title", "dc.title", "title")
DESCRIPTION_TAGS = (
    "og:description",
    "description",
    "twitter:description",
    "dc.description",
    "sailthru.description",
)
AUTHOR_TAGS = (
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "byl",
    "byline",
    "cxenseparse:author",
)
PUBLISHED_TAGS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dc.date.created",
    "dcterms.created",
    "publish-date",
    "publishdate",
    "publish_date",
    "pubdate",
    "date",
    "article.published",
    "cxenseparse:recs:publishtime",
    "og:published_time",
)
MODIFIED_TAGS = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
    "last-modified",
    "article.updated",
)
SITE_NAME_TAGS = ("og:site_name", "application-name", "apple-mobile-web-app-title")
IMAGE_TAGS = (
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "twitter:image",
    "twitter:image:src",
)

ARTICLE_SCHEMA_TYPES = frozenset(
    {"blogposting", "liveblogposting", "socialmediaposting", "report", "review", "recipe", "howto"}
)

# --- JSON-LD ------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_JSONLD_WRAPPERS = re.compile(r"<!--|-->|//\s*<!\[CDATA\[|//\s*\]\]>|<!\[CDATA\[|\]\]>")


def parse_jsonld(raw: str) -> list[object]:
    """Every JSON value in a script body; tolerates comments, CDATA, trailing commas and
    several values back to back, since hand-written JSON-LD is often not valid JSON."""
    text = _JSONLD_WRAPPERS.sub("", raw).strip()
    if not text:
        return []
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        values = _decode_all(candidate)
        if values:
            return values
    return []


MAX_JSONLD_DEPTH = 32  # real JSON-LD nests a few levels; the rules recurse into it
MAX_NUMBER_CHARS = 64  # an int over 4,300 digits cannot even be converted


def _bounded_int(text: str) -> int | None:
    return int(text) if len(text) <= MAX_NUMBER_CHARS else None


def _finite_float(text: str) -> float | None:
    value = float(text) if len(text) <= MAX_NUMBER_CHARS else math.inf
    return value if math.isfinite(value) else None


def _no_constant(name: str) -> None:
    """``NaN`` and ``Infinity`` are not JSON (nor is ``1e400``): a value we drop, not "nan"."""
    return None


def _decode_all(text: str) -> list[object]:
    """Values a script's JSON cannot be read into (too deep, an unconvertible number) are
    dropped, never the page: metadata is optional, the article is not."""
    decoder = json.JSONDecoder(
        strict=False,
        parse_int=_bounded_int,
        parse_float=_finite_float,
        parse_constant=_no_constant,
    )
    values: list[object] = []
    pos = 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t\r\n;,":
            pos += 1
        if pos >= len(text):
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            return values
        if not depth_exceeds(value, MAX_JSONLD_DEPTH):
            values.append(value)
    return values


def schema_type_names(node: dict) -> list[str]:
    """``@type`` as bare names: "schema:NewsArticle" and full URLs become "NewsArticle"."""
    raw = node.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return [re.split(r"[/:#]", n)[-1] for n in names if isinstance(n, str) and n]


def jsonld_entities(scripts: Iterable[str]) -> list[dict]:
    """The page's top-level JSON-LD entities: script roots, @graph members and mainEntity."""
    entities: list[dict] = []
    for script in scripts:
        for value in parse_jsonld(script):
            entities.extend(_walk_entities(value, depth=0))
    return entities


def _walk_entities(value: object, depth: int) -> Iterator[dict]:
    if depth > 4:
        return
    if isinstance(value, list):
        for item in value:
            yield from _walk_entities(item, depth + 1)
    elif isinstance(value, dict):
        if "@type" in value:
            yield value
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            inner = value.get(key)
            if isinstance(inner, dict | list):
                yield from _walk_entities(inner, depth + 1)


def is_article_type(name: str) -> bool:
    """Case-blind: hand-written JSON-LD says "article" and "Blogposting" too."""
    folded = name.casefold()
    return folded.endswith("article") or folded in ARTICLE_SCHEMA_TYPES


def _entity_rank(node: dict) -> int:
    """Articles describe the page's content best, then the WebPage itself; the rest
    (Organization, BreadcrumbList, Product ...) only fill what is still missing."""
    types = schema_type_names(node)
    if any(is_article_type(t) for t in types):
        return 0
    if any(t.endswith("Page") for t in types):
        return 1
    return 2


def _jsonld_text(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return _clean_text(str(value))
    return None


def _jsonld_names(value: object) -> list[str]:
    if isinstance(value, list):
        return [n for item in value for n in _jsonld_names(item)]
    if isinstance(value, dict):
        name = value.get("name")
        return _jsonld_names(name) if name else []
    if isinstance(value, str):
        return [value]
    return []


def _jsonld_url(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _clean_text(value: str) -> str | None:
    """Whitespace collapsed and entities decoded: CMSs often escape them twice."""
    text = " ".join(html.unescape(value).split())
    return text or None


# --- meta tags and the document -----------------------------------------------------------------


def _first_tag(tags: dict[str, list[str]], names: Iterable[str]) -> str | None:
    for name in names:
        for value in tags.get(name, ()):
            text = _clean_text(value)
            if text:
                return text
    return None


def microdata(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    """Microdata values (``<time itemprop=datePublished datetime=..>``) cleaned, empty ones
    dropped, keyed by lower-cased itemprop."""
    values: dict[str, list[str]] = {}
    for prop, found in raw.items():
        for value in found:
            text = _clean_text(value)
            if text:
                values.setdefault(prop, []).append(text)
    return values


def _html_title(titles: Iterable[str]) -> str | None:
    return next((text for text in map(_clean_text, titles) if text), None)


MIN_HEADING_OVERLAP = 0.5
MAX_TITLE_WORDS = 40


def visible_headline(headings: Iterable[str], declared: str | None) -> str | None:
    """The page's ``<h1>`` when it restates the declared title: declared titles are often
    rewritten for search engines, while an unrelated h1 is usually a logo or a slogan."""
    if not declared:
        return None
    declared_words = set(_WORD.findall(declared.casefold()))
    for heading in headings:
        text = _clean_text(heading)
        words = set(_WORD.findall(text.casefold())) if text else set()
        if not words or len(text.split()) > MAX_TITLE_WORDS:
            continue
        if len(words & declared_words) >= MIN_HEADING_OVERLAP * len(words):
            return text
    return None


def _language_hint(html_lang: str | None, tags: dict[str, list[str]]) -> str | None:
    lang = (html_lang or "").strip()
    return lang or _first_tag(tags, ("content-language", "language", "dc.language"))


def _canonical(hrefs: Iterable[str], url: str | None, tags: dict[str, list[str]]) -> str | None:
    href = next((h.strip() for h in hrefs if h.strip()), None) or _first_tag(tags, ("og:url",))
    return resolve_url(href, url)


# --- dates --------------------------------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
HUMAN_DATES = (
    re.compile(rf"\b{_DAY}(?:\s+of)?[\s\-]+{_MONTH},?[\s\-]+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
)
NUMERIC_DATES = (
    re.compile(r"\b(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b"),  # European d.m.y
)
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}.*)?$")
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
URL_DATE = re.compile(
    r"/(?P<year>(?:19|20)\d{2})[/-](?P<month>[01]?\d)[/-](?P<day>[0-3]?\d)(?:/|-|$)"
)
URL_DATE_COMPACT = re.compile(r"/(?P<year>(?:19|20)\d{2})(?P<month>[01]\d)(?P<day>[0-3]\d)/")
MIN_YEAR, MAX_YEAR = 1900, 2100


def _make_date(year: str, month: str | int, day: str) -> str | None:
    try:
        m = month if isinstance(month, int) else MONTHS.get(month.lower().rstrip(".")) or int(month)
        value = date(int(year), m, int(day))
    except ValueError:
        return None
    return value.isoformat() if MIN_YEAR <= value.year <= MAX_YEAR else None


def normalise_date(value: str | None) -> str | None:
    """ISO 8601 from the shapes found in meta tags and JSON-LD: ISO dates and datetimes
    (offset kept, seconds precision), RFC 2822, epoch seconds, and human dates."""
    if not value:
        return None
    text = " ".join(str(value).split())
    if _ISO_DATETIME.match(text):
        return _iso(text)
    if _EPOCH.match(text):
        seconds = int(text[:10])
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None and MIN_YEAR <= parsed.year <= MAX_YEAR:
        return parsed.replace(microsecond=0).isoformat()
    return find_date(text)


def _iso(text: str) -> str | None:
    if len(text) == 10:
        return _make_date(text[:4], text[5:7], text[8:10])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return _make_date(text[:4], text[5:7], text[8:10])
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None
    return parsed.replace(microsecond=0).isoformat()


def find_date(text: str) -> str | None:
    """The first calendar date written inside free text ("Published 3 March 2024, 10:00")."""
    for pattern in (*HUMAN_DATES, *NUMERIC_DATES):
        match = pattern.search(text)
        if match:
            found = _make_date(match["year"], match["month"], match["day"])
            if found:
                return found
    return None


def date_from_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for pattern in (URL_DATE, URL_DATE_COMPACT):
        match = pattern.search(path)
        if match:
            found = _make_date(match["year"], match["month"], match["day"])
            if found:
                return found
    return None


MAX_DATE_TEXT = 80


def _is_marked_time(tag: TimeTag) -> bool:
    return tag.pubdate or any(k in tag.classes.lower() for k in ("publish", "posted", "entry-date"))


def _visible_date(facts: PageFacts) -> str | None:
    """A date the page shows: the first ``<time>`` datetime, preferring one marked as the
    publication time, then short texts of date-named elements (``DATE_CLASS``)."""
    marked = [t for t in facts.times if _is_marked_time(t)]
    for tag in (*marked, *facts.times):
        found = normalise_date(tag.datetime)
        if found:
            return found
    for text in facts.date_texts():
        if len(text) <= MAX_DATE_TEXT:
            found = find_date(text)
            if found:
                return found
    return None


# --- authors and titles -------------------------------------------------------------------------

BYLINE_PREFIX = re.compile(
    r"^(?:(?:written|posted|published|reported|words|story|text|article)\s+)?by[:\s]+"
    r"|^(?:authors?|written|reporter|posted)\s*:\s*",
    re.IGNORECASE,
)
AUTHOR_SEPARATORS = re.compile(r"\s*(?:[,;|/]|\band\b|&)\s*", re.IGNORECASE)
CREDENTIALS = frozenset(
    {
        "phd",
        "ph.d.",
        "ph.d",
        "md",
        "m.d.",
        "jr",
        "jr.",
        "sr",
        "sr.",
        "mba",
        "esq",
        "esq.",
        "dr",
        "rn",
    }
)
_CREDENTIAL_TOKEN = re.compile(r"^[A-Z0-9][A-Z0-9.\-]*$")
_NOT_A_NAME = re.compile(r"https?://|www\.|\S+@\S+\.\w+|^@|\.(?:com|org|net)\b", re.IGNORECASE)
_URL = re.compile(r"^(?:https?:|www\.)", re.IGNORECASE)
MAX_NAME_WORDS = 6


def _is_credential(piece: str) -> bool:
    tokens = piece.split()
    return 0 < len(tokens) <= 2 and all(
        t.lower() in CREDENTIALS or _CREDENTIAL_TOKEN.match(t) for t in tokens
    )


def split_authors(value: str) -> list[str]:
    """A byline or author field as a list of names: "By A, B and C" -> [A, B, C].
    Academic and professional suffixes stay with their name ("Jane Roe, PhD")."""
    text = BYLINE_PREFIX.sub("", " ".join(value.split()))
    if _URL.match(text):
        return []
    names: list[str] = []
    for piece in AUTHOR_SEPARATORS.split(text):
        piece = BYLINE_PREFIX.sub("", piece.strip(" .-–—:"))
        if not piece or _NOT_A_NAME.search(piece) or find_date(piece):
            continue
        if names and _is_credential(piece):
            names[-1] = f"{names[-1]}, {piece}"
            continue
        if len(piece.split()) > MAX_NAME_WORDS or not re.search(r"[^\W\d_]", piece):
            continue
        names.append(piece)
    return names


MAX_AUTHOR_SOURCE_CHARS = MAX_AUTHORS * MAX_AUTHOR_CHARS


def clean_authors(values: Iterable[str]) -> list[str]:
    """Distinct names, in order. A source is read up to a length that holds ``MAX_AUTHORS``
    long names, and one name past the bound is kept so ``bound_metadata`` counts the cut:
    a megabyte of names would otherwise cost seconds of splitting."""
    seen: set[str] = set()
    authors: list[str] = []
    for value in values:
        for name in split_authors(value[:MAX_AUTHOR_SOURCE_CHARS]):
            if name.casefold() not in seen:
                seen.add(name.casefold())
                authors.append(name)
                if len(authors) > MAX_AUTHORS:
                    return authors
    return authors


TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|·|•|::|»|:)\s+")
MAX_SITE_WORDS = 5
MIN_TITLE_WORDS = 2


def clean_title(
    title: str | None, site_name: str | None = None, url: str | None = None
) -> str | None:
    """Drop a " | Site name" part at either end of a ``<title>``: a part that names the
    site (its og:site_name or host), or else a short last part behind a longer headline."""
    if not title:
        return None
    title = " ".join(title.split())
    parts = TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    site_keys = _site_keys(site_name, url)
    while len(parts) > 1 and _squash(parts[-1]) in site_keys:
        parts.pop()
    while len(parts) > 1 and _squash(parts[0]) in site_keys:
        parts.pop(0)
    rest_words = len(" ".join(parts[:-1]).split())
    if (
        len(parts) > 1
        and len(parts[-1].split()) <= MAX_SITE_WORDS
        and rest_words >= MIN_TITLE_WORDS
    ):
        parts.pop()
    separators = TITLE_SEPARATORS.findall(title)
    if len(parts) == len(separators) + 1:
        return title
    return _rejoin(title, parts)


def _rejoin(title: str, parts: list[str]) -> str:
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip()


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _site_keys(site_name: str | None, url: str | None) -> set[str]:
    keys = set()
    if site_name:
        keys.add(_squash(site_name))
    host = domain_of(url) if url else None
    if host:
        labels = host.removeprefix("www.").split(".")
        keys.update({_squash(host.removeprefix("www.")), _squash(labels[0])})
        if len(labels) > 1:
            keys.add(_squash(".".join(labels[:-1])))
    keys.discard("")
    return keys


# --- assembly -----------------------------------------------------------------------------------


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


MAX_BYLINE_CHARS = 80


def _byline_texts(found: Iterable[str]) -> list[str]:
    """Visible bylines, the last resort: the first short text of author links or of
    elements named for the author."""
    texts = []
    for raw in found:
        text = _clean_text(raw)
        if text and len(text) <= MAX_BYLINE_CHARS:
            texts.append(text)
    return texts[:1]


def _first_authors(sources: Iterable[Callable[[], list[str]]]) -> list[str]:
    """Names from the first source that has any; later sources cost tree scans."""
    for source in sources:
        authors = clean_authors(source())
        if authors:
            return authors
    return []


def _first_date(values: Iterable[str | None]) -> str | None:
    for value in values:
        found = normalise_date(value)
        if found:
            return found
    return None


def metadata_from_facts(facts: PageFacts, url: str | None) -> PageMetadata:
    """Everything the page says about itself; ``url`` resolves relative links and is
    the last-resort source of a publication date."""
    tags = facts.meta
    found = jsonld_entities(facts.jsonld)
    entities = sorted(found, key=_entity_rank)
    main = [e for e in entities if _entity_rank(e) < 2]

    def ld(key: str) -> list[object]:
        return [e[key] for e in main if e.get(key)]

    site_name = _first(
        _first_tag(tags, SITE_NAME_TAGS),
        *(_jsonld_text(v) for v in ld("publisher")),
        *(_jsonld_text(e.get("name")) for e in entities if "WebSite" in schema_type_names(e)),
    )
    raw_title = _first(
        *(_jsonld_text(v) for v in ld("headline")),
        _first_tag(tags, TITLE_TAGS),
        *(_jsonld_text(v) for v in ld("name")),
        _html_title(facts.titles),
    )
    items = microdata(facts.microdata)
    authors = _first_authors(
        (
            lambda: [n for v in ld("author") for n in _jsonld_names(v)],
            *(lambda name=name: tags.get(name, [])[:1] for name in AUTHOR_TAGS),
            lambda: items.get("author", []),
            lambda: _byline_texts(facts.author_link_texts()),
            lambda: _byline_texts(facts.byline_texts()),
        )
    )
    title = clean_title(raw_title, site_name, url)
    return PageMetadata(
        title=visible_headline(facts.headings, title) or title,
        description=_first(
            *(_jsonld_text(v) for v in ld("description")), _first_tag(tags, DESCRIPTION_TAGS)
        ),
        authors=authors,
        published_at=_first_date(
            (
                *(_jsonld_text(v) for v in ld("datePublished")),
                *(tags.get(name, [None])[0] for name in PUBLISHED_TAGS),
                *items.get("datepublished", []),
                *(_jsonld_text(v) for v in ld("dateCreated")),
            )
        )
        or date_from_url(url)
        or _visible_date(facts),
        modified_at=_first_date(
            (
                *(_jsonld_text(v) for v in ld("dateModified")),
                *(tags.get(name, [None])[0] for name in MODIFIED_TAGS),
                *items.get("datemodified", []),
            )
        ),
        site_name=site_name,
        canonical_url=_canonical(facts.canonical_hrefs, url, tags),
        image_url=resolve_url(
            _first(*(_jsonld_url(v) for v in ld("image")), _first_tag(tags, IMAGE_TAGS)), url
        ),
        language_hint=_language_hint(facts.html_lang, tags),
        schema_types=list(dict.fromkeys(t for e in found for t in schema_type_names(e))),
        og_type=(_first_tag(tags, ("og:type",)) or "").lower() or None,
    )
