"""Shared fixtures of the fetch tests: real misbehaving HTTP servers on 127.0.0.1, no mocks of urllib3."""
from __future__ import annotations

import socket

import pytest

from schemas.settings import FetchLimits
from tests.support.dns import FakeDNS
from tests.support.hostile_server import HostileServer
from transforms.fetch.client import Fetcher
from transforms.fetch.errors import FetchError

# Small numbers keep the tests fast; each test overrides what it exercises.
FAST = dict(
    allow_private_networks=True,
    respect_robots=False,
    connect_timeout_s=1.0,
    read_timeout_s=1.0,
    total_deadline_s=3.0,
    max_retries=2,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
    max_retry_after_s=2.0,
)


def limits(**changes) -> FetchLimits:
    return FetchLimits(**{**FAST, **changes})


def fails(fetcher: Fetcher, url: str, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.get(url, **kwargs)
    return info.value


@pytest.fixture
def server():
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def fetcher_for():
    made = []

    def make(**changes) -> Fetcher:
        made.append(Fetcher(limits(**changes)))
        return made[-1]

    yield make
    for fetcher in made:
        fetcher.close()


@pytest.fixture
def fake_dns(monkeypatch):
    dns = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns
