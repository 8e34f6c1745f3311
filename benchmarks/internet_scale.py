"""Internet scale in simulation: the real polling code against a simulated web of many hosts and feeds.

    python benchmarks/internet_scale.py [--quick] [--hosts 10000] [--feeds 100000] [--duration 240]
        [--interval 120] [--workers 16] [--host-gap 1.0] [--story-articles 300000]
        [--batch-pages 1000,10000] [--json OUT]

Parts (each prints its figures and "target met / NOT met" lines):
1. Polling. benchmarks/simweb.py serves `--hosts` virtual hosts and `--feeds` feeds from its own
   process through the fetcher's `--proxy` path. The real FeedPoller (poll_feed + poll_track, the
   real Fetcher with its politeness slots, robots.txt and breaker) polls them for `--duration`
   seconds on the real PollSchedule, with intervals scaled down (`--interval` stands for 15 min).
   Like the local live source, `--workers` feeds are polled at once, never two of one host.
   Measured: polls/s per core of this process's CPU time (the server's is not counted) once every
   feed has been polled and most polls are 304s; state bytes per FeedTrack (pickled, as it rides in
   the SDF restriction, and in memory); time until every feed was polled once and the per-second
   spread of first polls; politeness as the server saw it (requests in flight per host, smallest
   gap between two requests to a host against `--host-gap`).
2. The streaming story index at `--per-day` articles a day (benchmarks/story_index_scale.py).
3. Local batch runs of `--batch-pages` simulated pages through `wiredesk run` (benchmarks/batch_scale.py).
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import pickle
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import rss_kb  # noqa: E402
from benchmarks.simweb import Shape, SimWeb, feed_url, feed_version  # noqa: E402

TARGET_POLLS_PER_CORE = 500.0
TARGET_TRACK_BYTES = 2048
REAL_INTERVAL_S = 900.0  # what --interval stands for: GDELT's 15 minutes



def sentences() -> list:
    from benchmarks.streaming_memory import DEFAULT_CORPUS
    from benchmarks.streaming_memory import sentences as corpus_sentences

    return corpus_sentences(DEFAULT_CORPUS) if DEFAULT_CORPUS.exists() else ["A simulated sentence of news text."]


def poll_settings(proxy: str, interval_s: float, host_gap_s: float):
    """The defaults, with every time scaled by interval_s / 15 min, and the fetcher behind the proxy."""
    from schemas.settings import FetchLimits, Settings, StreamSettings

    scale = interval_s / REAL_INTERVAL_S
    fetch = FetchLimits(proxy=proxy, min_host_gap_s=host_gap_s, connect_timeout_s=2.0, read_timeout_s=1.0,
                        total_deadline_s=3.0, backoff_base_s=0.05, backoff_cap_s=0.5)
    stream = StreamSettings(default_poll_interval_s=interval_s, min_poll_interval_s=60.0 * scale,
                            max_poll_interval_s=6 * 3600.0 * scale)
    return Settings(fetch=fetch, stream=stream)


class Drive:
    """The polling loop: the real schedule and poller, `workers` polls at once, never two of one host."""

    def __init__(self, poller, schedule, workers: int, host_rule: bool = True):
        self.poller, self.schedule, self.workers = poller, schedule, workers
        self.host_rule = host_rule  # False: every due feed polls on its own, as the Dataflow SDF's elements do
        self.starts: list = []  # (start time, feed url, kinds of items)
        self.first_done_at = None  # wall and CPU time when every feed had been polled once
        self.pass_cpu_s: list = []  # CPU seconds of each schedule pass over every track

    def run(self) -> None:
        started = time.thread_time()
        try:
            self._run()
        finally:
            self.loop_cpu_s = time.thread_time() - started

    def _run(self) -> None:
        from transforms.feeds.urls import host_of

        tracks = self.poller.tracks
        unpolled = set(tracks)
        flying: dict = {}
        busy: set = set()
        queue: collections.deque = collections.deque()  # due feeds whose host is free, as far as known
        waiting: dict = {}  # host -> deque of its due feeds, held while the host is being polled
        queued: set = set()  # every feed in queue or waiting, so a pass does not add it twice
        scanned = float("-inf")
        with concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="sim-poll") as pool:
            while True:
                now = time.time()
                # A pass over every track at most every max_sleep_s, as the real loops wake: a pass
                # on every wake of 50 ms cost half a core at 100k feeds.
                if not queue and not self.schedule.stopping(now) and now - scanned >= self.schedule.max_sleep_s:
                    cpu, scanned = time.thread_time(), now
                    fresh = [url for url in self.schedule.due(tracks, now) if url not in queued]
                    queue.extend(fresh)
                    queued.update(fresh)
                    self.pass_cpu_s.append(time.thread_time() - cpu)
                while queue and len(flying) < self.workers and not self.schedule.stopping(now):
                    url = queue.popleft()
                    host = host_of(url)
                    if host in busy and self.host_rule:
                        waiting.setdefault(host, collections.deque()).append(url)  # after its host's poll
                        continue
                    queued.discard(url)
                    busy.add(host)
                    flying[pool.submit(self._poll, url)] = (url, host)
                if not flying:
                    if self.schedule.finished(tracks, now):
                        return
                    time.sleep(max(0.001, scanned + self.schedule.max_sleep_s - now))
                    continue
                # Woken by a finished poll (its host is free again), or for the next pass; with feeds
                # queued only a finished poll can start one, so wait for it (a zero timeout here spun).
                next_pass = self.schedule.max_sleep_s if queue else max(0.0, scanned + self.schedule.max_sleep_s - now)
                done, _ = concurrent.futures.wait(list(flying), timeout=next_pass,
                                                  return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    url, host = flying.pop(future)
                    busy.discard(host)
                    future.result()
                    unpolled.discard(url)
                    if host in waiting:
                        queue.appendleft(waiting[host].popleft())
                        if not waiting[host]:
                            del waiting[host]
                if not unpolled and self.first_done_at is None:
                    self.first_done_at = (time.time(), time.process_time(), len(self.starts))

    def _poll(self, url: str) -> None:
        started, cpu = time.time(), time.thread_time()
        items = self.poller.poll(url, started)
        state = next(v for k, v in items if k == "state")
        kind = "failed" if state.consecutive_failures else state.last_status
        self.starts.append((started, url, kind, time.thread_time() - cpu))


def track_bytes(tracks: dict) -> dict:
    """State per feed: pickled (as in the SDF restriction) and in memory (traced allocations of a deep copy)."""
    sizes = sorted(len(pickle.dumps(t, protocol=pickle.HIGHEST_PROTOCOL)) for t in tracks.values())
    blob = pickle.dumps(dict(list(tracks.items())[:10_000]), protocol=pickle.HIGHEST_PROTOCOL)
    tracemalloc.start()  # unpickled, so every string and number of the sample is its own, as after polls
    before = tracemalloc.get_traced_memory()[0]
    clone = pickle.loads(blob)
    in_memory = (tracemalloc.get_traced_memory()[0] - before) / len(clone)
    tracemalloc.stop()
    del clone
    seen = sorted(len(t.seen) for t in tracks.values())
    return {"pickled_mean": sum(sizes) / len(sizes), "pickled_p99": sizes[int(0.99 * (len(sizes) - 1))],
            "pickled_max": sizes[-1], "in_memory_mean": in_memory, "seen_ids_max": seen[-1]}


def by_kind(polls: list) -> dict:
    """CPU seconds of each poll's own thread, by what the poll got: 200, 304 or failed."""
    out = collections.defaultdict(list)
    for _, _, kind, cpu in polls:
        out[kind].append(cpu)
    return out


def steady_figures(polls: list, wall_s: float, cpu_s: float) -> dict:
    """After every feed was polled once: 304 polls per core, counting each 304's own CPU plus the
    loop's share per poll (the process's CPU not spent inside any poll: scheduling, threads, GC)."""
    kinds = by_kind(polls)
    in_polls = sum(sum(c) for c in kinds.values())
    overhead = max(0.0, cpu_s - in_polls) / max(1, len(polls))
    per_304 = sum(kinds[304]) / len(kinds[304]) if kinds[304] else float("inf")
    return {"polls": len(polls), "share_304": len(kinds[304]) / max(1, len(polls)), "wall_s": wall_s,
            "cpu_s": cpu_s, "overall_per_cpu_s": len(polls) / max(1e-9, cpu_s), "ms_per_304": 1000 * per_304,
            "overhead_ms": 1000 * overhead, "per_core_304": 1 / (per_304 + overhead)}


def spread(times: list, started: float) -> dict:
    """How first polls spread over time: per-second counts, their max and mean."""
    per_second = collections.Counter(int(t - started) for t in times)
    seconds = max(per_second) + 1 if per_second else 1
    return {"seconds": seconds, "max_per_s": max(per_second.values(), default=0), "mean_per_s": len(times) / seconds}


def live_scan_ms(tracks: dict, now: float) -> float:
    """CPU ms of the scan pipeline/local_stream.py repeats after every finished poll: each track's host
    (to keep hosts apart), then the schedule's due feeds among them."""
    from transforms.feeds.schedule import PollSchedule
    from transforms.feeds.urls import host_of

    cpu = time.process_time()
    idle = {url: t for url, t in tracks.items() if host_of(url) not in ()}
    PollSchedule(now).due(idle, now)
    return 1000 * (time.process_time() - cpu)


def stored_states(shape: Shape, specs: list, share: float, interval_s: float, now: float) -> list:
    """feed_state rows as a restart reads them back: for `share` of the feeds, the ETag of the version
    they had and a last poll spread over the past interval (the other feeds are new)."""
    from schemas.types import FeedState
    from transforms.util.times import iso_of_ts

    rows = []
    for i, spec in enumerate(specs[: int(share * len(specs))]):
        last = now - interval_s * ((i * 0.6180339887) % 1.0)
        rows.append(FeedState(feed_url=spec.url, etag=f'"{i}-{feed_version(shape, i, 0.0)}"', last_modified=None,
                              last_polled_at=iso_of_ts(last), last_status=200, consecutive_failures=0,
                              entries_seen=shape.items_per_feed))
    return rows


def poll_part(args) -> dict:
    from schemas.types import FeedSpec
    from transforms.feeds.poller import FeedPoller
    from transforms.feeds.schedule import PollSchedule

    shape = Shape(hosts=args.hosts, feeds=args.feeds, change_s=args.interval)
    with SimWeb(shape, sentences()) as web:
        settings = poll_settings(web.url, args.interval, args.host_gap)
        specs = [FeedSpec(url=feed_url(shape, i)) for i in range(args.feeds)]
        started = time.time()
        states = stored_states(shape, specs, args.warm_share, args.interval, started)
        rss0 = rss_kb()
        poller = FeedPoller(settings, specs, states, now=started)
        rss_tracks = (rss_kb() - rss0) * 1024 / args.feeds * 10_000
        due_now = len(PollSchedule(started).due(poller.tracks, started))
        scan_ms = live_scan_ms(poller.tracks, started)
        schedule = PollSchedule(started, args.duration, None, settings.stream.max_sleep_s)
        drive = Drive(poller, schedule, args.workers, host_rule=not args.no_host_rule)
        cpu0 = time.process_time()
        drive.run()
        ended, cpu1 = time.time(), time.process_time()
        poller.close()
        server = web.stats()
    out = {"feeds": args.feeds, "hosts": args.hosts, "workers": args.workers, "warm_share": args.warm_share,
           "host_rule": not args.no_host_rule,
           "duration_s": ended - started,
           "polls": len(drive.starts), "cpu_s": cpu1 - cpu0, "due_at_start": due_now,
           "rss_per_10k_tracks_new_mb": rss_tracks / 2**20, "status": server["status"], "robots": server["robots"],
           "hosts_seen": server["hosts_seen"], "max_inflight": server["max_inflight"],
           "hosts_over_1_inflight": server["hosts_over_1_inflight"], "min_gap_s": server["min_gap_s"],
           "gap_violations": sum(g < args.host_gap - 1e-3 for g in server["gaps"]),
           "host_gap_s": args.host_gap, "feeds_polled": len({p[1] for p in drive.starts}),
           "pass_ms": 1000 * max(drive.pass_cpu_s, default=0.0),
           "loop_ms_per_poll": 1000 * drive.loop_cpu_s / max(1, len(drive.starts)), "live_scan_ms": scan_ms}
    out["first_polls"] = spread(server["first_poll"], server["first_poll"][0] if server["first_poll"] else 0)
    if drive.first_done_at is not None:
        wall, cpu, polls_then = drive.first_done_at
        out["all_polled_after_s"] = wall - started
        out["steady"] = steady_figures(drive.starts[polls_then:], ended - wall, cpu1 - cpu)
    out["poll_cpu_ms"] = {str(kind): 1000 * sum(c) / len(c) for kind, c in by_kind(drive.starts).items()}
    out["all"] = steady_figures(drive.starts, ended - started, cpu1 - cpu0)  # start-up (robots, first 200s) included
    out["tracks"] = track_bytes(poller.tracks)
    return out


def report_poll(p: dict) -> list:
    lines = [f"polling: {p['feeds']:,} feeds ({p['warm_share']:.0%} resumed from feed_state) on {p['hosts']:,} hosts, "
             f"{p['workers']} workers{'' if p.get('host_rule', True) else ' without the one-poll-per-host rule'}, "
             f"{p['duration_s']:.0f} s: {p['polls']:,} polls in {p['cpu_s']:.1f} CPU s "
             f"= {p['polls'] / max(p['cpu_s'], 1e-9):.0f} polls per CPU s overall; answers {p['status']}, "
             f"robots.txt fetched {p['robots']:,} times for {p['hosts_seen']:,} hosts",
             f"schedule: {p['due_at_start']:,} of {p['feeds']:,} feeds due at start; one pass over all tracks "
             f"takes {p['pass_ms']:.1f} ms CPU; the local live source's per-poll scan (hosts + due) "
             f"{p['live_scan_ms']:.1f} ms"]
    f = p["first_polls"]
    lines.append(f"start-up: every feed polled once after {p.get('all_polled_after_s', float('nan')):.1f} s; "
                 f"first polls over {f['seconds']} s, max {f['max_per_s']}/s, mean {f['mean_per_s']:.0f}/s")
    s = p.get("steady")
    if s:
        lines.append(f"steady: {s['polls']:,} polls ({s['share_304']:.1%} 304) in {s['wall_s']:.1f} s wall, "
                     f"{s['cpu_s']:.2f} CPU s = {s['overall_per_cpu_s']:.0f} polls per CPU s, all kinds")
    else:
        s = p["all"]
        lines.append("steady: not every feed was polled before the end; the figures below count every poll")
    cpu = p["poll_cpu_ms"]
    lines.append("CPU per poll (its own thread): " + ", ".join(f"{k} {v:.2f} ms" for k, v in sorted(cpu.items()))
                 + f"; loop overhead {s['overhead_ms']:.2f} ms per poll (over the whole run, the scheduling "
                 f"thread's own {p['loop_ms_per_poll']:.2f} ms)")
    lines.append(f"304 polls per core: {s['per_core_304']:.0f}/s ({s['ms_per_304']:.2f} + {s['overhead_ms']:.2f} ms)")
    ok = s["per_core_304"] >= TARGET_POLLS_PER_CORE
    lines.append(f"target >= {TARGET_POLLS_PER_CORE:.0f} polls/s per core on 304s: {'met' if ok else 'NOT met'}")
    t = p["tracks"]
    lines.append(f"feed track: pickled {t['pickled_mean']:.0f} B mean, {t['pickled_p99']} B p99, "
                 f"{t['pickled_max']} B max; "
                 f"in memory {t['in_memory_mean']:.0f} B; {t['seen_ids_max']} entry ids kept at most; "
                 f"RSS of new tracks {p['rss_per_10k_tracks_new_mb']:.1f} MB per 10k")
    lines.append(f"target <= {TARGET_TRACK_BYTES} B state per feed: "
                 f"{'met' if max(t['pickled_p99'], t['in_memory_mean']) <= TARGET_TRACK_BYTES else 'NOT met'}")
    lines.append(f"politeness: max {p['max_inflight']} request(s) in flight per host "
                 f"({p['hosts_over_1_inflight']} hosts over 1); min gap {p['min_gap_s']:.3f} s vs host gap "
                 f"{p['host_gap_s']:.3f} s ({p['gap_violations']} violations); "
                 f"{p['feeds_polled']:,}/{p['feeds']:,} feeds polled")
    ok = p["hosts_over_1_inflight"] == 0 and p["gap_violations"] == 0
    lines.append(f"target politeness never violated: {'met' if ok else 'NOT met'}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="300 feeds on 100 hosts for 12 s, 5,000 articles, 40 pages (CI)")
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=240.0, help="seconds of polling")
    parser.add_argument("--interval", type=float, default=120.0, help="the poll interval that stands for 15 min")
    parser.add_argument("--workers", type=int, default=16, help="feeds polled at once")
    parser.add_argument("--warm-share", type=float, default=0.0,
                        help="share of feeds that resume from a stored feed_state row (a restart), the rest are new")
    parser.add_argument("--no-host-rule", action="store_true",
                        help="poll every due feed at once, two of one host included (the Dataflow SDF's way)")
    parser.add_argument("--host-gap", type=float, default=1.0, help="the fetcher's min_host_gap_s")
    parser.add_argument("--per-day", type=float, default=1_000_000.0, help="story index: articles a day")
    parser.add_argument("--story-articles", type=int, default=300_000, help="story index: articles to stream")
    parser.add_argument("--batch-pages", default="1000,10000", help="batch runs: comma-separated page counts")
    parser.add_argument("--parts", default="poll,index,batch")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.hosts, args.feeds, args.duration, args.interval, args.host_gap = 100, 300, 12.0, 3.0, 0.1
        args.story_articles, args.batch_pages = 5_000, "40"
    results, lines = {}, []
    parts = args.parts.split(",")
    if "poll" in parts:
        results["poll"] = poll_part(args)
        lines += report_poll(results["poll"])
        print("\n".join(lines), flush=True)
    if "index" in parts:
        from benchmarks.story_index_scale import index_part, report_index

        results["index"] = index_part(args.story_articles, args.per_day)
        print("\n".join(report_index(results["index"])), flush=True)
    if "batch" in parts:
        from benchmarks.batch_scale import batch_part, report_batch

        results["batch"] = batch_part([int(n) for n in args.batch_pages.split(",") if n], sentences())
        print("\n".join(report_batch(results["batch"])), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
