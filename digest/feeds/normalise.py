"""Turning untrusted feed text into safe, comparable values.

Feed HTML is sanitised to a small allow-list with nh3 (no script, style, event handlers, iframes,
forms or images of any kind: remote images are how tracking pixels get in). Titles and summaries are
reduced to plain text of bounded length. Links are made canonical so the same story from two feeds,
or with different tracking parameters, is recognised as one.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from urllib.parse import parse_qsl, quote, urljoin, urlsplit, urlunsplit

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
# Tags whose text is not prose either: dropped together with everything inside them.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"colspan"}, "th": {"colspan"}}
URL_SCHEMES = {"http", "https", "mailto"}


@functools.lru_cache(maxsize=256)
def _html_cleaner(base: str | None) -> nh3.Cleaner:
    """A sanitiser that makes relative links absolute against ``base`` (and drops them without one)."""
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        url_relative=("rewrite_with_base", base) if base else "deny",
    )


_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=DROPPED_WITH_CONTENT, attributes={})

# Closing block tags become spaces so "<p>a</p><p>b</p>" reads "a b", not "ab".
_BLOCK_BOUNDARY = re.compile(r"<(?=/?(?:p|div|br|li|h[1-6]|tr|td|th|blockquote|pre|section|article)\b)", re.I)
_WHITESPACE = re.compile(r"\s+")
# C0/C1 control characters and lone surrogates: never useful in text, and CR/LF must never reach a
# mail header from a title.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_TRACKING_PARAMS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "yclid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "ref_src",
    "cmpid",
    "ncid",
    "sr_share",
    "guccounter",
    "guce_referrer",
    "guce_referrer_sig",
    "pk_campaign",
    "pk_kwd",
    "pk_source",
    "pk_medium",
    "wt_mc",
    "wt_zmc",
}
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "=%:@!$'()*+,;/?-._~"
_REDIRECTORS = {("www.google.com", "/url"), ("google.com", "/url")}


def sanitise_html(fragment: str, base: str | None = None) -> str:
    """Feed HTML reduced to the allow-list: safe to embed in a page or an email.

    ``base`` is the address the fragment came from; relative links are resolved against it.
    """
    if not fragment:
        return ""
    if base and not base.startswith(("http://", "https://")):
        base = None
    return _html_cleaner(base).clean(fragment).strip()


def html_to_text(fragment: str, limit: int | None = None) -> str:
    """Plain text of an HTML fragment, whitespace folded, cut at a word boundary to ``limit``."""
    if not fragment:
        return ""
    if "<" in fragment or "&" in fragment:
        fragment = html.unescape(_TEXT_CLEANER.clean(_BLOCK_BOUNDARY.sub(" <", fragment)))
    return clip(fragment, limit)


def clip(text: str, limit: int | None = None) -> str:
    """Control characters removed, whitespace folded, cut at a word boundary with an ellipsis."""
    text = _WHITESPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    if limit is None or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def canonical_link(link: str | None, base: str | None = None) -> str | None:
    """An http(s) link made absolute and stripped of fragments and tracking parameters.

    Returns None for anything that is not a web link (javascript:, data:, mailto:, garbage), so such
    a value can never be rendered as a story link.
    """
    if not link:
        return None
    link = _CONTROL.sub("", link).strip()
    if base:
        link = urljoin(base, link)
    try:
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    if (host, parts.path) in _REDIRECTORS:
        # Google Alerts wrap each story in a redirect: the story is the "url" (or "q") parameter.
        query = dict(parse_qsl(parts.query))
        target = query.get("url") or query.get("q")
        return canonical_link(target) if target else None
    # Filter the raw query so the parameters that stay keep their exact spelling and order.
    kept = [s for s in parts.query.split("&") if s and not _is_tracking(s.partition("=")[0])]
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    if parts.username:
        return None  # credentials in a feed link are never a story link
    # Spaces and other unsafe characters are percent-encoded, as a browser would send them.
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query_string = "&".join(quote(segment, safe=_QUERY_SAFE) for segment in kept)
    return urlunsplit((scheme, netloc, path, query_string, ""))


def feed_key(url: str) -> str | None:
    """What two spellings of one feed address share, for refusing the same feed twice.

    The canonical link (host case, default port, tracking parameters and fragment gone) without its
    scheme, so http:// and https:// of one address compare equal, and without a trailing slash.
    None for anything that is not an http(s) address.
    """
    canonical = canonical_link(url)
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    path = parts.path.rstrip("/")
    return urlunsplit(("", parts.netloc, path, parts.query, ""))


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith(("utm_", "mtm_")) or name in _TRACKING_PARAMS


def content_hash(*parts: str) -> str:
    """A stable fingerprint of an entry's text, for entries with neither guid nor link."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
