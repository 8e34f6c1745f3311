"""Fetcher: a 304 hands its connection back to the pool, so polling unchanged feeds does not reconnect."""
from __future__ import annotations


def test_a_304_leaves_its_connection_open_for_the_next_poll(server, fetcher_for):
    ports = []

    def etagged(ex):
        ports.append(ex.handler.client_address[1])
        if ex.handler.headers.get("If-None-Match") == '"v1"':
            ex.send(304, b"", {"ETag": '"v1"'})
        else:
            ex.send(200, b"feed", {"ETag": '"v1"'})

    server.route("/feed", etagged)
    fetcher = fetcher_for()
    assert fetcher.get(server.url + "/feed").status == 200
    statuses = [fetcher.get(server.url + "/feed", headers={"If-None-Match": '"v1"'}).status for _ in range(4)]
    assert statuses == [304] * 4
    # One client port for all five requests: one connection, reused after each 304.
    assert len(ports) == 5 and len(set(ports)) == 1, ports
