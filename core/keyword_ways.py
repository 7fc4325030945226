"""Each keyword its own way (issue #31): its sources, its pace, only the big stories, surges.

Pure rules; storage keeps the choices (subscriptions' columns, subscription_feeds, feed_sites)
and service.keyword_ways changes them.

- Sources: a keyword limited to some sources (`scoped`) matches only articles of the feeds
  ticked for it and of the feeds whose site is one of its `site:` hosts or under one. A feed's
  sites are the hosts of its own <link> and of its items' links (a feed is often served from
  another host than its site: feeds.bbci.co.uk for bbc.com); `www.` is ignored.
- Pace: at once, in the hourly digest or in the daily digest, overriding the chat's mode for
  that keyword. One story, one alert: a story several keywords of a chat match goes at the
  fastest of their paces.
- Big stories only: `min_outlets` (2-5) outlets carried the story within `window_hours`.
- Surges: on by default for a keyword whose pace (its own or the chat's) is a digest, or that
  waits for big stories; off for one sent at once (its reader already sees each story).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from core.delivery_time import INSTANT, DeliveryMode
from core.models import Subscription

PACES: tuple[DeliveryMode, ...] = ("instant", "hourly", "daily")  # fastest first
MIN_OUTLETS, MAX_OUTLETS = 2, 5  # "big stories only": how many outlets, at least and at most
WINDOWS_HOURS = (3, 6, 12, 24)  # the windows offered; 6 by default
DEFAULT_WINDOW_HOURS = 6
MAX_SITES = 10  # site: hosts on one keyword

_SITE = re.compile(r"(?<!\S)site:(\S*)", re.IGNORECASE)


class SiteError(ValueError):
    """A site: that is not a host name, or too many of them; `code` names the refusal."""

    def __init__(self, code: str, site: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.site = site


def bare_host(host: str) -> str:
    """A host as sites are compared: lowercase, without a trailing dot, a port or `www.`."""
    host = host.strip().lower().rstrip(".").partition(":")[0]
    return host[4:] if host.startswith("www.") else host


def is_host(host: str) -> bool:
    """Whether `host` is a domain name (two labels at least, letters, digits and inner dashes;
    not an address)."""
    labels = host.split(".")
    return (
        len(host) <= 253
        and len(labels) >= 2
        and not labels[-1].isdigit()
        and all(
            0 < len(label) <= 63
            and label[0] != "-"
            and label[-1] != "-"
            and all(c.isalnum() or c == "-" for c in label)
            for label in labels
        )
    )


def host_of(url: str | None) -> str:
    """The bare host of a URL; "" when it has none."""
    if not url:
        return ""
    try:
        return bare_host(urlsplit(url.strip()).hostname or "")
    except ValueError:
        return ""


def split_sites(raw: str) -> tuple[str, tuple[str, ...]]:
    """A keyword as typed, without its `site:` words, and the hosts they name (bare, in order,
    each once). SiteError when one is not a host name or there are more than MAX_SITES."""
    sites: list[str] = []
    for found in _SITE.finditer(raw):
        value = found.group(1)
        host = host_of(value if "//" in value else f"http://{value}")
        if not is_host(host):
            raise SiteError("bad_site", value)
        if host not in sites:
            sites.append(host)
    if len(sites) > MAX_SITES:
        raise SiteError("too_many_sites")
    return " ".join(_SITE.sub(" ", raw).split()), tuple(sites)


def covers(site: str, host: str) -> bool:
    """Whether a site: host covers a feed's site `host` (the same, or under it)."""
    return host == site or host.endswith("." + site)


def feeds_of_sites(sites: Iterable[str], feed_hosts: dict[int, set[str]]) -> set[int]:
    """The feeds (id → their sites) whose site one of `sites` covers."""
    wanted = tuple(sites)
    return {
        feed_id
        for feed_id, hosts in feed_hosts.items()
        if any(covers(site, host) for site in wanted for host in hosts)
    }


def pace_of(subscription: Subscription, chat_mode: DeliveryMode) -> DeliveryMode:
    """The pace a keyword's stories go at: its own, or the chat's."""
    return subscription.pace or chat_mode


def fastest(paces: Iterable[DeliveryMode]) -> DeliveryMode:
    """The fastest of some paces (one story, one alert: it goes at the fastest); INSTANT when
    there are none."""
    return min(paces, key=PACES.index, default=INSTANT)


def row_pace(paces: Iterable[DeliveryMode], chat_mode: DeliveryMode) -> DeliveryMode | None:
    """The pace an alert row keeps: the fastest of its keywords' paces, None when that is
    simply the chat's mode (the row then follows the chat's)."""
    pace = fastest(paces)
    return None if pace == chat_mode else pace


def surges_on(subscription: Subscription, chat_mode: DeliveryMode) -> bool:
    """Whether a keyword gets surge notices: as chosen, or by default when its stories do not
    reach the reader one by one at once (a digest pace, or big stories only)."""
    if subscription.surges is not None:
        return subscription.surges
    return pace_of(subscription, chat_mode) != INSTANT or subscription.min_outlets > 1


def valid_outlets(value: int) -> bool:
    """Whether "big stories only" may ask for this many outlets (1 turns it off)."""
    return value == 1 or MIN_OUTLETS <= value <= MAX_OUTLETS
