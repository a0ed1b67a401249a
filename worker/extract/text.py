"""Plain-text pages (a text-mode crawler's rendering): line-level boilerplate removal.

A text rendering has lost the markup, so the only evidence left is the shape of each
line and its neighbours. The cleaner

1. scores every line — prose (long, with sentence punctuation) scores its word count,
   menus, bullets, short fragments and single chrome lines ("Advertisement") score below
   zero, banners (sign-up boxes, privacy notices, support appeals) and trailer headings
   score far below zero;
2. takes the run of lines with the highest total score (a maximum-sum subarray) as the
   body: the one dense block of prose that the page exists for;
3. walks back from the body over the header lines that belong to it — headline,
   standfirst, byline, date — stopping at the first line that belongs to the page's
   chrome (a breadcrumb, a menu, a banner);
4. inside the body, drops inline promos ("[See also: …]"), link-list runs and chrome
   lines, and cuts at a trailer ("Content from our partners", "Comments", "Related
   articles") once most of the body is behind it.

The output keeps the page's order and joins the kept lines with a blank line
(``"\\n\\n"``): each rendered line is a paragraph, the same shape as the HTML path's output.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from worker import textunits
from worker.extract.language import identify_language
from worker.extract.metadata import PageMetadata, find_date, split_authors
from worker.extract.pagetype import classify_shape
from worker.extract.vocabulary import CHROME_RE, is_furniture_line
from worker.model import Extracted, Page
from worker.textunits import UNSPACED_CLASS

EXTRACTOR = "text-lines"
EXTRACTOR_VERSION = "1"
PARAGRAPH_SEPARATOR = "\n\n"

# --- phrase lists (data): what site chrome says, whatever the site -------------------------------

# Lines whose beginning marks a promo or a link inserted into the body.
PROMO_LINE = re.compile(
    r"^(?:\[.*\]|(?:see also|read (?:more|also|next)|also read|related|recommended|watch|listen"
    r"|most read|most popular|sponsored|advertisement|read the full story|continue reading"
    r"|click here)\b\s*(?:[:\-–—|»›>].*)?|more (?:on|from) [^.]{1,40}:)$",
    re.IGNORECASE,
)
# Headings after which a page carries only other content: partners, related items, comments.
TRAILER_LINE = re.compile(
    r"^(?:content from our partners|from our partners|partner content|sponsored content"
    r"|related (?:articles|posts|stories|content|reading|news)|more (?:stories|articles) from\b.*"
    r"|you (?:may|might) also (?:like|enjoy)|recommended(?: for you| reading| stories)?"
    r"|read (?:next|more)|more from .{1,40}|most (?:read|popular|viewed)|trending(?: now)?"
    r"|latest (?:news|stories|articles)|\d+ comments?|comments?(?: \(\d+\))?"
    r"|leave a (?:reply|comment)"
    r"|join the (?:discussion|conversation)|about the author|share this(?: article| story| post)?"
    r"|tags?:.*|topics?:.*|filed under:.*|discover more from .{1,60}|popular posts|previous post.*"
    r"|next post.*)\W*$",
    re.IGNORECASE,
)

COMMENTS_LINE = re.compile(
    r"^(?:\d+\s+)?(?:comments?|responses|replies)\b|^(?:leave|post|add) a (?:reply|comment)"
    r"|^join the (?:discussion|conversation)",
    re.IGNORECASE,
)
HEADER_NOISE = re.compile(
    r"^(?:\d+\s+min(?:ute)?s?\s+read|listen\b|share\b|tweet\b|print\b|save\b|\d+\s+comments?"
    r"|comments?\b|advertisement|(?:photo|image|picture|illustration)s?\b|credit:)"
    r"|\b(?:getty images|reuters|afp|ap photo|shutterstock|alamy)\W*$",
    re.IGNORECASE,
)
BULLET = re.compile(r"^(?:[•·▪◦‣●■□▸►✓✔]\s*|[*+\-–—]\s+|\d{1,3}[.)]\s+)")
BYLINE = re.compile(
    r"^(?i:(?:written|posted|reported|words|story|text)\s+)?(?i:by)\s*[:\-]?\s*(?=[A-Z])"
)
SENTENCE_END = re.compile(r"[.!?…:;。！？：；][\"'”’)\]」』）]*$")
# Scripts written without spaces between words: their letters are weighed instead.
UNSPACED = re.compile(f"[{UNSPACED_CLASS}]")
WORD = re.compile(r"\w+")
LETTER = re.compile(r"[^\W\d_]")

# --- structural thresholds -----------------------------------------------------------------------

PROSE_WORDS = 12  # a line this long with sentence punctuation is prose
LONG_WORDS = 30  # this long is prose even without final punctuation
MAX_CAPITALISED = 0.6  # share of capitalised words above which a line is a list of names
WRAPPED_WORDS = 6  # a hard-wrapped line is at least this long
LINE_COST = 5  # every line "costs" this many words: short lines score below zero
BULLET_COST = 3  # extra cost of a bullet that is not itself prose
CHROME_COST = 40  # a banner is a strong barrier between prose blocks
BANNER_HITS = 2
PROMO_COST = 10
CHROME_WORDS_PER_HIT = 25  # one chrome phrase marks a line of up to this many words as chrome
REPEATS = 2  # a non-prose line seen this often on one page is template text
LINK_RUN = 6  # this many short bullets in a row are a link list
HEADER_WINDOW = 10  # lines above the body searched for headline, standfirst, byline, date
STANDFIRST_WORDS = (6, 60)
MAX_STANDFIRSTS = 2
FURNITURE_WORDS = 12
TITLE_WORDS = (3, 30)
META_WORDS = 10  # a byline or date line is short
MIN_BODY_SCORE = 150  # an article above a trailer is at least this heavy
TRAILER_SHARE = 0.5  # a trailer cuts the rest once this share of the body's prose is above it


@dataclass(slots=True, frozen=True)
class Line:
    text: str  # stripped
    words: int
    bullet: bool
    prose: bool
    chrome: bool
    chrome_hits: int
    promo: bool
    trailer: bool
    repeated: bool = False  # a short line the page shows again and again: template text


def classify_line(raw: str) -> Line:
    text = raw.strip()
    bullet = bool(BULLET.match(text)) and not BYLINE.match(text)
    content = BULLET.sub("", text, count=1) if bullet else text
    tokens = WORD.findall(content)
    words = count_words(content, tokens)
    hits = len(CHROME_RE.findall(content)) + content.count("©")
    prose = is_prose(content, words, tokens)
    return Line(
        text=text,
        words=words,
        bullet=bullet,
        prose=prose,
        chrome=is_chrome(hits, words) or (words <= META_WORDS and is_furniture_line(content)),
        chrome_hits=hits,
        promo=words > 0 and bool(PROMO_LINE.match(content)),
        trailer=words <= META_WORDS and bool(TRAILER_LINE.match(content)),
    )


def unwrap(raw_lines: Sequence[str]) -> list[str]:
    """Non-blank lines, with hard-wrapped paragraphs joined again: a long line without
    closing punctuation continues on the next line when that starts in lower case."""
    out: list[str] = []
    joinable = False
    for raw in raw_lines:
        text = raw.strip()
        if not text:
            joinable = False
            continue
        if joinable and text[0].islower() and not BULLET.match(text):
            out[-1] = f"{out[-1]} {text}"
        else:
            out.append(text)
        last = out[-1]
        joinable = (
            len(text.split()) >= WRAPPED_WORDS
            and not SENTENCE_END.search(last)
            and not BULLET.match(last)
        )
    return out


def classify_lines(raw_lines: Sequence[str]) -> list[Line]:
    lines = [classify_line(r) for r in unwrap(raw_lines)]
    counts = Counter(ln.text.casefold() for ln in lines if not ln.prose)
    return [
        replace(ln, repeated=True) if not ln.prose and counts[ln.text.casefold()] >= REPEATS else ln
        for ln in lines
    ]


def count_words(text: str, tokens: Sequence[str]) -> int:
    """``\\w+`` tokens; text in a script written without spaces as ``textunits`` counts it."""
    return len(tokens) if UNSPACED.search(text) is None else textunits.count_words(text)


def is_prose(text: str, words: int, tokens: Sequence[str]) -> bool:
    """Long, or a sentence; and not a run of names (Title Case lists, glued menus)."""
    if words < PROSE_WORDS:
        return False
    if words < LONG_WORDS and not SENTENCE_END.search(text):
        return False
    capitalised = sum(1 for t in tokens if t[0].isupper())
    return capitalised <= MAX_CAPITALISED * len(tokens)


def is_chrome(hits: int, words: int) -> bool:
    """Chrome phrases are dense in chrome and rare in prose: one hit marks a short line,
    a long line needs one hit per ``CHROME_WORDS_PER_HIT`` words."""
    return hits > 0 and hits * CHROME_WORDS_PER_HIT >= words


def line_score(line: Line) -> float:
    if line.trailer or is_banner(line):
        return -max(CHROME_COST, line.words)
    if line.promo or line.chrome:  # "Advertisement", "[See also: …]" between paragraphs
        return -PROMO_COST
    if line.prose:
        return line.words - LINE_COST
    extra = BULLET_COST if line.bullet or line.repeated else 0
    return min(line.words - LINE_COST, -1) - extra


def is_banner(line: Line) -> bool:
    """Sign-up boxes, privacy notices, support appeals: chrome that reads like sentences,
    or says several chrome phrases at once. A barrier between blocks of prose."""
    return line.chrome and (line.prose or line.chrome_hits >= BANNER_HITS)


def densest_block(scores: Sequence[float]) -> tuple[int, int] | None:
    """Inclusive bounds of the run with the largest total score (Kadane)."""
    best, best_span = 0.0, None
    total, start = 0.0, 0
    for i, score in enumerate(scores):
        if total <= 0:
            total, start = 0.0, i
        total += score
        if total > best:
            best, best_span = total, (start, i)
    return best_span


def body_block(lines: Sequence[Line], scores: Sequence[float]) -> tuple[int, int] | None:
    """The densest block, unless it sits below a trailer ("Comments", "Tags:") that closes
    an earlier substantial block: a long comment thread outweighs a short article."""
    span = densest_block(scores)
    while span is not None:
        trailer = next((i for i in range(span[0] - 1, -1, -1) if lines[i].trailer), None)
        if trailer is None:
            return span
        earlier = densest_block(scores[:trailer])
        if earlier is None or sum(scores[earlier[0] : earlier[1] + 1]) < MIN_BODY_SCORE:
            return span
        span = earlier
    return span


# --- the header above the body -----------------------------------------------------------------


def is_date_line(line: Line) -> bool:
    return 0 < line.words <= META_WORDS and find_date(line.text) is not None


def is_byline(line: Line) -> bool:
    return 0 < line.words <= META_WORDS and bool(BYLINE.match(line.text))


def is_title_like(line: Line) -> bool:
    low, high = TITLE_WORDS
    return (
        low <= line.words <= high
        and not (line.bullet or line.chrome or line.promo or line.trailer)
        and not line.text.endswith((".", ",", ";"))
        and (line.text[0].isupper() or line.text[0].isdigit() or line.text[0] in "\"'“‘")
    )


def is_standfirst(line: Line) -> bool:
    """A one-sentence summary between headline and body (not a "Skip to:" label)."""
    return (
        STANDFIRST_WORDS[0] <= line.words <= STANDFIRST_WORDS[1]
        and bool(SENTENCE_END.search(line.text))
        and not line.text.endswith(":")
    )


def is_page_furniture(line: Line) -> bool:
    """Reading times, share buttons, photo credits: never content, wherever they sit."""
    return line.words <= FURNITURE_WORDS and bool(HEADER_NOISE.search(line.text))


def is_noise(line: Line) -> bool:
    """Counters, icons and furniture between a headline and its body: skipped without
    ending the header."""
    if not LETTER.search(line.text) or (line.words <= 2 and not line.text[0].isupper()):
        return True
    return is_page_furniture(line)


def header_lines(lines: Sequence[Line], body_start: int) -> tuple[list[int], int | None]:
    """Indexes of the header lines kept above the body, and the headline's index."""
    kept: list[int] = []
    title: int | None = None
    standfirsts = 0
    for i in range(body_start - 1, max(-1, body_start - 1 - HEADER_WINDOW), -1):
        line = lines[i]
        if is_date_line(line) or is_byline(line):
            kept.append(i)
            continue
        if title is not None:
            break
        if is_noise(line):
            continue
        if line.bullet or line.chrome or line.promo or line.trailer:
            break
        if is_title_like(line):
            kept.append(i)
            title = i
            continue
        if standfirsts < MAX_STANDFIRSTS and is_standfirst(line):
            kept.append(i)
            standfirsts += 1
            continue
        if line.words <= 2:
            continue
        break
    return sorted(kept), title


# --- inside the body ---------------------------------------------------------------------------


def link_list_lines(lines: Sequence[Line], start: int, end: int) -> set[int]:
    """Runs of at least ``LINK_RUN`` short bullets: menus, category and related-link lists."""
    dropped: set[int] = set()
    run: list[int] = []
    for i in range(start, end + 2):
        line = lines[i] if i <= end else None
        if line is not None and line.bullet and not line.prose:
            run.append(i)
            continue
        if len(run) >= LINK_RUN:
            dropped.update(run)
        run = []
    return dropped


def body_end(lines: Sequence[Line], start: int, end: int) -> int:
    """The body stops before a trailer heading with most of the block's prose above it,
    or before a comment section with a whole article's worth of prose above it."""
    total = sum(line_score(lines[i]) for i in range(start, end + 1) if lines[i].prose) or 1
    seen = 0.0
    for i in range(start, end + 1):
        line = lines[i]
        if line.trailer and seen >= TRAILER_SHARE * total:
            return i - 1
        if line.trailer and seen >= MIN_BODY_SCORE and COMMENTS_LINE.match(line.text):
            return i - 1
        if line.prose:
            seen += line_score(line)
    return end


def is_body_line(line: Line) -> bool:
    """Lines of the densest block that are still chrome, promos or furniture are dropped;
    a byline may repeat (an author box below the article) and still belong to the body."""
    if line.chrome or line.promo or line.trailer or not LETTER.search(line.text):
        return False
    if is_page_furniture(line):
        return False
    return not line.repeated or is_byline(line)


def body_lines(lines: Sequence[Line], start: int, end: int) -> list[int]:
    end = body_end(lines, start, end)
    dropped = link_list_lines(lines, start, end)
    return [i for i in range(start, end + 1) if i not in dropped and is_body_line(lines[i])]


# --- assembly ----------------------------------------------------------------------------------


@dataclass(slots=True)
class CleanedText:
    paragraphs: list[str]
    title: str | None
    authors: list[str]
    published_at: str | None
    dropped_chars: int  # of the page's non-blank lines, stripped
    total_chars: int


def clean_lines(raw_lines: Sequence[str]) -> CleanedText:
    lines = classify_lines(raw_lines)
    total = sum(len(ln.text) for ln in lines)
    span = body_block(lines, [line_score(ln) for ln in lines])
    if span is None:
        return CleanedText([], None, [], None, total, total)
    start, end = span
    header, title = header_lines(lines, start)
    kept = header + body_lines(lines, start, end)
    near_top = [lines[i] for i in (*header, *range(start, min(end, start + 3) + 1))]
    byline = next((ln for ln in near_top if is_byline(ln)), None)
    date_line = next((ln for ln in near_top if is_date_line(ln)), None)
    paragraphs = [lines[i].text for i in kept]
    return CleanedText(
        paragraphs=paragraphs,
        title=lines[title].text if title is not None else None,
        authors=split_authors(byline.text) if byline else [],
        published_at=find_date(date_line.text) if date_line else None,
        dropped_chars=total - sum(len(p) for p in paragraphs),
        total_chars=total,
    )


def extract_text_page(page: Page) -> Extracted:
    cleaned = clean_lines(page.body.splitlines())
    text = PARAGRAPH_SEPARATOR.join(cleaned.paragraphs)
    language, confidence = identify_language(text)
    url = page.final_url or page.url
    meta = PageMetadata(
        title=cleaned.title, authors=cleaned.authors, published_at=cleaned.published_at
    )
    return Extracted(
        text=text,
        title=meta.title,
        authors=meta.authors,
        published_at=meta.published_at,
        language=language,
        language_confidence=confidence,
        page_type=classify_shape(None, url, text, meta),
        extractor=EXTRACTOR,
        extractor_version=EXTRACTOR_VERSION,
        boilerplate_ratio=round(cleaned.dropped_chars / cleaned.total_chars, 4)
        if cleaned.total_chars
        else None,
    )
