"""URL canonicalisation: the article id is a hash of the canonical URL."""

from __future__ import annotations

import hashlib
import re
import unicodedata
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
WEB_SCHEMES = frozenset(_DEFAULT_PORTS)
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
TAB_NEWLINE = str.maketrans("", "", "\t\r\n")  # what browsers drop from a link's href


def web_url(url: str) -> str | None:
    """``url`` without its userinfo when it is an http(s) URL with a host, else None.

    Only those are pages: ``javascript:``, ``data:``, ``file:``, ``mailto:`` and a host-less
    ``http:`` are not, nor is a URL with a broken IPv6 host, a bad port or a netloc that
    NFKC normalisation changes (``urlsplit`` itself raises only when the change brings a
    ``/``, ``?``, ``#``, ``@`` or ``:``). Userinfo is a credential
    (``https://alice:s3cr3t@host``) or a disguise (``https://trusted.example@evil.example``
    is evil.example): it never reaches the output.
    """
    if CONTROL_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    netloc = parts.netloc
    if not netloc.isascii() and unicodedata.normalize("NFKC", netloc) != netloc:
        return None  # a host in compatibility characters (fullwidth dots ...) is a disguise
    if "@" not in parts.netloc:
        return url
    userinfo = parts.netloc.rpartition("@")[0] + "@"
    start = url.find("//") + 2
    if url.startswith(userinfo, start):  # cut it out, leaving the rest as it was written
        return url[:start] + url[start + len(userinfo) :]
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def resolve_url(href: str | None, base: str | None) -> str | None:
    """A link found in the markup as an absolute http(s) URL (see ``web_url``), or None:
    a link the page gets wrong is dropped, it never fails the page."""
    href = (href or "").strip().translate(TAB_NEWLINE)
    if not href:
        return None
    try:
        joined = urljoin(base, href) if base else href
    except ValueError:
        return None
    return web_url(joined)


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
    resolved = resolve_url(declared, url)
    if resolved is None:
        return own
    absolute = canonicalize(resolved)
    own_parts, decl_parts = urlsplit(own), urlsplit(absolute)
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
