"""URL canonicalisation: the article id is a hash of the canonical URL."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, not a page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "cmpid",
        "ncid",
        "ocid",
        "smid",
        "mbid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize(url: str) -> str:
    """Lower-case scheme and host, drop fragment, default port and tracking parameters."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or ("/" if netloc else "")
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def choose_canonical(url: str, declared: str | None) -> str:
    """The page's declared canonical URL when it is believable, else its own URL.

    Templates that point every page's canonical at the home page would fold all
    articles onto one id, so a declared canonical on another host, or one that is
    a bare root for a deeper page, is ignored.
    """
    own = canonicalize(url)
    if not declared:
        return own
    absolute = canonicalize(urljoin(url, declared.strip()))
    own_parts, decl_parts = urlsplit(own), urlsplit(absolute)
    if decl_parts.scheme not in ("http", "https"):
        return own
    if _bare_host(decl_parts.hostname) != _bare_host(own_parts.hostname):
        return own
    if decl_parts.path in ("", "/") and own_parts.path not in ("", "/"):
        return own
    return absolute


def _bare_host(host: str | None) -> str:
    host = host or ""
    return host[4:] if host.startswith("www.") else host


def domain_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def article_id(canonical_url: str) -> str:
    return hashlib.blake2b(canonical_url.encode(), digest_size=16).hexdigest()
