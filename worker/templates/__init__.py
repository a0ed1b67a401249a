"""Site templates learnt from the stream: what repeats across a site's pages is boilerplate.

A page-by-page extractor sees one page; the worker sees many pages of each site. Lines
(normalised: case, digits, spacing) that appear on at least ``min_pages`` distinct pages of a
site's recent window are its template (menus, sign-up prompts, category lists, partner
blocks, footers) and are removed from the extracted text of HTML pages and from the lines of
plain-text pages. A line repeated inside one page is no evidence, and a page's own headline is
kept even when other pages list it.

Modules, from the bottom up:

* ``lines``: normal form, 32-bit fingerprints (xxhash), headline test;
* ``sites``: the site of a URL (host, or registered domain);
* ``state``: ``SiteTemplates``, the per-site windows with their limits (window, sites, TTL);
* ``clean``: which lines of a page to keep;
* ``coldstart``: ``TemplateStream``, pages in arrival order with a cold-start policy
  (publish, or also re-publish improved versions);
* ``snapshot``: the state in a file, written atomically;
* ``stage``: ``TemplateStage``, what the pipeline calls between extract and dedupe.

Several workers. The state is per site and lives in the process that finishes records, so a
site's pages must meet the same worker: the feeder keys input records by host, so one site's
pages land on one partition, and a partition is consumed by one worker at a time, in order.
When they do not meet (records keyed otherwise, a partition moved by a rebalance, sites
grouped by registered domain over hosts on different partitions), each worker learns the site
from the pages it sees: nothing wrong is removed, the template is just learnt later (after
``min_pages`` pages on that worker) and the first pages there go out less clean. Each worker
snapshots its own state to its own file; after a rebalance the new owner of a partition
starts its sites cold, and the old owner's copy ages out (LRU, TTL).

Restart. With a snapshot path configured, the state is loaded at start-up and saved after
commits at most every ``snapshot_every_s`` and at shutdown (temporary file, fsync, rename:
never a torn file). Records processed after the last snapshot are processed again after a
crash (at-least-once); a page observed again replaces its own entry, so replays never count
twice.
"""

from worker.templates.coldstart import ColdStart, Emission, PageIn, TemplateStream
from worker.templates.sites import SiteBy, site_key
from worker.templates.snapshot import load_snapshot, save_snapshot
from worker.templates.stage import (
    Cleaned,
    Revision,
    TemplateConfig,
    TemplateStage,
    page_input,
    revised_article,
    source_lines,
    template_input,
)
from worker.templates.state import Limits, SiteTemplates

__all__ = [
    "Cleaned",
    "ColdStart",
    "Emission",
    "Limits",
    "PageIn",
    "Revision",
    "SiteBy",
    "SiteTemplates",
    "TemplateConfig",
    "TemplateStage",
    "TemplateStream",
    "load_snapshot",
    "page_input",
    "revised_article",
    "save_snapshot",
    "site_key",
    "source_lines",
    "template_input",
]
