"""Page-type gate: is this page an article, or a forum thread, product, listing ...?

The labels are WCXB's (article, forum, product, collection, listing, documentation,
service). Each decision is a small named rule over general signals — structured data
the publisher declared, URL conventions, commerce and discussion vocabulary, the
shape of the page (repeated blocks, link density, code) — tried from the most to the
least specific. The tree is only read, never changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html

from worker.extract.metadata import (
    PageMetadata,
    is_article_type,
    jsonld_entities,
    meta_tags,
    schema_type_names,
)

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

# Tried in order on "host/path?query"; the first match is the URL's hint. A date in the
# path is the strongest convention, a section name followed by a long slug the weakest.
URL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("article", re.compile(r"/(?:19|20)\d{2}/\d{1,2}/")),
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
CART = re.compile(
    r"\b(?:add to (?:cart|bag|basket|trolley)|buy (?:it )?now|in stock|out of stock|"
    r"add to wish ?list|select (?:a )?size|quantity|free shipping|free delivery)\b",
    re.IGNORECASE,
)
FORUM_WORDS = re.compile(
    r"\b(?:replies|reply|quote|posts?:|joined:?|upvotes?|votes?|answered|asked|"
    r"permalink|report post|thread starter|original poster|op)\b",
    re.IGNORECASE,
)
POST_CLASS = re.compile(r"(?:^|[\s_-])(?:post|comment|message|reply|answer)(?:$|[\s_-])", re.I)
BODY_TEXT_LIMIT = 300_000
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template"})

# --- thresholds ---------------------------------------------------------------------------

ARTICLE_WORDS = 350  # main text this long reads as an article unless something says otherwise
SHORT_ARTICLE_WORDS = 150  # ... or this long with a byline or a date
MIN_PRICES = 3
MIN_CART = 2
MIN_POST_BLOCKS = 20  # elements classed as post/comment/reply that make a thread
MIN_FORUM_WORDS = 4
MIN_ITEMS = 6  # repeated teaser blocks that make a listing
CODE_BLOCKS = 3
LINK_DENSE = 0.5  # share of the page's text inside links
SLUG_WORDS = 4
LONG_READ_WORDS = 2000


@dataclass(slots=True, frozen=True)
class PageSignals:
    schema: frozenset[str]
    og_type: str
    url_hint: str | None
    words: int  # main text
    prices: int
    cart: int
    forum_words: int
    post_blocks: int
    teasers: int  # repeated <article> / card blocks
    code_blocks: int
    link_density: float
    dated: bool  # the page declares a publication date
    authored: bool  # ... or an author
    slug_words: int  # words in the URL's last path segment: articles have telling slugs
    path_depth: int
    has_tree: bool  # False for plain-text pages: most signals are then missing


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


def _declared_types(
    tree: lxml.html.HtmlElement | None, meta: PageMetadata | None
) -> frozenset[str]:
    names = meta.schema_types if meta is not None else []
    if meta is None and tree is not None:
        names = [n for e in jsonld_entities(tree) for n in schema_type_names(e)]
    return frozenset(n.lower() for n in names)


def _og_type(tree: lxml.html.HtmlElement | None, meta: PageMetadata | None) -> str:
    if meta is not None:
        return meta.og_type or ""
    if tree is None:
        return ""
    return (meta_tags(tree).get("og:type") or [""])[0].lower()


def _body_text(tree: lxml.html.HtmlElement) -> tuple[str, int]:
    """Visible text of the body (scripts and styles left out) and its characters inside links."""
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts: list[str] = []
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag not in INVISIBLE_TAGS and el.text:
            parts.append(el.text)
        if el.tail:
            parts.append(el.tail)
    linked = sum(len(t.strip()) for a in root.iter("a") for t in a.itertext())
    return " ".join(parts)[:BODY_TEXT_LIMIT], linked


def _count_classed(tree: lxml.html.HtmlElement, pattern: re.Pattern[str]) -> int:
    return sum(1 for el in tree.xpath("//*[@class]") if pattern.search(el.get("class") or ""))


def page_signals(
    tree: lxml.html.HtmlElement | None, url: str, text: str, meta: PageMetadata | None
) -> PageSignals:
    words = len(text.split())
    if tree is None:
        page_text, linked, posts, teasers, code = text, 0, 0, 0, 0
    else:
        page_text, linked = _body_text(tree)
        posts = _count_classed(tree, POST_CLASS)
        teasers = len(tree.xpath("//article"))
        code = len(tree.xpath("//pre"))
    compact = len(" ".join(page_text.split())) or 1
    return PageSignals(
        schema=_declared_types(tree, meta),
        og_type=_og_type(tree, meta),
        url_hint=url_hint(url),
        words=words,
        prices=len(PRICE.findall(page_text)),
        cart=len(CART.findall(page_text)),
        forum_words=len(FORUM_WORDS.findall(page_text)),
        post_blocks=posts,
        teasers=teasers,
        code_blocks=code,
        link_density=min(1.0, linked / compact),
        dated=bool(meta and meta.published_at),
        authored=bool(meta and meta.authors),
        slug_words=slug_words(url),
        path_depth=len([p for p in urlsplit(url).path.split("/") if p]),
        has_tree=tree is not None,
    )


def last_segment(url: str) -> str:
    segments = [p for p in urlsplit(url).path.split("/") if p]
    return re.sub(r"\.\w{2,5}$", "", segments[-1]) if segments else ""


def slug_words(url: str) -> int:
    return len([w for w in re.split(r"[-_+\s]+", last_segment(url)) if w.isalpha()])


def classify_page(
    tree: lxml.html.HtmlElement | None, url: str, text: str, meta: PageMetadata | None
) -> str:
    """One of ``PAGE_TYPES``."""
    return classify_signals(page_signals(tree, url, text, meta))


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
    shop_vocabulary,
    code_heavy,
    discussion,
    url_listing,
    plain_text,
    written_piece,
)
