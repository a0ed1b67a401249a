"""The trafilatura engine: trafilatura on an lxml parse, with our rules around it.

``page.extract_html`` parses once, reads metadata and page type through this engine's lxml
gatherer (``facts``) and the shared rules, pre-cleans the tree and post-filters trafilatura's
lines (``cleanup``), and falls back to the page's main region (``region``) where trafilatura
keeps too little. Only engine-neutral code (facts, metadata and page-type rules, the
vocabulary, the record) is shared with the fast engine, in ``worker.extract``.
"""
