"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis`` for
every cache operation, and building one fills its table of ~170 response callbacks: about a
quarter of a millisecond, several times a request (the page cache reads a version and a page;
sessions, rate limits). A ``redis.Redis`` is safe to share between threads (each command takes a
connection from the pool), so one is kept per server, shared by every backend instance of the
process. Everything else is Django's.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# One client (and its connection pool) per server and pool options, for the whole process: every
# backend instance shares them. Django makes a new backend instance whenever the CACHES setting is
# overridden (each test, with its own key prefix); a pool per instance would leave its sockets
# open until the garbage collector found it, and a long test run ran Redis out of clients. The
# pool checks its process id, so a forked worker opens its own connections.
_shared: dict[tuple, object] = {}
_lock = threading.Lock()


class SharedClientRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        identity = (self._servers[index], self._pool_class, self._client, repr(sorted(self._pool_options.items())))
        client = _shared.get(identity)
        if client is None:
            with _lock:
                client = _shared.get(identity)
                if client is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    client = _shared[identity] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
