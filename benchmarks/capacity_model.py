"""The capacity model of docs/capacity.md: measured unit figures applied to three scales, with list prices.

    python benchmarks/capacity_model.py --poll POLL.json --index INDEX.json --batch BATCH.json
        --figures FIGURES.json

The JSON files are what the measuring scripts write with --json: benchmarks/internet_scale.py
--parts poll, benchmarks/story_index_scale.py, benchmarks/batch_scale.py and
benchmarks/capacity_figures.py. Nothing here is measured; every number it prints is one of theirs
or arithmetic on them with the assumptions in ASSUMPTIONS and the prices in PRICES.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

# List prices, us-central1, USD, as read on 2026-11-30 (see docs/capacity.md for where each was read).
PRICES = {
    "dataflow_streaming_vcpu_hour": 0.069,
    "dataflow_streaming_gb_hour": 0.0035557,
    "dataflow_streaming_data_gb": 0.018,
    "bq_active_storage_gb_month": 0.02,
    "bq_streaming_insert_per_200mb": 0.01,  # rows billed at 1 KB at least
    "pubsub_tib": 40.0,  # after the first 10 GiB a month; 1,000 B at least per request
}
ASSUMPTIONS = {
    "poll_interval_s": 900.0,  # every feed polled every 15 min (adaptive back-off only lowers this)
    "cpu_utilisation": 0.6,  # the share of a worker's vCPUs a streaming job keeps busy with headroom
    "worker_vcpus": 2, "worker_gb": 8.0,  # n2-standard-2
    "usable_gb_for_one_key": 6.0,  # of a worker's 8 GB, after the OS, the harness and the other keys
    "horizon_days": 3.0,  # DedupSettings.horizon_hours
    "entries_per_changed_poll": 1.0,  # a new article arrives by its own 200 poll (more 200s than real)
    "shuffle_bytes_per_article": 11_000,  # entry twice, article row to the index key and to the BigQuery filter
}
SCALES = (("2k feeds, one machine", 2_000, 20_000), ("100k feeds / 15 min, 1M articles/day", 100_000, 1_000_000),
          ("1M feeds, 10M articles/day", 1_000_000, 10_000_000))


def stage_ms(figures: dict, pages: str) -> float:
    return sum(figures["stages"][pages]["cpu_ms"].values())


def units(poll: dict, index: dict, batch: dict, figures: dict) -> dict:
    """The measured figures the model uses, by name."""
    steady = poll.get("steady") or poll["all"]  # "all": the run ended before every feed had been polled
    runs = sorted((r for r in batch["runs"] if r.get("cpu_s")), key=lambda r: r["pages"])
    tables = figures["warehouse"]["tables"]
    return {
        "cpu_304_s": 1.0 / steady["per_core_304"],
        "cpu_200_s": poll["poll_cpu_ms"]["200"] / 1000,
        # A real page's stage CPU (AEB pages) plus what the whole pipeline spent per simulated page
        # beyond the same stages on those pages (fetch, Beam, dedup, the warehouse write, start-up).
        "page_cpu_s": (stage_ms(figures, "aeb") + 1000 * runs[-1]["cpu_s"] / max(1, runs[-1]["fetched"])
                       - stage_ms(figures, "simulated")) / 1000,
        "track_bytes": poll["tracks"]["pickled_p99"],
        "member_heap": index["heap_bytes_per_member"],
        "member_record": index["record_bytes_per_member"],
        "link_record": figures["links"]["record_bytes"],
        "link_heap": figures["links"]["heap_bytes"],
        "bq_article": tables["articles"]["bq_bytes_per_row"],
        "bq_index": tables["story_index"]["bq_bytes_per_row"],
        "bq_feed_state": tables["feed_state"]["bq_bytes_per_row"],
        "message_bytes": figures["feeds"]["message_bytes"],
        "slack": index["state_log_slack"],
    }


def scale(u: dict, feeds: int, per_day: int) -> dict:
    a = ASSUMPTIONS
    polls = feeds * 86_400 / a["poll_interval_s"]
    changed = min(polls, per_day / a["entries_per_changed_poll"])
    cpu_s = (polls - changed) * u["cpu_304_s"] + changed * u["cpu_200_s"] + per_day * u["page_cpu_s"]
    vcpus = cpu_s / 86_400 / a["cpu_utilisation"]
    workers = max(1, math.ceil(vcpus / a["worker_vcpus"]))
    members = per_day * a["horizon_days"]
    index_gb = members * (u["member_heap"] + u["member_record"] * u["slack"]) / 1e9
    state_gb = (feeds * u["track_bytes"] + members * u["member_record"] * u["slack"]
                + members * u["link_record"] * u["slack"]) / 1e9
    bq_day_gb = per_day * (u["bq_article"] + u["bq_index"]) / 1e9
    insert_day_gb = per_day * (max(1024, u["bq_article"]) + max(1024, u["bq_index"])) / 1e9
    pubsub_day_gb = per_day * 2 * max(1000, u["message_bytes"] + 40) / 1e9  # publish + delivery
    links_gb = members * (u["link_heap"] + u["link_record"] * u["slack"]) / 1e9  # KeepFirstLink, also one key
    # The worker holding the index key needs its memory on top of a normal worker's share.
    extra_gb = max(0.0, index_gb - a["usable_gb_for_one_key"])
    p = PRICES
    month = {
        "dataflow": workers * 720 * (a["worker_vcpus"] * p["dataflow_streaming_vcpu_hour"]
                                     + a["worker_gb"] * p["dataflow_streaming_gb_hour"])
        + 720 * extra_gb * p["dataflow_streaming_gb_hour"]
        + 30 * per_day * a["shuffle_bytes_per_article"] / 1e9 * p["dataflow_streaming_data_gb"],
        "bq_streaming": 30 * insert_day_gb * 1e9 / 200e6 * p["bq_streaming_insert_per_200mb"],
        "bq_storage_first_month": 30 * bq_day_gb * p["bq_active_storage_gb_month"],
        "pubsub": max(0.0, 30 * pubsub_day_gb / 1024 - 10 / 1024) * p["pubsub_tib"],
    }
    return {"feeds": feeds, "per_day": per_day, "polls_per_s": polls / 86_400, "vcpus": vcpus, "workers": workers,
            "index_members": members, "index_gb_one_key": index_gb,
            "index_fits": index_gb <= a["usable_gb_for_one_key"], "links_gb_one_key": links_gb,
            "index_worker_gb": a["worker_gb"] + extra_gb, "state_gb": state_gb, "bq_day_gb": bq_day_gb,
            "insert_day_gb": insert_day_gb, "pubsub_day_gb": pubsub_day_gb, "month": month,
            "month_total": sum(month.values()), "poll_share": ((polls - changed) * u["cpu_304_s"]
                                                                + changed * u["cpu_200_s"]) / cpu_s}


def report(u: dict) -> list:
    lines = ["unit figures: " + ", ".join(f"{k}={v:.4g}" for k, v in u.items())]
    for name, feeds, per_day in SCALES:
        s = scale(u, feeds, per_day)
        m = s["month"]
        lines.append(
            f"{name}: {s['polls_per_s']:,.0f} polls/s; {s['vcpus']:.1f} vCPU busy -> {s['workers']} n2-standard-2 "
            f"({s['poll_share']:.0%} of CPU polling); story index {s['index_members']:,.0f} members = "
            f"{s['index_gb_one_key']:.1f} GB on one key ({'fits' if s['index_fits'] else 'does NOT fit'} one "
            f"n2-standard-2; that worker needs {s['index_worker_gb']:.0f} GB); "
            f"links seen {s['links_gb_one_key']:.1f} GB on one key; "
            f"streaming state {s['state_gb']:.1f} GB; BigQuery +{s['bq_day_gb']:.2f} GB/day stored, "
            f"{s['insert_day_gb']:.2f} GB/day streaming inserts billed; Pub/Sub {s['pubsub_day_gb']:.2f} GB/day; "
            f"month: Dataflow ${m['dataflow']:,.0f}, BigQuery inserts ${m['bq_streaming']:,.0f}, "
            f"BigQuery storage ${m['bq_storage_first_month']:,.2f} (first month's data), Pub/Sub ${m['pubsub']:,.0f}; "
            f"total ${s['month_total']:,.0f}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("poll", "index", "batch", "figures"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    args = parser.parse_args(argv)
    poll = json.loads(args.poll.read_text())
    poll = poll.get("poll", poll)
    u = units(poll, json.loads(args.index.read_text()), json.loads(args.batch.read_text()),
              json.loads(args.figures.read_text()))
    print("\n".join(report(u)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
