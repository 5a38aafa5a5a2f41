"""When the credential cache replaces keys: 20 minutes before expiry, or half-way through the
life of keys that live shorter than that, so short sessions are not looked up per request.

The clock is injected (time cannot be moved in a real process); the fetcher hands out keys
the way STS does, each with a new access key id.
"""

import datetime as dt
import itertools

from jupyterlab_smallfry.credentials.cache import AwsCredentials, CredentialCache

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, minutes: float):
        self.now += dt.timedelta(minutes=minutes)


def sts_like(clock: Clock, lifetime_minutes: float):
    serial = itertools.count(1)

    async def fetch():
        n = next(serial)
        expiry = clock.now + dt.timedelta(minutes=lifetime_minutes)
        return AwsCredentials(f"ASIAKEY{n}", "secret", "token", expiry, "test")

    return fetch


async def test_hour_long_keys_are_replaced_twenty_minutes_before_expiry():
    clock = Clock()
    cache = CredentialCache(sts_like(clock, 60), clock=clock)
    first = await cache.get()
    clock.advance(39)
    assert await cache.get() is first and cache.lookups == 1
    clock.advance(2)  # 19 minutes left: inside the margin, beyond botocore's 15
    second = await cache.get()
    assert second.access_key != first.access_key and cache.lookups == 2


async def test_fifteen_minute_keys_are_replaced_half_way_not_on_every_request():
    clock = Clock()
    cache = CredentialCache(sts_like(clock, 15), clock=clock)
    first = await cache.get()
    for _ in range(7):
        clock.advance(1)
        assert await cache.get() is first
    assert cache.lookups == 1
    clock.advance(1)  # 7 minutes left, half of 15 has passed
    assert (await cache.get()).access_key != first.access_key and cache.lookups == 2


async def test_keys_without_expiry_are_never_looked_up_again():
    clock = Clock()

    async def fetch():
        return AwsCredentials("AKIASTATIC", "secret")

    cache = CredentialCache(fetch, clock=clock)
    await cache.get()
    clock.advance(60 * 24 * 30)
    await cache.get()
    assert cache.lookups == 1
