"""What counts as boilerplate or content, as data: tag sets, attribute patterns, phrases.

Kept apart from the algorithm so a pattern can be added or dropped without
touching the code; every list here is a general rule about how sites mark up
chrome, never a rule for one site.
"""

from __future__ import annotations

import re

# Never visible text: removed from the tree before the walk.
INVISIBLE_TAGS: tuple[str, ...] = (
    "script",
    "style",
    "template",
    "svg",
    "math",
    "iframe",
    "object",
    "embed",
    "canvas",
    "video",
    "audio",
    "picture",
    "source",
    "track",
    "map",
    "select",
    "option",
    "button",
    "input",
    "textarea",
    "datalist",
    "head",
    "title",
    "link",
    "meta",
)

# Page chrome that never holds the main text: removed with the invisible tags, so the
# walk never visits it (it is a third of a typical page's nodes).
REMOVED_CHROME_TAGS: tuple[str, ...] = ("nav", "aside", "footer")

# Page chrome by tag that may wrap the whole page (a <form> in some CMSs, a <header>
# holding the standfirst): flagged, and kept when it holds most of the prose.
CHROME_TAGS: frozenset[str] = frozenset({"header", "form", "menu", "dialog"})

# Tags whose text flows inside the surrounding block rather than starting a new one.
INLINE_TAGS: frozenset[str] = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "b",
        "bdi",
        "bdo",
        "big",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "img",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
        "nobr",
        "label",
    }
)

HEADING_TAGS: frozenset[str] = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LIST_ITEM_TAGS: frozenset[str] = frozenset({"li", "dt", "dd"})
CELL_TAGS: frozenset[str] = frozenset({"td", "th"})

# ARIA landmarks and widgets that are chrome, and the ones that mark the content.
CHROME_ROLES: frozenset[str] = frozenset(
    {
        "navigation",
        "banner",
        "contentinfo",
        "complementary",
        "search",
        "dialog",
        "alertdialog",
        "menu",
        "menubar",
        "toolbar",
        "tablist",
    }
)
CONTENT_ROLES: frozenset[str] = frozenset({"main", "article"})

# Chrome words, matched against each lower-cased class token and the id as the
# first or last hyphen/underscore segment: "sidebar", "sidebar-right" and
# "post-share" match, "l-sidebar-fixed" (a layout modifier) does not.
CHROME_WORDS = (
    "nav|navbar|navigation|subnav|menu|menus|megamenu|breadcrumbs?|skip-link|skip-links|"
    "pagination|pager|page-numbers|nav-links|"
    "footer|site-header|global-header|masthead|topbar|top-bar|"
    "sidebar|side-bar|widget-area|"
    "share|shares|sharing|share-buttons|social|social-links|sociable|addthis|sharethis|"
    "related|recommended|recommendations|more-stories|most-popular|most-read|popular-posts|"
    "trending|read-next|readnext|outbrain|taboola|"
    "newsletter|subscribe|signup|sign-up|optin|opt-in|"
    "cookie|cookies|consent|gdpr|"
    "ad|ads|advert|adverts|advertisement|adsense|dfp|adslot|ad-slot|"
    "sponsored|promo|"
    "comments?|comment-list|commentlist|disqus|respond|reviews|"
    "byline|author-bio|about-author|author-box|"
    "tags|tag-list|tagcloud|"
    "modal|popup|lightbox|toolbar|"
    "visually-hidden|sr-only|screen-reader-text|noprint"
)
CHROME_TOKEN_RE = re.compile(rf"^(?:{CHROME_WORDS})(?:[-_]|$)|[-_](?:{CHROME_WORDS})$")
# A token naming the content or a layout wrapper is never chrome ("content-sidebar-wrap").
CHROME_VETO_RE = re.compile(
    r"(?:^|[-_])(?:content|body|main|layout|root|article|story|entry|text)(?:[-_]|$)"
)
# Taxonomy classes that CMSs put on the article itself ("tag-newsletter", "category-ads").
TAXONOMY_TOKEN_RE = re.compile(
    r"^(?:tag|tags|category|categories|type|status|format|has|topic|section)-"
)
COMMENTS_TOKEN_RE = re.compile(r"comment|disqus|respond|reviews")
# Class or id naming an image's caption or credit ("wp-caption-text", "imageEmbedCaption",
# "photo-credit"): everything inside reads as a caption, as inside <figcaption>. A bare
# "caption" is not enough: design systems use it for small type and card labels. "Legend"
# is the printer's word for a caption (a slideshow's "legends", a chart's or a form's legend)
# and is never the text itself, bare or as a component's part ("fieldset-legend").
CAPTION_NAME_RE = re.compile(
    r"(?:image|img|photo|picture|media|figure|embed|video|gallery|wp)[-_]?[a-z]*?[-_]?"
    r"(?:caption|credit)|caption[-_]?text|(?:^|[\s_-])legends?(?:$|[\s_-])"
)

HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none", re.IGNORECASE)

# Lower-cased "class id" of an element that usually wraps the main text.
# ... the text of one article or post itself
ARTICLE_BODY_RE = re.compile(
    r"""
    article[-_]?body|articlebody|article[-_]?content|article[-_]?text|
    entry[-_]?content|entry[-_]?body|post[-_]?content|post[-_]?body|post[-_]?text|post[-_]?entry|
    story[-_]?body|story[-_]?content|body[-_]?text
    """,
    re.VERBOSE,
)
# ... the page's main area, which may hold more than the text
PAGE_BODY_RE = re.compile(
    r"main[-_]?content|maincontent|content[-_]?body|page[-_]?content|"
    r"rich[-_]?text|markdown[-_]?body|prose|field[-_]?body"
)

ARTICLE_ITEMPROPS: frozenset[str] = frozenset({"articlebody", "reviewbody"})
PAGE_ITEMPROPS: frozenset[str] = frozenset({"text", "description", "maincontentofpage"})

BOILERPLATE_HEADS: frozenset[str] = frozenset(
    {
        "share",
        "read",
        "see",
        "shop",
        "show",
        "watch",
        "find",
        "more",
        "you",
        "don't",
        "dont",
        "sign",
        "subscribe",
        "follow",
        "all",
        "copyright",
        "tell",
        "showing",
        "related",
        "view",
        "select",
        "sort",
        "log",
        "page",
        "posts",
        "threads",
        "messages",
        "joined",
        "join",
        "reaction",
        "points",
        "likes",
    }
)
BOILERPLATE_LINE_RE = re.compile(
    r"""
    (?:
        share\ on\ \w+|
        [\d,.]+\ ?(?:shares?|comments?|likes?|views?|replies|results|items|reviews)|
        [\d,.]+\ ?(?:customer\ )?ratings|
        (?:showing|page)\ \d+\ (?:of|-)\ [\d,]+(?:\ results)?|
        (?:posts|threads|messages|joined|join\ date|reaction\ score|points|likes)
            \ ?:\ ?[\w,.\ ]{1,20}|
        (?:read|see|show|watch|find)\ more\b.*|
        (?:see|view|shop)\ (?:all|on|options)\b.*|sort\ options|
        select\ (?:a|an|your|up\ to)\b.{0,30}|
        share\ (?:this|your|article|story|post)\b.{0,30}|
        more\ (?:\w+\ ){0,3}?(?:stories|articles|from\ \w+)|
        related\ (?:coverage|stories|articles|posts|content|links|reading|news)\b.*|
        you\ (?:may|might)\ (?:also\ )?(?:like|enjoy).*|don'?t\ miss.*|
        (?:sign\ up|sign\ in|log\ in|subscribe|follow\ us)\b.*|
        (?:all\ rights\ reserved|copyright|©).*|tell\ us\ what\ you\ think.*|
        https?://\S+|www\.\S+|\[?javascript[^\]]*\]?|<[a-z!][^>]*>|\[\w+[^\]]*\].*\[/\w+\]
    )$
    """,
    re.VERBOSE,
)
CLICK_HERE_RE = re.compile(r"^.{0,60}\bclick(?:ing)? here\b")
JAVASCRIPT_NOTICE_RE = re.compile(r"^.{0,40}\b(?:requires|enable) javascript\b.{0,30}$")

# Short self-promotion that sites put beside any article: cookie notices, newsletter
# and notification prompts, affiliate disclosures. Matched on lower-cased text, after
# a cheap keyword test that rules out most lines.
PROMO_KEYWORDS: tuple[str, ...] = (
    "cookie",
    "sign up",
    "subscribe",
    "newsletter",
    "inbox",
    "delivered",
    "notification",
    "affiliate",
    "reserved",
    "©",
    "follow",
    "join",
)
PROMO_RE = re.compile(
    r"\b(?:(?:this|our) (?:web)?site uses cookies|use of cookies|cookie (?:settings|policy)|"
    r"sign up (?:for|to)|subscribe to our|newsletter|in your inbox|"
    r"delivered (?:to your|every|weekday)|turn on notifications|"
    r"affiliate (?:links?|commission)|all rights reserved|"
    r"follow (?:us|him|her|me) (?:on|at|@)|join (?:us|our) (?:on|at))\b|"
    r"(?:©|\(c\)|\bcopyright) ?(?:19|20)\d\d"
)
PROMO_MAX_CHARS = 300
# Notices addressed to the reader's browser rather than to the reader ("This page is best
# viewed in an up-to-date web browser", "Please upgrade your browser"). Anchored where a
# quotation in prose would not be: "best viewed" must open the line.
BROWSER_NOTICE_RE = re.compile(
    r"^(?:this (?:web ?)?(?:page|site|website) (?:is )?)?best viewed (?:in|with|using|at)\b|"
    r"\b(?:upgrade|update) your (?:web )?browser\b|"
    r"\byour (?:web )?browser (?:is out of date|is outdated|is not supported|is no longer "
    r"supported|does not support|doesn't support)|"
    r"\byou(?: are|'re) using an? (?:outdated|old|older|unsupported) (?:web )?browser"
)

# Short lines that carry metadata rather than text (lower-cased): datelines, bylines,
# photo credits, and figure captions, which end with their credit.
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_RE = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:(?:19|20)\d\d|\d{{1,2}}:\d\d)|"
    rf"\b\d{{1,2}}\.?\s+{_MONTH},?\s+(?:19|20)\d\d|"
    r"\b\d{4}-\d{2}-\d{2}(?:\b|t)|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"
)
DIGIT_RE = re.compile(r"\d")
METADATA_START_RE = re.compile(
    r"(?:updated|published|posted|last updated|first published)\b|"
    r"(?:photo|photos|image|images|picture|credit|credits|source|illustration|video)"
    r"(?:\s+credit)?\s*:|\(.*\)$|©"
)
BYLINE_RE = re.compile(r"(?:by|written by|posted by|words by)\s+\S")
CAPTION_CREDIT_RE = re.compile(
    r"\((?:[^()]*\b(?:photo|photos|image|picture|foto|getty images|reuters|afp)\b[^()]*)\)\s*$"
)

# Sentence-final punctuation in many scripts: prose ends with it, menus do not.
SENTENCE_END = frozenset(".!?。！？…:;\"'”’)»")


# The heading that opens a reader-comment section: "104 Comments", "92 Responses to
# "Depth Compositing"", "3 thoughts on "…"", "Comments (5)".
COMMENTS_HEADING_RE = re.compile(
    r"^(?:\d[\d,]*|one|no)\s+(?:comments?|responses?|replies|thoughts|reactions)"
    r"(?:\s+(?:to|on)\s.*|[^\w]*)$"
    r"|^(?:comments|responses|replies|reactions)\s*(?:\(\d+\))?[^\w]*$"
    r"|^(?:comment|response)\s*\(\d+\)[^\w]*$",
    re.IGNORECASE,
)
# ... that counts the comments ("92 Responses to …", "Comments (0)"): nothing else reads so.
COUNTED_COMMENTS_HEADING_RE = re.compile(
    r"^(?:\d[\d,]*|one|no)\s+(?:comments?|responses?|replies|thoughts|reactions)"
    r"(?:\s+(?:to|on)\s.*|[^\w]*)$"
    r"|^(?:comments?|responses?|replies|reactions)\s*\(\d+\)[^\w]*$",
    re.IGNORECASE,
)
