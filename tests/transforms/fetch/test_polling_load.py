"""Fetcher under polling load: a 304 keeps its connection, and one request is in flight per host at a time."""
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


def test_one_request_in_flight_per_host_whoever_calls(server, fetcher_for):
    import threading

    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def slow(ex):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        ex.sleep(0.2)
        with lock:
            state["now"] -= 1
        ex.send(200, b"ok")

    for i in range(4):
        server.route(f"/feed{i}", slow)
    fetcher = fetcher_for()  # no host gap: only the one-in-flight rule keeps the requests apart
    threads = [threading.Thread(target=fetcher.get, args=(f"{server.url}/feed{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.requests) == 4 and state["most"] == 1, state
