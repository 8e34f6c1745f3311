"""The command line as a user meets it: progress, summary, logging, help, and clear config errors.

Everything that a user sees is checked through `wiredesk` run as a subprocess.
"""
from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
import timeit
from pathlib import Path

import pytest

from pipeline import logging_setup, progress

WIREDESK = Path(sys.executable).with_name("wiredesk")
CMD = [str(WIREDESK)] if WIREDESK.exists() else [sys.executable, "-m", "pipeline.cli"]
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ \S")
PROGRESS_KEYS = ("feeds_polled", "entries", "pages_fetched", "articles_written", "duplicates", "dead_letters")


def wiredesk(*args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([*CMD, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def count_articles(warehouse: Path) -> int:
    from transforms.warehouse import duckdb_store

    con = duckdb_store.connect(warehouse, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------- a demo run, not on a terminal

@pytest.fixture(scope="module")
def demo_log_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-log")
    warehouse = tmp / "demo.duckdb"
    proc = wiredesk("demo", "--warehouse", str(warehouse), "--progress-interval", "0.3", cwd=tmp)
    return proc, warehouse


def test_demo_off_a_terminal_logs_periodic_progress_lines(demo_log_run):
    proc, warehouse = demo_log_run
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if " progress " in line]
    assert len(lines) >= 2, proc.stderr  # at least one periodic line and the final one
    assert all("\r" not in line and "\x1b" not in line for line in lines)
    final = lines[-1]
    assert final.endswith("final=true")
    fields = dict(kv.split("=", 1) for kv in final.split(" progress ", 1)[1].split())
    assert set(PROGRESS_KEYS) <= set(fields)
    assert int(fields["feeds_polled"]) == 4
    assert int(fields["articles_written"]) == count_articles(warehouse) > 0
    assert int(fields["dead_letters"]) >= 1  # the demo's one 404
    assert int(fields["duplicates"]) >= 1


def test_demo_logs_are_one_structured_line_each_without_beam_noise(demo_log_run):
    proc, _ = demo_log_run
    lines = proc.stderr.splitlines()
    assert lines
    bad = [line for line in lines if not TEXT_LINE.match(line)]
    assert not bad, bad
    assert "requested in with_outputs()" not in proc.stderr
    assert "apache_beam" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert any(" wiredesk.run run_started " in line for line in lines)
    assert any(" wiredesk.run run_finished elapsed_s=" in line for line in lines)


def test_demo_prints_the_end_of_run_summary(demo_log_run):
    proc, _ = demo_log_run
    out = proc.stdout
    assert re.search(r"wiredesk run finished in \d+\.\ds", out)
    for heading in ("counters per stage:", "dead letters by reason:", "articles by agency:", "widest stories:"):
        assert heading in out, out
    assert "[balanced]" in out
    assert "fetch/http_404: 1" in out
    assert re.search(r"^\s+3 outlets\s+\[(PTI|AP)\]", out, re.M)
    assert "\x1b" not in out  # the live line never goes to stdout


# ---------------------------------------------------------------- on a terminal: the live line

def run_on_terminal(args, cwd, timeout=120) -> tuple:
    """Run wiredesk with stderr on a pseudo-terminal (stdout piped); returns (rc, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CMD, *args], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, cwd=cwd)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    out = proc.communicate(timeout=30)[0].decode()
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def test_demo_on_a_terminal_redraws_one_live_line_and_logs_json(tmp_path):
    warehouse = tmp_path / "demo.duckdb"
    rc, out, tty = run_on_terminal(["demo", "--warehouse", str(warehouse), "--log-format", "json",
                                    "--progress-interval", "0.2"], tmp_path)
    assert rc == 0, tty
    assert "\r\x1b[K" in tty, tty[:500]
    frames = [f.strip() for f in tty.replace("\r\n", "\n").split("\r\x1b[K") if "articles written" in f]
    assert len(frames) >= 2, tty[:1000]
    final = frames[-1].splitlines()[0]
    assert re.search(r"feeds 4 .*articles written %d .*dead letters [1-9]" % count_articles(warehouse), final), final
    # Log records on the same terminal are JSON lines, never broken by the live line.
    records = [json.loads(line) for line in tty.replace("\r\n", "\n").replace("\r\x1b[K", "\n").splitlines()
               if line.startswith("{")]
    assert records and all({"ts", "level", "logger", "event"} <= set(r) for r in records)
    assert any(r["event"] == "run_finished" and isinstance(r["elapsed_s"], float) for r in records)
    assert "wiredesk run finished" in out and "\x1b" not in out


# ---------------------------------------------------------------- config errors, all at once

FEED_ERRORS = {
    "missing_url": ("- url: https://a.example/rss\n- name: No URL here\n", ["line 2", "'url' is missing"]),
    "bad_scheme": ("- url: https://a.example/rss\n- url: ftp://b.example/rss\n",
                   ["line 2", "ftp://b.example/rss", "must be an absolute http:// or https:// URL"]),
    "unknown_key": ("- url: https://a.example/rss\n  name: A\n- url: https://b.example/rss\n  pol_interval: 5m\n",
                    ["line 3", "unknown key(s) 'pol_interval'", "allowed:"]),
    "bad_interval": ("- url: https://a.example/rss\n  poll_interval: soon\n", ["line 1", "poll_interval",
                                                                                 "expected a duration"]),
    "negative_interval": ("- url: https://a.example/rss\n  poll_interval: -5m\n", ["line 1", "poll_interval"]),
    "duplicate": ("- url: https://a.example/rss\n- url: https://b.example/rss\n- url: https://a.example/rss\n",
                  ["line 3", "duplicate feed 'https://a.example/rss'", "first listed at line 1"]),
    "not_yaml": ("- url: https://a.example/rss\n- url: [unclosed\n", ["line 3", "not valid YAML"]),
    "not_a_list": ("url: https://a.example/rss\n", ["expected a list of feeds"]),
}


# Run as real `wiredesk` processes (in parallel); the rest call main() in this process, which is the
# same code path without paying for a Python + Beam start each (this suite must stay quick).
SUBPROCESS_CASES = ("missing_url", "bad_scheme", "unknown_key", "bad_interval", "duplicate", "feeds_missing",
                    "warehouse_directory", "warehouse_url", "duration_without_streaming", "report_no_warehouse",
                    "registry_not_yaml")
REGISTRY_ERRORS = {
    "registry_not_yaml": "- name: AP\n  aliases: [Associated Press\n- name: PTI\n",
    "registry_unknown_key": "- name: AP\n  alias: [Associated Press]\n",
    "registry_absent": None,
}


def config_error_cases(tmp: Path) -> dict:
    wh = str(tmp / "w.duckdb")
    (tmp / "a-directory").mkdir()
    good = tmp / "good.yaml"
    good.write_text("- url: https://a.example/rss\n", encoding="utf-8")
    cases = {}
    for name, (text, _) in FEED_ERRORS.items():
        path = tmp / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        cases[name] = ["run", "--feeds", str(path), "--warehouse", wh]
    cases.update({
        "feeds_missing": ["run", "--warehouse", wh],
        "feeds_file_absent": ["run", "--feeds", str(tmp / "nope.yaml"), "--warehouse", wh],
        "warehouse_directory": ["run", "--feeds", str(good), "--warehouse", str(tmp / "a-directory")],
        "warehouse_parent_absent": ["run", "--feeds", str(good), "--warehouse", str(tmp / "no" / "w.duckdb")],
        "warehouse_url": ["run", "--feeds", str(good), "--warehouse", "s3://bucket/w.duckdb"],
        "warehouse_empty": ["run", "--feeds", str(good), "--warehouse", ""],
        "duration_without_streaming": ["run", "--feeds", str(good), "--warehouse", wh, "--duration", "5m"],
        "bad_progress_interval": ["run", "--feeds", str(good), "--warehouse", wh, "--progress-interval", "0"],
        "bad_log_level": ["run", "--feeds", str(good), "--warehouse", wh, "--log-level", "LOUD"],
        "report_no_warehouse": ["report", "--warehouse", str(tmp / "absent.duckdb"), "--out", str(tmp / "r.html")],
    })
    # A malformed --agency-registry is a config mistake like a malformed feeds file: one line, exit 2.
    for name, text in REGISTRY_ERRORS.items():
        path = tmp / f"{name}.yaml"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        cases[name] = ["run", "--feeds", str(good), "--warehouse", wh, "--agency-registry", str(path)]
    return cases


def _in_process(args: list) -> tuple:
    """main(args) with stdout/stderr captured and the global logging set-up restored afterwards."""
    import contextlib

    from pipeline import cli

    root = logging.getLogger()
    saved = (list(root.handlers), root.level,
             {n: logging.getLogger(n).level for n in logging_setup.LIBRARY_LOGGERS})
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main(args)
            except SystemExit as exc:  # argparse errors
                rc = exc.code
            except BaseException:  # noqa: BLE001 - what a user would see as a traceback
                import traceback

                traceback.print_exc(file=err)
                rc = 1
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
        progress.configure("off")
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def config_errors(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("config-errors")
    cases = config_error_cases(tmp)
    procs = {name: subprocess.Popen([*CMD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    cwd=tmp) for name, args in cases.items() if name in SUBPROCESS_CASES}
    results = {name: _in_process(args) for name, args in cases.items() if name not in SUBPROCESS_CASES}
    results.update({name: (p.wait(timeout=120), *p.communicate()) for name, p in procs.items()})
    return tmp, results


EXPECTED_MESSAGES = {
    "feeds_missing": ["--feeds is required"],
    "feeds_file_absent": ["nope.yaml", "cannot read feeds file"],
    "warehouse_directory": ["a-directory", "is a directory"],
    "warehouse_parent_absent": ["does not exist"],
    "warehouse_url": ["s3://bucket/w.duckdb", "expected a DuckDB file path"],
    "warehouse_empty": ["--warehouse", "empty"],
    "duration_without_streaming": ["--duration", "--streaming"],
    "bad_progress_interval": ["--progress-interval", "positive number of seconds"],
    "bad_log_level": ["--log-level", "invalid choice"],
    "report_no_warehouse": ["absent.duckdb", "no such warehouse file"],
    "registry_not_yaml": ["registry_not_yaml.yaml", "line 3, column 7: not valid YAML"],
    "registry_unknown_key": ["registry_unknown_key.yaml", "agency registry entry #0", "unknown keys ['alias']"],
    "registry_absent": ["registry_absent.yaml", "cannot be read", "No such file"],
}


@pytest.mark.parametrize("case", [*FEED_ERRORS, *EXPECTED_MESSAGES])
def test_config_error_is_one_clear_message(config_errors, case):
    tmp, results = config_errors
    rc, out, err = results[case]
    assert rc == 2, (case, rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    if case in FEED_ERRORS:
        expected = [f"{tmp / (case + '.yaml')}: ", *FEED_ERRORS[case][1]]
    else:
        expected = EXPECTED_MESSAGES[case]
    message = [line for line in err.splitlines() if "error:" in line]
    assert len(message) == 1, err
    for fragment in expected:
        assert fragment in message[0], (fragment, err)
    assert err.splitlines()[-1] == message[0], err  # the message last; before it at most argparse's usage
    assert not [line for line in err.splitlines() if TEXT_LINE.match(line)], err  # no log records either


def test_a_failed_run_is_put_down_to_the_warehouse_by_the_exception_type_not_its_text():
    import duckdb

    from pipeline.cli import _describe_failure
    from schemas.errors import WarehouseError

    def raised(outer, inner=None):
        try:
            try:
                raise inner or outer
            except BaseException as err:
                if inner is not None:
                    raise outer from err
                raise
        except BaseException as err:  # noqa: BLE001
            return err

    disk = raised(RuntimeError("bundle failed"), duckdb.IOException("could not write file: File too large"))
    assert _describe_failure(disk)[0]
    assert _describe_failure(raised(WarehouseError("w.duckdb: locked")))[0]
    # A worker that could not keep the type: Beam still names the step that failed.
    step = raised(RuntimeError("OSError: [Errno 27] File too large [while running 'Write Warehouse/Write Rows']"))
    assert _describe_failure(step)[0]
    # Another step failing, whatever its message mentions, is not the warehouse.
    other = raised(ValueError("cannot parse duckdb.org's feed [while running 'Read Feeds/Parse']"))
    warehouse, message = _describe_failure(other)
    assert not warehouse and message.startswith("the run failed: builtins.ValueError: cannot parse duckdb.org")
    assert "[while running" not in message


def test_a_config_error_wrapped_on_its_way_out_of_a_worker_is_still_one_line_and_exit_2(monkeypatch):
    from pipeline import cli
    from schemas.errors import RegistryError

    def fail(args, beam_args):
        try:
            raise RegistryError("agency registry entry #2 (X) is missing ['name'] [while running 'Tag Articles']")
        except RegistryError as err:
            raise RuntimeError("a bundle failed") from err

    monkeypatch.setattr(cli, "cmd_report", fail)
    rc, _, err = _in_process(["report"])
    assert rc == 2 and err.strip() == "wiredesk: error: agency registry entry #2 (X) is missing ['name']", err


def test_summary_counts_outlets_in_the_singular_and_the_plural():
    from pipeline.summary import format_summary

    facts = {"articles": 4, "stories": 2, "multi_outlet_stories": 1, "dead_letters": [], "agencies": [("AP", 4)],
             "widest": [("Wide story", 3, "AP"), ("Lone story", 1, None)]}
    lines = format_summary({}, facts, 1.0).splitlines()
    assert "  3 outlets  [AP]  Wide story" in lines and "  1 outlet  [staff]  Lone story" in lines


def test_run_options_reach_the_pipeline_options_unchanged():
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.cli import make_parser
    from pipeline.options import OPTIONS, WiredeskOptions, to_argv

    argv = ["run", "--feeds", "a.yaml", "--feeds", "https://b.example/rss", "--warehouse", "w.duckdb", "--proxy",
            "http://127.0.0.1:1", "--allow-private-networks", "--agency-registry", "r.yaml", "--ignore-robots",
            "--min-host-gap", "0.5", "--source", "pubsub", "--subscription", "projects/p/subscriptions/s",
            "--poll-interval", "90s", "--duration", "5m", "--max-polls", "3"]
    args, _ = make_parser().parse_known_args(argv)
    parsed = PipelineOptions(to_argv(args)).view_as(WiredeskOptions)
    assert {dest: getattr(parsed, dest) for dest in OPTIONS} == {dest: getattr(args, dest) for dest in OPTIONS}
    assert set(OPTIONS) <= set(vars(args))  # every option is on `run`


# ---------------------------------------------------------------- help

def _run_subparser():
    from pipeline.cli import make_parser

    sub = next(a for a in make_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices


@pytest.mark.parametrize("command", ["run", "demo", "report", "query", "poll"])
def test_help_documents_every_option_with_its_default(command):
    if command == "run":
        proc = wiredesk(command, "--help")
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout
    else:
        import contextlib

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), pytest.raises(SystemExit):
            _run_subparser()[command].parse_args(["--help"])
        text = buf.getvalue()
    blocks, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (-[-\w]+)", line)
        if m:
            current = m.group(1)
            blocks[current] = line
        elif current and line.startswith("      "):
            blocks[current] += " " + line.strip()
        else:
            current = None
    for action in _run_subparser()[command]._actions:
        if not action.option_strings or action.dest == "help":
            continue
        block = blocks.get(action.option_strings[0])
        assert block, f"{command} --help does not list {action.option_strings[0]}"
        text = " ".join(block.split())
        assert "default" in text or "(required)" in text, f"{command} --help: no default for {text!r}"
        assert text.count("(default") <= 1, f"default stated twice: {text!r}"
        if isinstance(action.default, str) and action.default:
            assert action.default in text, text
    if command == "run":
        for flag in ("--feeds", "--warehouse", "--progress", "--log-level", "--log-format"):
            assert flag in blocks


# ---------------------------------------------------------------- units: logging and the progress tally

def _record(name, level, msg, pathname="x.py"):
    return logging.LogRecord(name, level, pathname, 1, msg, None, None)


def test_library_filter_drops_beam_noise_but_keeps_its_real_warnings():
    beam_file = "/venv/lib/python3.11/site-packages/apache_beam/transforms/core.py"
    noise = _record("root", logging.WARNING, "Tags {'dead_letters'} requested in with_outputs() but not declared "
                    "in type hints. Declared tags: {'poison'}", beam_file)
    real = _record("apache_beam.options.pipeline_options", logging.WARNING, "Discarding unparseable args: ['--x']",
                   "/venv/lib/python3.11/site-packages/apache_beam/options/pipeline_options.py")
    chatter = _record("apache_beam.runners.worker.statecache", logging.INFO, "Creating state cache with size 1")
    own = _record("transforms.fetch.client", logging.INFO, "robots.txt unreadable")
    info = logging_setup.LibraryFilter(logging.INFO)
    assert not info.filter(noise) and not info.filter(chatter)
    assert info.filter(real) and info.filter(own)
    debug = logging_setup.LibraryFilter(logging.DEBUG)
    assert debug.filter(noise) and debug.filter(chatter)
    assert not logging_setup.LibraryFilter(logging.WARNING).filter(own)


def test_formats_are_one_line_per_event():
    rec = _record("transforms.x", logging.ERROR, "first line\nsecond line")
    text = logging_setup.TextFormatter().format(rec)
    assert "\n" not in text and TEXT_LINE.match(text) and text.endswith("first line\\nsecond line")
    stream = io.StringIO()
    log = logging.getLogger("wiredesk.test_formats")
    log.propagate, handler = False, logging.StreamHandler(stream)
    handler.setFormatter(logging_setup.JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        logging_setup.event(log, logging.INFO, "feed_failed", url="https://a.example/rss?x=1 y", status=503,
                            retry=True)
    finally:
        log.removeHandler(handler)
    rec = json.loads(stream.getvalue())
    assert rec["event"] == "feed_failed" and rec["status"] == 503 and rec["retry"] is True
    assert rec["url"] == "https://a.example/rss?x=1 y" and rec["level"] == "INFO"


def test_progress_tally_counts_only_while_reporting_and_maps_the_headline():
    from transforms.beam_common.metrics import counter

    progress.configure("off")
    progress.reset()  # an earlier run in this process leaves its tally behind
    counter("fetch", "pages").inc()
    assert progress.snapshot().get("fetch.pages", 0) == 0
    stream = io.StringIO()
    progress.configure("live", 0.05, stream=stream)
    try:
        with progress.reporting():
            counter("read_feeds", "feeds_polled").inc(2)
            counter("read_feeds", "entries").inc(7)
            counter("fetch", "pages").inc(5)
            counter("fetch", "dead_letters").inc()
            counter("read_feeds", "skip.already_stored").inc()
            counter("dedup", "story_copies").inc(2)
            counter("write", "articles.inserted").inc(4)
            time.sleep(0.15)
    finally:
        progress.configure("off")
    numbers = progress.headline(progress.snapshot())
    assert {k: numbers[k] for k in PROGRESS_KEYS} == {
        "feeds_polled": 2, "entries": 7, "pages_fetched": 5, "articles_written": 4, "duplicates": 3,
        "dead_letters": 1}
    final = stream.getvalue().split("\r\x1b[K")[-1]
    assert final.endswith("\n") and "feeds 2" in final and "articles written 4" in final


def test_progress_mirror_costs_less_than_the_beam_counter_it_wraps():
    import apache_beam as beam

    from transforms.beam_common.metrics import counter

    def per_call(fn, n=20000):
        return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6

    baseline = per_call(lambda: beam.metrics.Metrics.counter("wiredesk.bench", "x").inc())
    progress.configure("off", stream=io.StringIO())
    with progress.reporting():
        mirrored = per_call(lambda: counter("bench", "x").inc())
    print(f"\ncounter inc: Beam counter {baseline:.2f} us/call, wiredesk counter with progress mirror "
          f"{mirrored:.2f} us/call")
    assert mirrored < 2 * baseline + 2.0
