#!/usr/bin/env python3
"""benches/memory.py -- does the server give memory back after a load, by allocator.

For each `--bin NAME=PATH[:ENV=VALUE;...]` (a `live-ingest` built with an allocator feature,
or glibc's with tuning variables in its environment), one server runs `--rounds` rounds of
the same load: `rtmp_load` publishing P streams of a 600 kbit/s 640x360 file in real time
and `view_load` with V LL-HLS viewers (blocking playlist reloads and parts) on them, for S
seconds; then everyone leaves and the streams are forgotten after the grace period. The
server's resident memory (VmRSS) is sampled every 0.5 s: at the start, its peak under load,
and after each round once the streams are gone; its CPU time over the whole run is taken
from /proc. A second round shows whether freed memory is reused (a peak no higher) and the
"after" figures whether it is returned.

    cargo build --release -p live-ingest --bin live-ingest [--features mimalloc|jemalloc] \\
        -p examples --example rtmp_load --example view_load
    python3 benches/memory.py --bin glibc=target/release/live-ingest \\
        --bin mimalloc=/tmp/alloc/mimalloc --publishers 200 --viewers 2000

Prints a table and writes the figures as JSON (--json). Loopback only; every process it
starts is stopped.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import soak  # noqa: E402 - the soak's input file and /proc helpers

MB = 1024 * 1024


def log(*parts):
    print(time.strftime("%H:%M:%S"), "[memory]", *parts, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_bin(text):
    """NAME=PATH[:ENV=VALUE;...] -> (name, path, env)."""
    name, _, rest = text.partition("=")
    path, _, env_text = rest.partition(":")
    env = dict(item.split("=", 1) for item in env_text.split(";") if item)
    if not name or not path:
        raise SystemExit(f"--bin: expected NAME=PATH[:ENV=VALUE;...], got {text!r}")
    return name, path, env


def sample_until(pid, procs, peak):
    """Samples the server's RSS every 0.5 s until every process of `procs` ended."""
    while any(p.poll() is None for p in procs):
        peak = max(peak, soak.proc_stat(pid)[1])
        time.sleep(0.5)
    return peak


def one_round(args, rtmp, http, pid, work):
    load = subprocess.Popen(
        [os.path.join(args.tools, "rtmp_load"), "--streams", str(args.publishers),
         "--url", f"rtmp://127.0.0.1:{rtmp}/live", "--file", args.file,
         "--duration", str(args.seconds), "--report", "1000"],
        stdout=open(os.path.join(work, "rtmp_load.log"), "w"), stderr=subprocess.STDOUT)
    time.sleep(min(6, args.seconds / 3))
    view = subprocess.Popen(
        [os.path.join(args.tools, "view_load"), "--http", f"127.0.0.1:{http}",
         "--streams", str(args.publishers), "--viewers", str(args.viewers),
         "--duration", str(max(1, args.seconds - 8)), "--report", "1000"],
        stdout=open(os.path.join(work, "view_load.log"), "w"), stderr=subprocess.STDOUT)
    peak = sample_until(pid, [load, view], 0)
    # The streams end with their publishers and are forgotten after the grace
    # period; then the live windows, the waiters and the buffers are freed.
    deadline = time.time() + args.grace + args.settle
    while time.time() < deadline:
        peak = max(peak, soak.proc_stat(pid)[1])
        time.sleep(0.5)
    after = soak.proc_stat(pid)[1]
    return peak, after


def measure(args, name, path, env):
    rtmp, http = free_port(), free_port()
    work = os.path.join(args.out, name)
    os.makedirs(work, exist_ok=True)
    server = subprocess.Popen(
        [path, "--rtmp", f"127.0.0.1:{rtmp}", "--http", f"127.0.0.1:{http}",
         "--grace", str(args.grace), "--max-streams", str(args.publishers * 2 + 100)],
        env={**os.environ, **env, "RUST_LOG": "warn"},
        stdout=open(os.path.join(work, "live-ingest.log"), "w"), stderr=subprocess.STDOUT)
    try:
        soak.wait_port(rtmp)
        soak.wait_port(http)
        time.sleep(2)
        cpu0, start, _ = soak.proc_stat(server.pid)
        rounds = []
        for n in range(args.rounds):
            peak, after = one_round(args, rtmp, http, server.pid, work)
            log(f"{name}: round {n + 1}: peak {peak / MB:.1f} MB, after {after / MB:.1f} MB")
            rounds.append({"peak": peak, "after": after})
        cpu = soak.proc_stat(server.pid)[0] - cpu0
    finally:
        soak.stop(server, signal.SIGINT)
    return {"name": name, "env": env, "start": start, "rounds": rounds, "cpu_s": round(cpu, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", action="append", required=True, metavar="NAME=PATH[:ENV=V;...]")
    ap.add_argument("--tools", default=os.path.join(ROOT, "target", "release", "examples"),
                    help="where rtmp_load and view_load are")
    ap.add_argument("--file", help="what each publisher sends (default: the soak's input)")
    ap.add_argument("--publishers", type=int, default=200)
    ap.add_argument("--viewers", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--grace", type=float, default=5)
    ap.add_argument("--settle", type=float, default=15,
                    help="seconds after the grace period before the 'after' sample")
    ap.add_argument("--out", default="/tmp/memory-bench")
    ap.add_argument("--json", default=os.path.join(HERE, "data", "memory.json"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    args.file = args.file or soak.make_input(args.out)
    results = [measure(args, *parse_bin(b)) for b in args.bin]
    print(f"{args.publishers} publishers at 600 kbit/s, {args.viewers} LL-HLS viewers, "
          f"{args.seconds:.0f} s a round, {args.rounds} rounds")
    print("| allocator | start | peak (per round) | after the streams left (per round) "
          "| after - start | server CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        peaks = ", ".join(f"{x['peak'] / MB:.0f}" for x in r["rounds"])
        afters = ", ".join(f"{x['after'] / MB:.1f}" for x in r["rounds"])
        kept = (r["rounds"][-1]["after"] - r["start"]) / MB
        env = " ".join(f"{k}={v}" for k, v in r["env"].items())
        name = f"{r['name']} ({env})" if env else r["name"]
        print(f"| {name} | {r['start'] / MB:.1f} MB | {peaks} MB | {afters} MB "
              f"| {kept:+.1f} MB | {r['cpu_s']} s |")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"args": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
