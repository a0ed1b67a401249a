"""The boilerplate vocabulary every engine shares: what page furniture says, whatever the site.

One line normaliser (``line_key``) and one list of furniture lines, used by the
trafilatura engine's line filter, the text engine's block priors and the text-lines
engine's chrome score, so a phrase added here reaches every engine. Engine-specific
extras (patterned lines, trigger words) stay next to the engine that uses them.
"""

from __future__ import annotations

import re

# Characters a furniture line is often framed with: "Share |", "— Advertisement —", "Menu:".
LINE_FRAME = " :|·•-–—.!?…"


def line_key(line: str) -> str:
    """A line as the vocabulary compares it: whitespace collapsed, frame stripped, case folded."""
    return " ".join(line.split()).strip(LINE_FRAME).casefold()


# Whole short lines that are page furniture wherever they occur (stored as ``line_key``s).
FURNITURE_LINES: frozenset[str] = frozenset(
    line_key(phrase)
    for phrase in (
        "ad",
        "ads",
        "advert",
        "advertisement",
        "advertisements",
        "sponsored",
        "sponsored content",
        "anzeige",
        "werbung",
        "publicité",
        "publicidad",
        "publicidade",
        "pubblicità",
        "реклама",
        "share",
        "share this",
        "share this article",
        "share this story",
        "share this post",
        "share this page",
        "sharing is caring",
        "tweet",
        "pin it",
        "email",
        "print",
        "related",
        "related articles",
        "related stories",
        "related posts",
        "related content",
        "related topics",
        "tags",
        "related tags",
        "trending",
        "trending now",
        "comment",
        "comments",
        "leave a comment",
        "leave a reply",
        "post comment",
        "post a comment",
        "add a comment",
        "write a comment",
        "view comments",
        "post comment (+)",
        "back to gallery",
        "back to article",
        "back to top",
        "skip to content",
        "skip to main content",
        "loading",
        "caption",
        "close",
        "menu",
        "search",
        # account, contact and legal links
        "home",
        "about",
        "about us",
        "about the author",
        "contact",
        "contact us",
        "get in touch",
        "let's connect",
        "log in",
        "login",
        "sign in",
        "sign up",
        "sign up now",
        "register",
        "register now",
        "subscribe",
        "subscribe now",
        "submit",
        "donate",
        "donate today",
        "terms of service",
        "terms of use",
        "terms & conditions",
        "terms and conditions",
        "privacy policy",
        "cookie policy",
        "copyright",
        # calls to action
        "learn more",
        "tell me more",
        "get started",
        "get started today",
        "get started for free",
        "request a quote",
        "request a demo",
        "book now",
        "open app",
        "play video",
        "pin this for later",
        # shop furniture
        "add to cart",
        "add to bag",
        "add to basket",
        "add to wish list",
        "add to wishlist",
        "quick shop",
        "quick view",
        "notify me",
        "out of stock",
        "in stock",
        "sold out",
        "free shipping",
        "leave a review",
        "customer reviews",
        "write a review",
        "sort by",
        "results per page",
        # onward links and their headings
        "related products",
        "related items",
        "related searches",
        "trending searches",
        "related reads",
        "popular posts",
        "recent posts",
        "recommended stories",
        "recommended for you",
        "more to explore",
        "what others are reading",
        "previous article",
        "next article",
        "previous post",
        "next post",
        "table of contents",
        "page tools",
        # reader reactions and forum furniture
        "discussion about this post",
        "join the conversation",
        "like this",
        "like loading",
        "was this helpful",
        "was this page helpful",
        "upvote",
        "reply",
        "report",
        "joined",
        "join date",
        "messages",
        "reaction score",
        "new member",
        "original poster",
        "comments (+)",
        "shop now",
        "get it",
        "more",
        # photo credits standing alone
        "image copyright",
        "image source",
        "getty images",
        "associated press",
        "file photo",
        # the same furniture in other languages (WordPress and CMS strings)
        "iklan",
        "terkait",
        "sukai ini",
        "suka memuat",
        "関連記事",
        "スポンサードリンク",
        # more navigation, consent and shop links that stand on a line of their own
        "accept",
        "accept all",
        "advertisement skip advertisement",
        "all rights reserved",
        "article continues below",
        "back to blog",
        "blog",
        "book a demo",
        "buy now",
        "careers",
        "cart",
        "categories",
        "continue reading below",
        "cookie settings",
        "copy link",
        "follow us",
        "get a demo",
        "get a quote",
        "jump to",
        "link copied",
        "manage preferences",
        "my account",
        "newsletter",
        "newsletters",
        "permalink",
        "read more",
        "reject all",
        "reply with quote",
        "schedule a demo",
        "see all",
        "see more",
        "share on facebook",
        "share on twitter",
        "show more",
        "skip advertisement",
        "story continues below advertisement",
        "view all",
        "view more",
        "you may also like",
        "you might also like",
    )
)

# Short lines starting like this are calls to action, not content.
FURNITURE_PREFIX_RE = re.compile(
    r"^(?:sign up (?:for|to) (?:our|the) (?:\w+ )?newsletter|subscribe to (?:our|the) (?:\w+ )?"
    r"newsletter|join our (?:\w+ )?(?:newsletter|mailing list)|get our (?:\w+ )?newsletter|"
    r"follow us on|share (?:this|on) |click here to (?:subscribe|sign up)|"
    r"as an amazon associate|this (?:post|article|page) (?:may contain|contains) affiliate links|"
    r"we use cookies|this (?:web)?site uses cookies)",
    re.IGNORECASE,
)
MAX_PREFIX_LINE_CHARS = 200


def is_furniture_line(line: str) -> bool:
    """A whole line of page furniture: a listed phrase, or a short call to action."""
    key = line_key(line)
    if key in FURNITURE_LINES:
        return True
    return len(key) <= MAX_PREFIX_LINE_CHARS and FURNITURE_PREFIX_RE.match(key) is not None


# Phrases site chrome uses inside longer lines (sign-up boxes, legal footers, consent banners);
# a line dense in them is chrome.
CHROME_PHRASES = (
    r"sign(?:ing)?[ -]?up",
    r"subscri(?:be|ption|bers?)",
    r"newsletters?",
    r"enter your e-?mail",
    r"your e-?mail(?: address)?",
    r"unsubscribe",
    r"inbox",
    r"privacy (?:policy|notice|statement|settings)",
    r"cookie (?:policy|settings|preferences|consent)",
    r"(?:use|accept|uses|allow) (?:of )?cookies",
    r"personal data",
    r"terms (?:of (?:use|service)|and conditions|& conditions)",
    r"all rights reserved",
    r"copyright\s*(?:©|\(c\))?\s*\d{4}",
    r"marketing communications",
    r"support (?:our|\d+ years of|independent|quality)\b.{0,40}\b(?:journalism|reporting)",
    r"(?:become|already) an? (?:member|subscriber|supporter)",
    r"donate (?:now|today|to us|here)",
    r"follow us",
    r"share (?:this|on)",
    r"like us on",
    r"(?:log|sign) ?in",
    r"create (?:an|your) account",
    r"register (?:now|for free|here)",
    r"skip to (?:main )?content",
    r"click here",
    r"download (?:the|our) app",
    r"advertisement",
    r"sponsored",
    r"required fields are marked",
    r"will not be published",
)
# One leading \b for the whole alternation: Python's re tries every branch at every
# position otherwise, which made this the cleaner's hot spot.
CHROME_RE = re.compile(r"\b(?:" + "|".join(CHROME_PHRASES) + r")\b", re.IGNORECASE)
