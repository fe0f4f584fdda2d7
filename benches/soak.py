#!/usr/bin/env python3
"""benches/soak.py -- hours of mixed load on one live-ingest, publishers coming and going.

One `live-ingest` (LL-HLS packaging, the defaults) takes --publishers real-time RTMP
publishers (`rtmp_load`, in --groups processes: group K publishes keys gK_0, gK_1, ...) and
--viewers viewers (`view_load`, one process per group, LL-HLS : HTTP-FLV : RTMP play in the
--mix ratio, each viewer checking its reads come in order with no gap the publisher did not
cause). While it runs:

- a random group leaves (its process is stopped) and comes back after 1 to 5 s, on average
  every --churn seconds; 8 s after it returns, the playlist of one of its keys must go on
  from where it was (a media sequence number past the one before it left, with an
  EXT-X-DISCONTINUITY), not start again;
- every --storm seconds all groups leave and come back at once (a republish storm);
- every 5 s the server's resident memory, CPU share and open file descriptors are sampled.

At the end, with every client stopped and the grace period passed, it checks:

1. resident memory at the end of the load within --rss-tolerance (5 %) of its value at
   --settle minutes (10 for the hour; the CI run uses 2);
2. open file descriptors back to the value before any client came (+2);
3. every returning group continued its playlist;
4. no viewer saw a gap or a read out of order (view_load's counts), and publishers never
   fell behind real time (rtmp_load's).

Writes soak.json (samples, checks, client reports) and soak.svg (memory, CPU and fds over
time) to --out, prints a summary, exits 1 when a check failed.

  python3 benches/soak.py                                 # the hour: 500 publishers, 2000 viewers
  python3 benches/soak.py --minutes 5 --publishers 40 --viewers 200 --groups 8 \\
      --settle 2 --churn 20 --storm 120 --bin-dir target/debug   # what CI runs

Binaries: --bin-dir holding live-ingest and examples/{rtmp_load,view_load}; without it the
script builds them with `cargo build --release`. Input: --file, or a 640x360 30 fps
600 kbit/s H.264 + AAC file made with FFmpeg 9 (FFMPEG9, default /opt/peers/bin/ffmpeg9).
Loopback only; every process it starts is stopped.
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FFMPEG9 = os.environ.get("FFMPEG9", "/opt/peers/bin/ffmpeg9")
TICK = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 5
# Seconds after a group returns before any group leaves again: its
# continuity check looks 8 s after the return.
RETURN_QUIET = 10


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"soak: nothing listens on port {port} after {seconds} s")


def proc_stat(pid):
    """(cpu seconds, rss bytes, open fds) of process `pid`."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return cpu, rss, fds


def http_text(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except Exception as e:  # noqa: BLE001 - any failure is "no answer"
        return 0, str(e)


def last_msn(text):
    """(last media sequence number listed, has a discontinuity) of a media playlist."""
    m = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    if not m:
        return None, False
    segments = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    return int(m.group(1)) + segments - 1, "#EXT-X-DISCONTINUITY" in text


def stop(proc, sig=signal.SIGINT, wait=10):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def build(profile):
    log("building live-ingest, rtmp_load and view_load", f"({profile})")
    cmd = ["cargo", "build", "-p", "live-ingest", "--features", "cli", "--bin", "live-ingest",
           "-p", "examples", "--example", "rtmp_load", "--example", "view_load"]
    if profile == "release":
        cmd.append("--release")
    subprocess.run(cmd, cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release" if profile == "release" else "debug")


def make_input(out):
    path = os.path.join(out, "soak_360p30.flv")
    if os.path.exists(path):
        return path
    log("encoding the input with FFmpeg 9:", path)
    subprocess.run([FFMPEG9, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=20",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20",
                    "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60",
                    "-sc_threshold", "0", "-b:v", "500k", "-maxrate", "600k", "-bufsize", "600k",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-f", "flv", path],
                   check=True)
    return path


class Group:
    """One rtmp_load process publishing keys gK_0 .. gK_(n-1), and its viewers."""

    def __init__(self, soak, k, streams):
        self.soak, self.k, self.streams = soak, k, streams
        self.prefix = f"g{k}_"
        self.publisher = None
        self.reports = []

    def start(self):
        s = self.soak
        err = open(os.path.join(s.out, f"rtmp_load_g{self.k}.log"), "a")
        self.publisher = subprocess.Popen(
            [os.path.join(s.bins, "examples", "rtmp_load"), "--streams", str(self.streams),
             "--url", f"rtmp://127.0.0.1:{s.rtmp}/live/{self.prefix}", "--file", s.file,
             "--ramp", "1", "--report", "30"],
            stdout=subprocess.PIPE, stderr=err, text=True)

    def signal(self):
        """Tells the publisher process to stop, without waiting for it."""
        if self.publisher is not None and self.publisher.poll() is None:
            self.publisher.send_signal(signal.SIGINT)

    def leave(self):
        if self.publisher is not None:
            stop(self.publisher)
            out = self.publisher.stdout.read()
            try:
                self.reports.append(json.loads(out.strip().splitlines()[-1]))
            except (ValueError, IndexError):
                self.reports.append({"unreadable": out[-500:]})
            self.publisher = None


class Soak:
    def __init__(self, args, bins):
        self.args, self.bins, self.out = args, bins, args.out
        self.file = args.file or make_input(args.out)
        self.rtmp, self.http = free_port(), free_port()
        self.samples = []
        self.continuity = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def start_server(self):
        log = open(os.path.join(self.out, "live-ingest.log"), "w")
        self.server = subprocess.Popen(
            [os.path.join(self.bins, "live-ingest"), "--rtmp", f"127.0.0.1:{self.rtmp}",
             "--http", f"127.0.0.1:{self.http}", "--grace", str(self.args.grace),
             "--max-streams", str(self.args.publishers * 2 + 100)],
            stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.rtmp)
        wait_port(self.http)

    def sampler(self):
        last = None
        start = time.time()
        while not self.stopping.is_set():
            try:
                cpu, rss, fds = proc_stat(self.server.pid)
            except (OSError, ValueError, IndexError):
                break
            now = time.time()
            share = None if last is None else (cpu - last[1]) / max(now - last[0], 1e-3)
            last = (now, cpu)
            with self.lock:
                self.samples.append({"t": round(now - start, 1), "rss": rss, "cpu": share, "fds": fds})
            self.stopping.wait(SAMPLE_S)

    def check_continues(self, group, before):
        """8 s after `group` came back, its first key's playlist goes on past `before`."""
        time.sleep(8)
        key = f"/live/{group.prefix}0/index.m3u8"
        status, text = http_text(f"http://127.0.0.1:{self.http}{key}")
        after, disc = last_msn(text) if status == 200 else (None, False)
        ok = before is not None and after is not None and after > before and disc
        with self.lock:
            self.continuity.append({"key": key, "before": before, "after": after,
                                    "discontinuity": disc, "ok": ok})

    def leave_and_return(self, groups, pause):
        befores = []
        for g in groups:
            status, text = http_text(f"http://127.0.0.1:{self.http}/live/{g.prefix}0/index.m3u8")
            befores.append(last_msn(text)[0] if status == 200 else None)
        # Every group is told to stop at once, then waited for: stopped one
        # after the other, the first to leave of a storm stayed away for as
        # long as all the stops took (16 s in one CI run, past the grace
        # period: a new playlist, not a continued one).
        for g in groups:
            g.signal()
        for g in groups:
            g.leave()
        time.sleep(pause)
        for g, before in zip(groups, befores):
            g.start()
            threading.Thread(target=self.check_continues, args=(g, before), daemon=True).start()


def svg(samples, path, settle_s):
    """Memory (MB), CPU (% of a core) and fds over time, one panel each."""
    width, height, pad = 900, 180, 50
    panels = [("resident memory, MB", lambda s: s["rss"] / 1e6),
              ("CPU, % of one core", lambda s: (s["cpu"] or 0) * 100),
              ("open file descriptors", lambda s: s["fds"])]
    t_max = max((s["t"] for s in samples), default=1) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height * len(panels)}" font-family="sans-serif" font-size="12">']
    for i, (title, value) in enumerate(panels):
        top = i * height
        values = [value(s) for s in samples]
        v_max = max(values, default=1) * 1.1 or 1
        x = lambda t: pad + (width - 2 * pad) * t / t_max  # noqa: E731
        y = lambda v: top + height - 25 - (height - 50) * v / v_max  # noqa: E731
        points = " ".join(f"{x(s['t']):.1f},{y(v):.1f}" for s, v in zip(samples, values))
        parts.append(f'<text x="{pad}" y="{top + 15}">{title} (max {max(values, default=0):.0f}),'
                     f' over {t_max / 60:.1f} min</text>')
        parts.append(f'<line x1="{pad}" y1="{y(0):.1f}" x2="{width - pad}" y2="{y(0):.1f}" stroke="#999"/>')
        parts.append(f'<line x1="{x(settle_s):.1f}" y1="{top + 20}" x2="{x(settle_s):.1f}" '
                     f'y2="{y(0):.1f}" stroke="#c00" stroke-dasharray="4"/>')
        parts.append(f'<polyline fill="none" stroke="#06c" stroke-width="1.5" points="{points}"/>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


def run(args):
    os.makedirs(args.out, exist_ok=True)
    bins = args.bin_dir or build("release")
    soak = Soak(args, bins)
    soak.start_server()
    time.sleep(1)
    baseline_fds = proc_stat(soak.server.pid)[2]
    sampler = threading.Thread(target=soak.sampler, daemon=True)
    sampler.start()
    per_group = [args.publishers // args.groups + (1 if k < args.publishers % args.groups else 0)
                 for k in range(args.groups)]
    groups = [Group(soak, k, n) for k, n in enumerate(per_group) if n > 0]
    log(f"soak: {args.publishers} publishers in {len(groups)} groups, {args.viewers} viewers,"
        f" {args.minutes} min, server on rtmp {soak.rtmp} http {soak.http}")
    for g in groups:
        g.start()
    time.sleep(6)  # three segments before viewers come
    seconds = args.minutes * 60
    viewers = []
    for g in groups:
        n = max(1, args.viewers * g.streams // args.publishers)
        err = open(os.path.join(args.out, f"view_load_g{g.k}.log"), "w")
        viewers.append(subprocess.Popen(
            [os.path.join(bins, "examples", "view_load"), "--http", f"127.0.0.1:{soak.http}",
             "--rtmp", f"127.0.0.1:{soak.rtmp}", "--streams", str(g.streams),
             "--viewers", str(n), "--prefix", g.prefix, "--mix", args.mix,
             "--duration", str(seconds - 6), "--report", "30"],
            stdout=subprocess.PIPE, stderr=err, text=True))
    rng = random.Random(args.seed)
    start = time.time()
    next_storm = start + args.storm
    next_churn = start + rng.expovariate(1 / args.churn)
    while time.time() < start + seconds - 15:
        now = time.time()
        if now >= next_storm:
            log("soak: republish storm, every group leaves and returns")
            soak.leave_and_return(groups, pause=2)
            next_storm += args.storm
            # The groups that just came back publish and are checked (8 s
            # on) before one of them may leave again.
            next_churn = max(next_churn, time.time() + RETURN_QUIET)
        elif now >= next_churn:
            g = rng.choice(groups)
            pause = rng.uniform(1, 5)
            log(f"soak: group {g.k} leaves for {pause:.1f} s")
            soak.leave_and_return([g], pause)
            next_churn = time.time() + max(rng.expovariate(1 / args.churn), RETURN_QUIET)
        else:
            time.sleep(0.5)
    time.sleep(max(0.0, start + seconds - time.time()))
    with soak.lock:
        end_rss = soak.samples[-1]["rss"] if soak.samples else 0
        settle = [s for s in soak.samples if s["t"] >= args.settle * 60]
        settle_rss = settle[0]["rss"] if settle else None
    view_reports = []
    for v in viewers:
        try:
            out, _ = v.communicate(timeout=60)
            view_reports.append(json.loads(out.strip().splitlines()[-1]))
        except (ValueError, IndexError, subprocess.TimeoutExpired):
            stop(v)
            view_reports.append({"unreadable": True})
    for g in groups:
        g.leave()
    log(f"soak: clients stopped; waiting out the grace period ({args.grace} s)")
    time.sleep(args.grace + 5)
    _, after_rss, end_fds = proc_stat(soak.server.pid)
    soak.after_rss = after_rss
    soak.stopping.set()
    sampler.join(10)
    stop(soak.server, signal.SIGTERM, 30)
    return checks(args, soak, groups, view_reports, baseline_fds, end_fds, settle_rss, end_rss)


def checks(args, soak, groups, view_reports, baseline_fds, end_fds, settle_rss, end_rss):
    def total(key):
        return sum(r.get(key, 0) for r in view_reports)
    pub_reports = [r for g in groups for r in g.reports]
    failed_pub = sum(r.get("failed", 0) for r in pub_reports)
    behind = sum(r.get("ever_behind", 0) for r in pub_reports)
    rss_change = None if not settle_rss else (end_rss - settle_rss) / settle_rss
    results = {
        "memory": rss_change is not None and abs(rss_change) <= args.rss_tolerance,
        "fds": end_fds <= baseline_fds + 2,
        "continuity": bool(soak.continuity) and all(c["ok"] for c in soak.continuity),
        "viewers": not any(r.get("unreadable") for r in view_reports)
        and total("gaps") == 0 and total("disorder") == 0 and total("reads") > 0,
        "publishers": bool(pub_reports) and failed_pub == 0 and behind == 0
        and not any(r.get("unreadable") for r in pub_reports),
    }
    figures = {
        "rss_at_settle_mb": settle_rss and round(settle_rss / 1e6, 1),
        "rss_at_end_mb": round(end_rss / 1e6, 1),
        "rss_after_grace_mb": round(soak.after_rss / 1e6, 1),
        "rss_at_start_mb": soak.samples and round(soak.samples[0]["rss"] / 1e6, 1),
        "rss_change": rss_change and round(rss_change, 4),
        "fds_baseline": baseline_fds, "fds_end": end_fds,
        "returns_checked": len(soak.continuity),
        "returns_continued": sum(c["ok"] for c in soak.continuity),
        "viewer_reads": total("reads"), "viewer_gaps": total("gaps"),
        "viewer_disorder": total("disorder"), "viewer_waits": total("waits"),
        "viewer_failures": total("failures"),
        "publisher_sessions": len(pub_reports), "publishers_failed": failed_pub,
        "publishers_behind": behind,
        "cpu_mean": round(sum(s["cpu"] or 0 for s in soak.samples) / max(len(soak.samples), 1), 3),
    }
    report = {"args": vars(args), "checks": results, "figures": figures,
              "continuity": soak.continuity, "samples": soak.samples,
              "viewers": view_reports, "publishers": pub_reports}
    with open(os.path.join(args.out, "soak.json"), "w") as f:
        json.dump(report, f, indent=1)
    svg(soak.samples, os.path.join(args.out, "soak.svg"), args.settle * 60)
    print(json.dumps({"checks": results, "figures": figures}, indent=1))
    for name, ok in results.items():
        log(f"soak: {name}: {'ok' if ok else 'FAILED'}")
    return 0 if all(results.values()) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--publishers", type=int, default=500)
    ap.add_argument("--viewers", type=int, default=2000)
    ap.add_argument("--groups", type=int, default=20, help="rtmp_load processes (20)")
    ap.add_argument("--mix", default="6,3,1", help="LL-HLS,HTTP-FLV,RTMP viewer weights (6,3,1)")
    ap.add_argument("--churn", type=float, default=60, help="mean seconds between a group leaving (60)")
    ap.add_argument("--storm", type=float, default=600, help="seconds between republish storms (600)")
    ap.add_argument("--settle", type=float, default=10, help="minute of the memory reference (10)")
    ap.add_argument("--rss-tolerance", type=float, default=0.05)
    ap.add_argument("--grace", type=float, default=30, help="the server's --grace, seconds (30)")
    ap.add_argument("--file", help="the FLV every publisher sends (looped)")
    ap.add_argument("--bin-dir", help="target/debug or target/release (default: build release)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "soak"))
    args = ap.parse_args()
    # Absolute: nginx (and the processes' logs) are given paths under it.
    args.out = os.path.abspath(args.out)
    if args.groups < 1 or args.publishers < 1 or args.viewers < 1 or args.minutes <= 0:
        ap.error("--groups, --publishers, --viewers and --minutes must be positive")
    if args.settle * 60 >= args.minutes * 60 - 30:
        ap.error("--settle must be at least 30 s before the end")
    sys.exit(run(args))


if __name__ == "__main__":
    main()
