#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the runs of benches/bench.sh.

    report.py [--check] RESULTS.jsonl CRITERION-DIR NODE-ARGS RUNS PLOTS-DIR > BENCHMARKS.md

RESULTS.jsonl has one line per loadgen run: {"name", "run", "command", "result" (loadgen's
JSON line), "plot"}. Every figure in the report is the median over the runs of its
scenario; the plot shown is the one of the median run. The plots are copied into
PLOTS-DIR, which the report links to relatively (benches/results/).

--check (CI's quick run): exit 1 when a correctness figure of any run misses its target
(errors, sockets off the final tally, the recount, votes never visible). Speed figures
are never checked: a benchmark is not a timed test.
"""

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path


def get(result, path):
    """A value of a loadgen result by dotted path: "vote_to_render.p99_ms"."""
    value = result
    for key in path.split("."):
        value = value[key]
    return value


FANOUT_POINTS = ["1000x2000", "5000x10", "5000x1000"]
QUIET = "quiet-5000"


def fanout_targets():
    """Every fan-out scenario: its latency measured, nothing lost, nothing refused."""
    return [
        ("vote-to-render p99", "vote_to_render.p99_ms", None, None, "ms"),
        ("acknowledged votes/s", "achieved_rate", None, None, ""),
        ("sockets not on the final tally", "sockets_not_on_final_tally", "==", 0, ""),
        ("vote errors", "vote_errors", "==", 0, ""),
    ]


def write_targets():
    return [
        ("acknowledged votes/s", "votes_per_s", None, None, ""),
        ("HTTP p99", "http_vote.p99_ms", None, None, "ms"),
        ("recount equal", "recount_equal", "==", True, ""),
    ]


# What each scenario must reach: (label, path, comparison, bound, unit). Latencies are
# set against each other in RATIOS, not against absolute times, which do not hold from
# one machine, or one day, to the next.
TARGETS = {}
for _point in FANOUT_POINTS:
    for _prefix in ("reference-fanout-", "solo-fanout-", "fanout-"):
        TARGETS[_prefix + _point] = fanout_targets()
TARGETS["solo-" + QUIET] = fanout_targets()
TARGETS[QUIET] = fanout_targets()
TARGETS.update({
    "write-64": write_targets(),
    "socketio-write-64": write_targets(),
    "idle-20000": [
        ("connect + subscribe 20,000 (two loadgen processes)", "connect_and_subscribe_s", None, None, "s"),
        ("RSS per socket on the nodes", "rss_per_socket_kb", "<=", 3, "KB"),
        ("sockets failed", "sockets_failed", "==", 0, ""),
    ],
    "costs": [
        (f"CPU per vote, {part}", f"per_vote_us.{part}", None, None, "µs")
        for part in ("nodes", "nginx", "databases", "redis", "loadgen")
    ] + [
        (f"CPU per frame, {part}", f"per_frame_us.{part}", None, None, "µs")
        for part in ("nodes", "nginx", "loadgen")
    ],
    "spread-12": [
        ("subscriptions and messages as the scale model predicts", "predictions_hold", "==", True, ""),
        ("Redis subscriptions, predicted", "subscriptions_predicted", None, None, ""),
        ("Redis subscriptions, measured", "subscriptions_measured", None, None, ""),
        ("Redis messages per vote, predicted", "messages_per_vote_predicted", None, None, ""),
        ("Redis messages per vote, measured", "messages_per_vote_measured", None, None, ""),
    ],
    "replication-64": [
        ("time to visible on replicas p50", "time_to_visible.p50_ms", None, None, "ms"),
        ("time to visible on replicas p99", "time_to_visible.p99_ms", None, None, "ms"),
        ("never visible", "never_visible", "==", 0, ""),
        ("acknowledged votes/s under it", "votes_per_s", None, None, ""),
    ],
    "ingest-direct-64": [
        ("acknowledged (committed) votes/s", "acknowledged_per_s", None, None, ""),
        ("HTTP p99", "http_vote.p99_ms", None, None, "ms"),
        ("acknowledgement to socket p99", "ack_to_socket.p99_ms", None, None, "ms"),
        ("recount equal", "recount_equal", "==", True, ""),
    ],
    "ingest-stream-64": [
        ("accepted votes/s (202)", "acknowledged_per_s", None, None, ""),
        ("202 p99", "http_vote.p99_ms", None, None, "ms"),
        ("committed votes/s", "committed_per_s", None, None, ""),
        ("acceptance to socket p99", "ack_to_socket.p99_ms", None, None, "ms"),
        ("recount equal", "recount_equal", "==", True, ""),
    ],
    "ingest-stream-db-down-64": [
        ("accepted votes/s (202)", "acknowledged_per_s", None, None, ""),
        ("vote errors", "vote_errors", "==", 0, ""),
        ("drained after the load, ms", "drain_ms", None, None, ""),
        ("recount equal", "recount_equal", "==", True, ""),
    ],
})


def targets_of(name):
    """A scenario's targets; a quick run's small fan-out points have those of the full
    run's."""
    if name in TARGETS:
        return TARGETS[name]
    if "fanout-" in name or "quiet-" in name:
        return fanout_targets()
    return []


def _point_title(point):
    sockets, rate = point.split("x")
    return f"{int(sockets):,} sockets, {int(rate):,} votes/s for 15 s"


TITLES = {
    "write-64": "Cluster writes: 64 closed-loop voters, no sockets",
    "socketio-write-64": "Socket.IO reference stack writes: 64 closed-loop voters, no sockets",
    "idle-20000": "Cluster idle sockets: 20,000 through nginx (four workers), from two loadgen processes",
    "costs": "Where the CPU goes: per vote and per frame, each part of the cluster (docs/scale.md)",
    "spread-12": "Scale check: 12 nodes, each poll watched by 3 sockets on nodes drawn at random, votes one at a time (docs/scale.md)",
    "replication-64": "Replication: time until an acknowledged vote is visible on each replica",
    "ingest-direct-64": "Ingest, direct: 64 closed-loop voters and one socket, the nodes commit",
    "ingest-stream-64": "Ingest, stream: the same with --ingest stream, two workers commit",
    "ingest-stream-db-down-64": "Ingest, stream, the primary stopped 20 s into a 40 s run",
    QUIET: "Cluster through nginx, a quiet poll: 5,000 sockets, a vote every half second",
    "solo-" + QUIET: "One node, a quiet poll: 5,000 sockets, a vote every half second",
}
for _point in FANOUT_POINTS:
    TITLES["reference-fanout-" + _point] = f"Reference server (in memory, 50 ms tick), direct: {_point_title(_point)}"
    TITLES["solo-fanout-" + _point] = f"One node, SQLite, direct: {_point_title(_point)}"
    TITLES["fanout-" + _point] = f"Cluster through nginx: {_point_title(_point)}"

# Figures set against each other, each the median of its runs:
# (label, (scenario, figure), (scenario, figure), comparison, bound).
RATIOS = []
for _point in FANOUT_POINTS:
    RATIOS += [
        (f"{_point}: one node / reference, p99",
         ("solo-fanout-" + _point, "vote_to_render.p99_ms"), ("reference-fanout-" + _point, "vote_to_render.p99_ms"), "<=", 1.25),
        (f"{_point}: one node / reference, acknowledged votes/s",
         ("solo-fanout-" + _point, "achieved_rate"), ("reference-fanout-" + _point, "achieved_rate"), ">=", 0.98),
        (f"{_point}: cluster acknowledged / offered votes/s",
         ("fanout-" + _point, "achieved_rate"), ("fanout-" + _point, "rate"), ">=", 0.98),
        (f"{_point}: cluster / one node, p99",
         ("fanout-" + _point, "vote_to_render.p99_ms"), ("solo-fanout-" + _point, "vote_to_render.p99_ms"), "<=", 2),
    ]
RATIOS += [
    ("5000x10 / a quiet poll (one frame to every socket), p99, one node",
     ("solo-fanout-5000x10", "vote_to_render.p99_ms"), ("solo-" + QUIET, "vote_to_render.p99_ms"), "<=", 1.5),
    ("5000x10 / a quiet poll (one frame to every socket), p99, cluster",
     ("fanout-5000x10", "vote_to_render.p99_ms"), (QUIET, "vote_to_render.p99_ms"), "<=", 1.5),
    ("durable writes: votewire cluster / Socket.IO stack, votes/s",
     ("write-64", "votes_per_s"), ("socketio-write-64", "votes_per_s"), ">=", 20),
    ("stream accepts / direct commits, votes/s",
     ("ingest-stream-64", "acknowledged_per_s"), ("ingest-direct-64", "acknowledged_per_s"), ">=", 3),
]


def met(value, op, bound):
    if op is None:
        return ""
    ok = {"<=": value <= bound, ">=": value >= bound, "==": value == bound}[op]
    return "yes" if ok else "**no**"


def fmt(value, unit=""):
    if isinstance(value, list):
        return " ".join(fmt(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"
    else:
        text = f"{value:,}"
    return f"{text} {unit}".strip()


def median(values):
    if all(isinstance(v, bool) for v in values):
        return all(values)
    return statistics.median(values)


def target_text(op, bound, unit):
    return "measured" if op is None else f"{op} {fmt(bound, unit)}".replace("== ", "")


def median_run(runs, path):
    """The run whose figure is the median (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: get(r["result"], path))
    return ordered[(len(ordered) - 1) // 2]


def criterion_rows(folder):
    def natural(path):
        # room_flush/100 before room_flush/1000, vote_batch/64 before vote_batch/256.
        return [int(part) if part.isdigit() else part for part in path.parent.parent.parts]

    rows = []
    for bench in sorted(Path(folder).glob("**/new/benchmark.json"), key=natural):
        meta = json.loads(bench.read_text())
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        ns = estimates["median"]["point_estimate"]
        per = ""
        throughput = meta.get("throughput") or {}
        elements = throughput.get("Elements")
        if elements:
            per = f"{ns / elements:,.0f} ns per element ({elements * 1e9 / ns:,.0f} per second)"
        rows.append((meta["full_id"], ns, per))
    return rows


def duration(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:,.1f} µs"
    return f"{ns:,.0f} ns"


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, commit {commit or 'unknown'}"


def correctness_failures(runs):
    """Every run whose correctness figure (an "==" target) misses it."""
    failures = []
    for run in runs:
        for label, path, op, bound, _ in targets_of(run["name"]):
            if op == "==" and get(run["result"], path) != bound:
                failures.append(f"{run['name']} run {run['run']}: {label} is {get(run['result'], path)}")
    return failures


def main():
    args = sys.argv[1:]
    check = args[:1] == ["--check"]
    if check:
        args = args[1:]
    results_path, criterion_dir, node_args, runs_wanted, plots_dir = args
    runs = [json.loads(line) for line in Path(results_path).read_text().splitlines() if line.strip()]
    if check:
        failures = correctness_failures(runs)
        for failure in failures:
            print(f"report.py: {failure}", file=sys.stderr)
        if failures:
            sys.exit(1)
    by_name = {}
    for run in runs:
        by_name.setdefault(run["name"], []).append(run)
    os.makedirs(plots_dir, exist_ok=True)

    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w(f"Written by `./build.sh bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {machine()}. "
      f"Every figure is the median of {runs_wanted} run{'' if runs_wanted == '1' else 's'}. Everything runs on this one machine: "
      "loadgen, nginx, the three nodes, Redis and the three MariaDB servers share its cores, "
      "so the figures are what the whole system does on it, load generator included.")
    w("")
    w(f"Every node runs with the shipped defaults and `{node_args}` only: loadgen is one "
      "address playing thousands of voters. The coalescing tick follows how long each "
      "room's updates take to reach its clients (`votewire_fanout_tick_seconds`); nothing "
      "is set for this machine. Latencies are set against each other (the ratios below), "
      "since absolute times do not hold from one machine, or one day, to the next.")
    w("")
    w("## Against the targets")
    w("")
    w("| Scenario | Figure | Target | Median | Runs | Met |")
    w("| --- | --- | --- | --- | --- | --- |")
    for name, targets in TARGETS.items():
        scenario_runs = by_name.get(name, [])
        if not scenario_runs:
            continue
        for label, path, op, bound, unit in targets:
            values = [get(r["result"], path) for r in scenario_runs]
            value = median(values)
            all_runs = ", ".join(fmt(v) for v in values)
            w(f"| {name} | {label} | {target_text(op, bound, unit)} | {fmt(value, unit)} | {all_runs} | {met(value, op, bound)} |")
    w("")
    w("## Ratios")
    w("")
    w("| Figure | Target | Median ratio | Numerator | Denominator | Met |")
    w("| --- | --- | --- | --- | --- | --- |")
    for label, (top_name, top_path), (bottom_name, bottom_path), op, bound in RATIOS:
        tops = [get(r["result"], top_path) for r in by_name.get(top_name, [])]
        bottoms = [get(r["result"], bottom_path) for r in by_name.get(bottom_name, [])]
        if tops and bottoms and median(bottoms):
            top, bottom = median(tops), median(bottoms)
            ratio = top / bottom
            w(f"| {label} | {op} {bound}× | {ratio:.2f}× | {fmt(top)} | {fmt(bottom)} | {met(ratio, op, bound)} |")
    w("")

    for name, scenario_runs in by_name.items():
        w(f"## {TITLES.get(name, name)}")
        w("")
        w("```sh")
        w(scenario_runs[0]["command"])
        w("```")
        w("")
        result_keys = [k for k in scenario_runs[0]["result"] if k != "scenario"]
        w("| Run | " + " | ".join(result_keys) + " |")
        w("| --- " * (len(result_keys) + 1) + "|")
        for run in scenario_runs:
            cells = []
            for key in result_keys:
                value = run["result"].get(key)
                if isinstance(value, dict) and "p99_ms" in value:
                    cells.append(f"p50 {value['p50_ms']:.1f} / p99 {value['p99_ms']:.1f} / max {value['max_ms']:.1f} ms")
                elif isinstance(value, dict):
                    cells.append(", ".join(f"{k} {fmt(v)}" for k, v in value.items() if not isinstance(v, dict)))
                else:
                    cells.append(fmt(value) if value is not None else "")
            w(f"| {run['run']} | " + " | ".join(cells) + " |")
        w("")
        main_path = (targets_of(name) or [(None, "scenario")])[0][1]
        chosen = median_run(scenario_runs, main_path) if main_path != "scenario" else scenario_runs[0]
        if chosen.get("plot") and Path(chosen["plot"]).exists():
            target = Path(plots_dir) / f"{name}.svg"
            shutil.copyfile(chosen["plot"], target)
            w(f"![{TITLES.get(name, name)} (run {chosen['run']}, the median)](benches/results/{name}.svg)")
            w("")

    rows = criterion_rows(criterion_dir)
    if rows:
        w("## Micro-benchmarks (criterion)")
        w("")
        w("```sh")
        w("cargo bench -p votewire-benches --bench fanout --bench store")
        w("```")
        w("")
        w("| Benchmark | Median | Per element |")
        w("| --- | --- | --- |")
        for full_id, ns, per in rows:
            w(f"| {full_id} | {duration(ns)} | {per} |")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
