"""Which feeds each of a keyword's site: hosts covers (issue #31), so a reader sees what
`site:hespress.com` reads before trusting it, and a host no feed is known under yet."""

from __future__ import annotations

from core.keyword_ways import feeds_of_sites
from core.models import Subscription
from service.base import Backend
from storage import scopes


def feeds_by_site(backend: Backend, subscription: Subscription) -> dict[str, set[int]]:
    """Each site: host of the keyword, in its order, and the feeds whose site it covers."""
    hosts = scopes.feed_hosts(backend.db)
    return {site: feeds_of_sites((site,), hosts) for site in subscription.sites}
