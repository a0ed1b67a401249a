"""Which lines of a page to keep, given its site's template: one pure decision.

Template lines go, except the page's own headline. When the page came with its extractor's
own choice of lines (``fallback``: a text page's line cleaner), that choice stands while the
template explains little of the page; once at least ``KNOWN_SHARE`` of its lines are template
and the template explains at least ``EXPLAINED_SHARE`` of the lines the line cleaner cut, the
template alone decides, which keeps body lines the line cleaner's heuristics dropped. The
second condition is what keeps a template from making a page worse than none: on a host that
serves unrelated pages (a mirror, a proxy, a local crawl) a few generic lines repeat across
pages and make the template "known", but the page's own menus and footers are not among them,
and restoring every line the cleaner cut put them back.
A template never empties a page, nor takes most of it: a page that would lose more than
``MAX_REMOVED_SHARE`` of its characters is a copy of other pages of the site (the same story
under several URLs) or an extraction that missed the content, not all chrome; it is left as
the extractor gave it, and the dedupe stage judges the copy.
"""

from __future__ import annotations

import numpy as np

from worker.templates.lines import NO_FINGERPRINT

KNOWN_SHARE = 0.1  # share of a page's lines that must be template before it overrides fallback
EXPLAINED_SHARE = 0.5  # share of the fallback's cut lines the template must account for
MAX_REMOVED_SHARE = 0.9  # of a page's characters; above it the template is not applied


def keep_mask(
    prints: np.ndarray,
    template: np.ndarray,
    headline: np.ndarray,
    fallback: np.ndarray | None,
    chars: np.ndarray | None = None,
) -> np.ndarray:
    """Bool per line: keep it. All arguments are per-line arrays of the same length;
    ``chars`` (line lengths) enables the removed-share guard."""
    not_template = headline | ~template
    base = np.ones(len(template), dtype=bool) if fallback is None else fallback
    words = prints != NO_FINGERPRINT
    overrides = fallback is None or (
        template_known(template) and explains_cuts(template, headline, base & words | ~words)
    )
    kept = not_template if overrides else base & not_template
    if not (kept & words).any():
        return kept if not (base & words).any() else base
    if chars is not None:
        before = int(chars[base & words].sum())
        if before and int(chars[kept & words].sum()) < (1 - MAX_REMOVED_SHARE) * before:
            return base
    return kept


def template_known(template: np.ndarray) -> bool:
    return bool(len(template)) and int(template.sum()) >= KNOWN_SHARE * len(template)


def explains_cuts(template: np.ndarray, headline: np.ndarray, kept_by_cleaner: np.ndarray) -> bool:
    """The template accounts for most lines the line cleaner cut (its headline aside), so the
    cut lines it does not account for are likely body the cleaner's heuristics dropped."""
    cut = ~kept_by_cleaner & ~headline
    total = int(cut.sum())
    return total == 0 or int((cut & template).sum()) >= EXPLAINED_SHARE * total
