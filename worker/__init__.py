"""ingest-worker: raw crawled pages in, clean de-duplicated articles out."""

__version__ = "0.1.0"
SCHEMA_VERSION = "2.1"
