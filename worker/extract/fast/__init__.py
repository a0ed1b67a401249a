"""A fast main-content extractor on the Lexbor parser.

``extract_fast(html, url)`` parses once and walks the tree once into text blocks
(``dom``), gives each block a prior (``priors``), drops page chrome, finds the
core of the main content and how far around it to reach (``scoring``), then
cleans and renders the kept blocks as text (``clean``). Selectors and phrase lists live in
``selectors`` as data; ``page`` adapts the engine to the pipeline's records.
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from worker.extract.fast.clean import render
from worker.extract.fast.dom import parse
from worker.extract.fast.scoring import select

__all__ = ["FastResult", "extract_fast"]


@dataclass(slots=True)
class FastResult:
    """The main text, one block a line.

    ``confidence`` is the engine's own expected F1 of its choice (0..1);
    ``page_chars`` counts the page's text outside invisible tags and
    nav/aside/footer, the denominator for a boilerplate ratio.
    """

    text: str
    title: str | None
    confidence: float
    page_chars: int


def extract_fast(
    html: str | LexborHTMLParser, url: str | None = None, discussion: bool = False
) -> FastResult:
    """Main text of an HTML page, or of a Lexbor parse of it (which the walk changes).
    ``url`` is accepted for parity with other extractors; the rules do not look at it.
    ``discussion``: the page is a forum thread or Q&A page, whose replies are its text
    (``scoring.select``)."""
    doc = parse(html)
    page_chars = sum(len(block.text) for block in doc.blocks)
    selection = select(doc, discussion)
    if selection is None:
        return FastResult("", doc.title, 0.0, page_chars)
    return FastResult(render(doc, selection), doc.title, selection.confidence, page_chars)
