"""magcycle.feed: feedstock catalogue, user assays and blends.

>>> from magcycle.feed import blend
>>> f = blend({"ev": 1, "wind": 1}, "100 kg/h")
>>> round(f.composition["Dy"], 6)   # (4.0 + 4.0) / 2 wt %
4.0
>>> round(f.kg_per_h * f.composition["Nd"] / 100, 3)   # kg/h of Nd
22.25
"""

from magcycle.feed.catalogue import CATALOGUE, FEED_ELEMENTS, FeedClass
from magcycle.feed.feed import (
    COMPOSITION_TOLERANCE_WT_PCT,
    Feed,
    blend,
    feed_rate,
    from_class,
    load_assay,
    resolve_feed,
)

__all__ = ["CATALOGUE", "FEED_ELEMENTS", "FeedClass", "Feed", "blend", "from_class", "load_assay",
           "feed_rate", "resolve_feed", "COMPOSITION_TOLERANCE_WT_PCT"]
