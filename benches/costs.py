#!/usr/bin/env python3
"""Where a vote's and a frame's CPU goes, part by part, on a running local cluster
(docs/scale.md). Two fan-out loads through nginx, one nearly all votes and one nearly all
frames; each part's CPU (from /proc) is split into a cost per vote and a cost per frame by
solving the two runs together. Prints what it measured on stderr, then one JSON line.

    python3 benches/costs.py CLUSTER_DIR LOADGEN URL [--quick]

CLUSTER_DIR is a cluster.sh folder (its settings file, run/*.pid); LOADGEN the loadgen
binary; URL the cluster's nginx. --quick: small, short loads (a check that it works).
"""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def settings(folder):
    values = {}
    for line in (folder / "settings").read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value
    return values


def pid_of(folder, part):
    return int((folder / "run" / f"{part}.pid").read_text())


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def parts(folder):
    """Each part's PIDs: nginx's workers with its master, every database and Redis server."""
    run = folder / "run"
    named = lambda prefix: [int(p.read_text()) for p in sorted(run.glob(prefix + "*.pid"))]
    nginx = pid_of(folder, "nginx")
    return {
        "nodes": named("node-"),
        "nginx": [nginx] + children(nginx),
        "databases": named("mariadb-") + named("postgres-"),
        "redis": named("redis"),
    }


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_by_part(groups):
    return {part: sum(cpu_seconds(p) for p in pids) for part, pids in groups.items()}


def node_counts(admin_ports):
    """Votes handled and frames sent, over every node."""
    votes = frames = 0.0
    for port in admin_ports:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            if name.startswith("votewire_votes_total{"):
                votes += float(value)
            elif name == "votewire_updates_sent_total":
                frames += float(value)
    return votes, frames


def measure(loadgen, url, groups, admin_ports, sockets, rate, seconds):
    votes0, frames0 = node_counts(admin_ports)
    before = cpu_by_part(groups)
    started = os.times()
    command = [loadgen, "--url", url, "fanout", "--sockets", str(sockets),
               "--rate", str(rate), "--duration", str(seconds)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"costs.py: {' '.join(command[1:])} failed:\n{done.stderr}")
    ended = os.times()
    after = cpu_by_part(groups)
    votes1, frames1 = node_counts(admin_ports)
    cpu = {part: after[part] - before[part] for part in groups}
    cpu["loadgen"] = (ended.children_user - started.children_user) + (ended.children_system - started.children_system)
    load = {"sockets": sockets, "rate": rate, "votes": votes1 - votes0, "frames": frames1 - frames0,
            "cpu_s": cpu}
    print(f"costs.py: {sockets} sockets at {rate} votes/s: {json.dumps(load)}", file=sys.stderr)
    return load


def split(votes_load, frames_load):
    """Per part, the CPU per vote and per frame (µs) that explain both loads."""
    (v1, f1), (v2, f2) = [(l["votes"], l["frames"]) for l in (votes_load, frames_load)]
    det = v1 * f2 - v2 * f1
    if det <= 0:
        sys.exit("costs.py: the two loads do not separate votes from frames")
    per_vote, per_frame = {}, {}
    for part in votes_load["cpu_s"]:
        c1, c2 = votes_load["cpu_s"][part], frames_load["cpu_s"][part]
        per_vote[part] = max(0.0, (c1 * f2 - c2 * f1) / det * 1e6)
        per_frame[part] = max(0.0, (v1 * c2 - v2 * c1) / det * 1e6)
    return per_vote, per_frame


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    if len(args) != 3:
        sys.exit(__doc__)
    folder, loadgen, url = Path(args[0]), args[1], args[2]
    values = settings(folder)
    nodes = int(values.get("NODES", "3"))
    admin_ports = [int(values["ADMIN_PORT"]) + i for i in range(nodes)]
    groups = parts(folder)
    if quick:
        votes_load = measure(loadgen, url, groups, admin_ports, 5, 100, 2)
        frames_load = measure(loadgen, url, groups, admin_ports, 300, 20, 2)
    else:
        votes_load = measure(loadgen, url, groups, admin_ports, 10, 1000, 10)
        frames_load = measure(loadgen, url, groups, admin_ports, 5000, 100, 10)
    per_vote, per_frame = split(votes_load, frames_load)
    print(json.dumps({"scenario": "costs", "per_vote_us": per_vote, "per_frame_us": per_frame,
                      "votes_load": votes_load, "frames_load": frames_load}))


if __name__ == "__main__":
    main()
