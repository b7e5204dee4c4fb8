"""getstar's caching layer: process memory, then Redis, with single flight and counters.

The service caches rendered answers (bytes + media type) keyed by the snapshot version,
so a snapshot swap makes every older entry unreachable at every level at once.
"""

from cache.layered import CachedAnswer, LayeredCache
from cache.memory import BoundedTTLCache
from cache.singleflight import SingleFlight
from cache.stats import CacheStats

__all__ = ["BoundedTTLCache", "CacheStats", "CachedAnswer", "LayeredCache", "SingleFlight"]
