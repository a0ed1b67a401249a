"""Page-type gate: is this page an article, or a forum thread, product, listing ...?

The labels are WCXB's (article, forum, product, collection, listing, documentation,
service). Each decision is a small named rule over general signals — structured data
the publisher declared, URL conventions, commerce and discussion vocabulary, the
shape of the page (repeated blocks, link density, code) — tried from the most to the
least specific. The rules read a ``PageShape`` (``facts``), which each engine gathers
from its own parse (``classify_shape``); this module knows no parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote, urlsplit

from worker.extract.facts import PageFacts, PageShape
from worker.extract.metadata import (
    PageMetadata,
    is_article_type,
    jsonld_entities,
    schema_type_names,
)
from worker.textunits import count_words, has_unspaced

PAGE_TYPES = ("article", "forum", "product", "collection", "listing", "documentation", "service")

# --- declared types (lower-cased schema.org @type / og:type) ------------------------------------

FORUM_SCHEMA = frozenset({"discussionforumposting", "qapage", "forumposting"})
PRODUCT_SCHEMA = frozenset({"product", "productgroup", "productmodel", "offer", "aggregateoffer"})
DOCS_SCHEMA = frozenset({"techarticle", "apireference", "softwaresourcecode"})
COLLECTION_SCHEMA = frozenset({"collectionpage", "itemlist", "offercatalog", "searchresultspage"})
SERVICE_SCHEMA = frozenset(
    {"service", "professionalservice", "softwareapplication", "webapplication", "mobileapplication"}
)

# --- URL conventions ------------------------------------------------------------------------------

# A year and month in the path, as sites write them: /2024/03/, /2024-03/05/, /2024-03-05/,
# /202403/05/, /20240305/ and /2024/0305/ (the last three common on Chinese news sites).
DATE_PATH = re.compile(
    r"/(?:19|20)\d{2}(?:[-/]\d{1,2}[-/]"
    r"|/?(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])?/)"
)

# Tried in order on "host/path?query"; the first match is the URL's hint. A date in the
# path is the strongest convention, a section name followed by a long slug the weakest.
URL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("article", DATE_PATH),
    (
        "forum",
        re.compile(
            r"(?:^|[./-])forums?(?:[./-]|$)|/(?:threads?|t|questions|discussions?|comments|boards?"
            r"|topic/\d+|viewtopic\.php|showthread\.php|showtopic)(?:/|$|\?|\.|-)",
            re.IGNORECASE,
        ),
    ),
    (
        "documentation",
        re.compile(
            r"(?:^|/)(?:docs?|documentation|manual|reference|api|sdk|man|kb|knowledge-?base"
            r"|developers?|tutorials?|handbook|help)(?:/|$|\.)|readthedocs|/latest/|/stable/"
            r"|\.(?:rs|dev)/.+/(?:struct|fn|enum|trait|module)",
            re.IGNORECASE,
        ),
    ),
    (
        "service",
        re.compile(
            r"/(?:services?|solutions|what-we-do|capabilities|consulting|pricing|plans|use-cases"
            r"|industries|expertise)(?:/|$|\.html?)",
            re.IGNORECASE,
        ),
    ),
    (
        "article",
        re.compile(
            r"/(?:blog|news|articles?|posts?|stories|story|insights|magazine|features?|opinion"
            r"|guides?)/[^/?#]{12,}",
            re.IGNORECASE,
        ),
    ),
    (
        "product",
        re.compile(
            r"/(?:products?|dp|item|itm|sku|buy)/[^/]+|/p/[^/]*\d|/product-page/|[-_/]p\d{5,}",
            re.IGNORECASE,
        ),
    ),
    (
        "collection",
        re.compile(
            r"/(?:collections?|category|categories|c|shop|store|catalog|catalogue|department"
            r"|brands?|deals|sale)(?:/|$|\?)",
            re.IGNORECASE,
        ),
    ),
    (
        "listing",
        re.compile(
            r"/(?:tags?|topics?|subjects?|sections?|archives?|authors?)(?:/[^/]*)?/?$"
            r"|/(?:page/\d+|search|news|blog|latest|trending|events|jobs|results)/?$"
            r"|[?&](?:page|q|s|query|search)=",
            re.IGNORECASE,
        ),
    ),
)

# --- vocabulary ---------------------------------------------------------------------------

PRICE = re.compile(r"(?:[$€£¥₹]\s?\d[\d,.]*|\d[\d,.]*\s?(?:€|USD|EUR|GBP|kr|zł))")
# CART and FORUM_WORDS open with a lookahead for the first letters of their alternatives: the
# regex engine then skips other positions quickly (half the time on long pages, same matches).
CART = re.compile(
    r"(?=[abioqsf])\b(?:add to (?:cart|bag|basket|trolley)|buy (?:it )?now|in stock|out of stock|"
    r"add to wish ?list|select (?:a )?size|quantity|free shipping|free delivery)\b",
    re.IGNORECASE,
)
FORUM_WORDS = re.compile(
    r"(?=[rqpjuvaot])\b(?:replies|reply|quote|posts?:|joined:?|upvotes?|votes?|answered|asked|"
    r"permalink|report post|thread starter|original poster|op)\b",
    re.IGNORECASE,
)

# --- thresholds ---------------------------------------------------------------------------

ARTICLE_WORDS = 350  # main text this long reads as an article unless something says otherwise
SHORT_ARTICLE_WORDS = 150  # ... or this long with a byline or a date
MARKED_ARTICLE_WORDS = 100  # ... or this long inside the page's one <article>, dated and signed
MIN_PRICES = 3
MIN_CART = 2
MIN_POST_BLOCKS = 20  # elements classed as post/comment/reply that make a thread
MIN_FORUM_WORDS = 4
MIN_ITEMS = 6  # repeated teaser blocks that make a listing
CODE_BLOCKS = 3
LINK_DENSE = 0.5  # share of the page's text inside links
SLUG_WORDS = 4
LONG_READ_WORDS = 2000


@dataclass(frozen=True)
class PageSignals:
    """The rules' inputs. The vocabulary counts and the link density scan the whole page
    text, so they are computed on first use: most pages are decided before they are read."""

    schema: frozenset[str]
    og_type: str
    url_hint: str | None
    words: int  # main text
    page_text: str  # the page's visible text (the main text for plain-text pages)
    link_chars: int
    post_blocks: int
    teasers: int  # repeated <article> / card blocks
    code_blocks: int
    dated: bool  # the page declares a publication date
    authored: bool  # ... or an author
    slug_words: int  # words in the URL's last path segment: articles have telling slugs
    path_depth: int
    has_tree: bool  # False for plain-text pages: most signals are then missing

    @cached_property
    def prices(self) -> int:
        return len(PRICE.findall(self.page_text))

    @cached_property
    def cart(self) -> int:
        return len(CART.findall(self.page_text))

    @cached_property
    def forum_words(self) -> int:
        return len(FORUM_WORDS.findall(self.page_text))

    @cached_property
    def link_density(self) -> float:
        """Share of the page's text (whitespace collapsed) inside links."""
        compact = len(" ".join(self.page_text.split())) or 1
        return min(1.0, self.link_chars / compact)


def is_article(page_type: str | None) -> bool:
    return page_type == "article"


def url_hint(url: str) -> str | None:
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    if parts.hostname:
        target = parts.hostname + target
    for page_type, pattern in URL_RULES:
        if pattern.search(target):
            return page_type
    return None


def declares_discussion(url: str, meta: PageMetadata | None) -> bool:
    """The publisher's own word that a page is a discussion: a DiscussionForumPosting or
    QAPage type, or a forum thread's URL. Its replies are then its content, not readers'
    comments on it. Decided before the text is extracted, so the page's shape and words
    (which a blog post under many comments shares) are not asked."""
    schema = {n.lower() for n in meta.schema_types} if meta is not None else set()
    return bool(schema & FORUM_SCHEMA) or url_hint(url) == "forum"


def declared_only(facts: PageFacts) -> PageMetadata:
    """The declared types of a page, for callers without its metadata: JSON-LD @types and
    the first og:type as written."""
    return PageMetadata(
        schema_types=[n for e in jsonld_entities(facts.jsonld) for n in schema_type_names(e)],
        og_type=(facts.meta.get("og:type") or [""])[0].lower() or None,
    )


def page_signals(
    shape: PageShape | None, url: str, text: str, meta: PageMetadata | None
) -> PageSignals:
    """``shape`` is None for plain-text pages: the text stands in for the page."""
    words = count_words(text)
    if shape is None:
        page_text, linked, posts, teasers, code = text, 0, 0, 0, 0
    else:
        page_text, linked = shape.text, shape.link_chars
        posts, teasers, code = shape.post_blocks, shape.teasers, shape.code_blocks
    return PageSignals(
        schema=frozenset(n.lower() for n in (meta.schema_types if meta is not None else [])),
        og_type=(meta.og_type or "") if meta is not None else "",
        url_hint=url_hint(url),
        words=words,
        page_text=page_text,
        link_chars=linked,
        post_blocks=posts,
        teasers=teasers,
        code_blocks=code,
        dated=bool(meta and meta.published_at) or dated_url(url),
        authored=bool(meta and meta.authors),
        slug_words=slug_words(url),
        path_depth=len([p for p in urlsplit(url).path.split("/") if p]),
        has_tree=shape is not None,
    )


def dated_url(url: str) -> bool:
    """A story filed under a date (``/2019/01/80642``, ``/2023-11/17/c_1129981476.htm``):
    the URL is the publisher's date where the page declares none in its metadata, as on
    sites whose slugs are numbers. A date archive (``/2019/01/``, ``/2019/01/05``) is not."""
    path = urlsplit(url).path
    found = DATE_PATH.search(path)
    return (
        found is not None
        and re.fullmatch(r"\d{0,2}", last_segment(url)) is None
        and (found.end() < len(path))
    )


def last_segment(url: str) -> str:
    segments = [p for p in urlsplit(url).path.split("/") if p]
    return re.sub(r"\.\w{2,5}$", "", segments[-1]) if segments else ""


def slug_words(url: str) -> int:
    """Words of the URL's last segment, percent-decoded: a slug in a script written without
    spaces (``/entry/東京で大雪、交通に乱れ``) counts its text units."""
    pieces = re.split(r"[-_+\s]+", unquote(last_segment(url)))
    return sum(count_words(w) if has_unspaced(w) else int(w.isalpha()) for w in pieces)


def classify_shape(shape: PageShape | None, url: str, text: str, meta: PageMetadata | None) -> str:
    """One of ``PAGE_TYPES``, from the page's shape (None for plain text) and its metadata."""
    return classify_signals(page_signals(shape, url, text, meta))


def classify_signals(s: PageSignals) -> str:
    for rule in RULES:
        page_type = rule(s)
        if page_type:
            return page_type
    if s.teasers >= MIN_ITEMS or s.link_density >= LINK_DENSE:
        return "listing"
    return "service"


def article_evidence(s: PageSignals) -> int:
    """Independent hints that a page is one dated, signed piece of writing."""
    return sum(
        (
            s.dated,
            s.authored,
            s.slug_words >= SLUG_WORDS,
            s.words >= ARTICLE_WORDS,
        )
    )


def declared_forum(s: PageSignals) -> str | None:
    return "forum" if s.schema & FORUM_SCHEMA else None


def declared_docs(s: PageSignals) -> str | None:
    return "documentation" if s.schema & DOCS_SCHEMA else None


def declared_article(s: PageSignals) -> str | None:
    """Reviews and buying guides declare Product too; the Article type describes the page."""
    article = any(is_article_type(t) for t in s.schema)
    return "article" if article else None


def declared_service(s: PageSignals) -> str | None:
    return "service" if s.schema & SERVICE_SCHEMA else None


def declared_commerce(s: PageSignals) -> str | None:
    if s.og_type == "product.group" or (
        s.schema & COLLECTION_SCHEMA and not s.schema & PRODUCT_SCHEMA
    ):
        return "collection"
    if s.schema & PRODUCT_SCHEMA or s.og_type.startswith("product"):
        return "product"
    return None


def shop_vocabulary(s: PageSignals) -> str | None:
    """Prices next to cart buttons; shop blogs pass this test too, so it comes after og:type."""
    if s.cart >= MIN_CART and s.prices >= MIN_PRICES:
        return "collection" if s.prices >= MIN_PRICES * MIN_ITEMS else "product"
    return None


def url_convention(s: PageSignals) -> str | None:
    return s.url_hint if s.url_hint in ("forum", "documentation", "service") else None


def site_root(s: PageSignals) -> str | None:
    """A home page introduces a site or lists its latest items; it is not one article."""
    if s.path_depth:
        return None
    return "listing" if s.teasers >= MIN_ITEMS or s.link_density >= LINK_DENSE else "service"


def code_heavy(s: PageSignals) -> str | None:
    return "documentation" if s.code_blocks >= CODE_BLOCKS else None


def declared_og_article(s: PageSignals) -> str | None:
    declared = s.og_type == "article" or s.url_hint == "article"
    return "article" if declared and article_evidence(s) >= 1 else None


def marked_up_article(s: PageSignals) -> str | None:
    """The page's one ``<article>`` element is its publisher saying it is one self-contained
    piece (repeated ones are teasers); dated and signed, a short news story is an article
    even without an article type or an article-like URL."""
    marked = s.teasers == 1 and s.words >= MARKED_ARTICLE_WORDS
    return "article" if marked and s.dated and s.authored else None


def plain_text(s: PageSignals) -> str | None:
    """Without markup, length and a byline or date line are all there is to go on."""
    if s.has_tree:
        return None
    signed = s.words >= SHORT_ARTICLE_WORDS and (s.dated or s.authored)
    return "article" if s.words >= ARTICLE_WORDS or signed else None


def written_piece(s: PageSignals) -> str | None:
    if s.words >= LONG_READ_WORDS:
        return "article"
    return "article" if s.words >= ARTICLE_WORDS and article_evidence(s) >= 2 else None


def discussion(s: PageSignals) -> str | None:
    threaded = s.post_blocks >= MIN_POST_BLOCKS and s.forum_words >= MIN_FORUM_WORDS
    return "forum" if threaded else None


def url_listing(s: PageSignals) -> str | None:
    return s.url_hint if s.url_hint in ("collection", "listing", "product") else None


RULES = (
    declared_forum,
    declared_docs,
    declared_article,
    declared_commerce,
    declared_service,
    url_convention,
    site_root,
    declared_og_article,
    marked_up_article,
    shop_vocabulary,
    code_heavy,
    discussion,
    url_listing,
    plain_text,
    written_piece,
)
