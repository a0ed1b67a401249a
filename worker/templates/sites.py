"""Which site a page belongs to: the unit whose pages share a template.

``host`` (the default) keeps sub-sites apart (``news.example.com`` and
``shop.example.com`` usually have different templates); ``www.`` is ignored since it
names the same site. ``domain`` groups by registered domain (public suffix list, from
``tld``, which trafilatura already depends on) for networks that spread one template over
many hosts.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from tld import get_fld

SiteBy = Literal["host", "domain"]


def site_key(url: str, by: SiteBy = "host") -> str:
    """The site of ``url``; an unparsable URL is its own site (it then just stays cold)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return url
    if by == "domain" and host:
        domain = get_fld(host, fix_protocol=True, fail_silently=True)
        if domain:
            return str(domain)
    return host.removeprefix("www.") or url
