#!/usr/bin/env python3
"""benches/scale.py -- how many live streams one ingest server takes.

Part 1, side by side: the same P real-time FFmpeg 9 publishers (`-re -c copy`, default 40)
into `live-ingest` and into nginx-rtmp with `hls on` (../shared/peers/nginx-rtmp.sh: 2 s
fragments), one server after the other. After a warm-up, the server's CPU time (utime + stime
from /proc/PID/stat, every process of the server) is measured over a fixed window, divided per
stream and per second of media. Every stream must have a playlist with segments at the end.
live-ingest runs twice: as it starts by default (fMP4 with LL-HLS parts, served from memory)
and as close to nginx-rtmp as it goes (MPEG-TS, no parts, files written with --out).

Part 2, ramp: `rtmp_load` publishes N streams of the same file from one process, N doubling
from --load-start, each step for --load-seconds, until a stream falls behind real time (a send
more than 1 s late) or fails (or the next step would need more than half the memory); then
halfway back, until the bracket is within an eighth. Each step starts a server of its own, so
the streams of the step before (in their grace period) do not count against it. Reported per
step: the server's CPU share, the generator's apart from it, streams per core (N / cores
busy), memory per stream (server RSS growth / N) and, for live-ingest, the part latency from
/metrics (p50, p99: from the socket read of a message to the part it completed being served).
With --pin the server runs on CPU 0 and the generator on CPU 1, so the generator never takes
the server's core. --ramp-server nginx (or both) ramps nginx-rtmp `hls on` the same way (one
worker, its connection limit raised), for the ratio on the same load.

Input: benches/data/bench_720p30.flv (benches/setup.sh makes it: 720p30 H.264 + AAC,
4.4 Mbit/s, key frame every 2 s), or --file. Loopback only; every process it starts is stopped
by its PID. Prints a table and writes the figures as JSON (--json, default
benches/data/scale.json). Takes about 7 min with the defaults. --bin-dir uses built binaries
(CI: target/debug) and --check fails unless every ramped server kept up --load-start streams.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.environ.get("PEERS_DIR", os.path.join(ROOT, "..", "shared", "peers"))
FFMPEG9 = os.environ.get("FFMPEG9", "/opt/peers/bin/ffmpeg9")
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def log(*a):
    print("[scale]", *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=15):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def rss_bytes(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200, r.read().decode("utf-8", "replace")
    except Exception as e:  # noqa: BLE001 - any failure means no playlist
        return False, str(e)


def part_latency(http):
    """p50 and p99 of live_ingest_part_latency_seconds (ms), interpolated
    linearly inside the histogram bucket that holds them; None without parts."""
    ok, text = http_ok(f"http://127.0.0.1:{http}/metrics")
    if not ok:
        return None
    buckets = []
    for line in text.splitlines():
        if line.startswith("live_ingest_part_latency_seconds_bucket"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound),
                            float(line.rsplit(" ", 1)[1])))
    total = buckets[-1][1] if buckets else 0
    if not total:
        return None

    def quantile(q):
        want, low, below = q * total, 0.0, 0.0
        for bound, count in buckets:
            if count >= want:
                if bound == float("inf"):
                    return None  # beyond the last bound: unknown
                share = (want - below) / (count - below) if count > below else 1
                return round((low + (bound - low) * share) * 1000, 2)
            low, below = bound, count
        return None

    return {"parts": int(total), "p50_ms": quantile(0.5), "p99_ms": quantile(0.99),
            "within_5ms": round(dict(buckets).get(0.005, 0) / total, 4)}


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_publishers(n, url_of, source, logdir):
    procs = []
    for i in range(n):
        out = open(os.path.join(logdir, f"ffmpeg-{i}.log"), "wb")
        procs.append(subprocess.Popen(
            [FFMPEG9, "-hide_banner", "-nostdin", "-loglevel", "warning", "-re", "-i", source,
             "-map", "0", "-c", "copy", "-f", "flv", url_of(i)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT))
        time.sleep(0.05)
    return procs


def measure(name, pids_of, publishers, url_of, playlist_of, source, warmup, seconds, logdir):
    """P FFmpeg publishers into a running server; returns its figures."""
    procs = start_publishers(publishers, url_of, source, logdir)
    try:
        time.sleep(warmup)
        pids = pids_of()
        c0, t0 = cpu_seconds(pids), time.time()
        time.sleep(seconds)
        pids = pids_of()
        c1, t1 = cpu_seconds(pids), time.time()
        rss = rss_bytes(pids)
        alive = sum(p.poll() is None for p in procs)
        playlists = 0
        for i in range(publishers):
            ok, text = http_ok(playlist_of(i))
            playlists += ok and "#EXTINF" in text
    finally:
        for p in procs:
            stop(p)
    wall = t1 - t0
    cpu = c1 - c0
    result = {
        "server": name, "publishers": publishers, "publishers_alive": alive,
        "playlists_with_segments": playlists, "window_s": round(wall, 1),
        "cpu_s": round(cpu, 2), "cpu_share_of_one_core": round(cpu / wall, 4),
        "cpu_ms_per_stream_per_s": round(cpu / wall / publishers * 1000, 3),
        "rss_mb": round(rss / 2**20, 1),
    }
    log(json.dumps(result))
    return result


def build():
    log("building live-ingest and rtmp_load (release)")
    subprocess.run(["cargo", "build", "--release", "-p", "live-ingest", "--bin", "live-ingest"],
                   cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "-p", "examples", "--example", "rtmp_load"],
                   cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "examples")


def run_ours(bin_dir, extra, logdir, tag, cpu=None):
    rtmp, http = free_port(), free_port()
    log_file = open(os.path.join(logdir, f"live-ingest-{tag}.log"), "wb")
    proc = subprocess.Popen(
        pinned(cpu, [os.path.join(bin_dir, "..", "live-ingest"), "--rtmp", f"127.0.0.1:{rtmp}",
                     "--http", f"127.0.0.1:{http}", *extra]),
        stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        env={**os.environ, "RUST_LOG": "warn"})
    if not (wait_port(rtmp) and wait_port(http)):
        stop(proc)
        raise SystemExit("live-ingest did not start; see " + log_file.name)
    return proc, rtmp, http


NGINX_RAMP_CONF = """load_module {module};
{user}
worker_processes 1;
worker_rlimit_nofile 65536;
daemon on;
pid {dir}/nginx.pid;
error_log {dir}/logs/error.log warn;
events {{ worker_connections 32768; }}
rtmp {{
  server {{
    listen 127.0.0.1:{rtmp};
    chunk_size 4096;
    application live {{
      live on;
      record off;
      hls on;
      hls_path {dir}/hls;
      hls_fragment 2s;
      hls_playlist_length 10s;
    }}
  }}
}}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp/body;
  proxy_temp_path {dir}/tmp/proxy;
  fastcgi_temp_path {dir}/tmp/fastcgi;
  uwsgi_temp_path {dir}/tmp/uwsgi;
  scgi_temp_path {dir}/tmp/scgi;
  server {{
    listen 127.0.0.1:{http};
    location / {{ root {dir}/hls; }}
  }}
}}
"""


class RampServer:
    """One server for one ramp step: `live-ingest` (defaults, --grace 2) or
    nginx-rtmp with `hls on` as ../shared/peers/nginx-rtmp.sh configures it
    (2 s fragments, one worker), its connection limit raised for the ramp."""

    def __init__(self, kind, bin_dir, work, n, cpu, extra=()):
        self.kind, self.n = kind, n
        if kind == "live-ingest":
            self.proc, self.rtmp, self.http = run_ours(
                bin_dir, ["--grace", "2", *extra], work, f"ramp-{n}", cpu)
            self.master = self.proc.pid
            return
        self.dir = os.path.join(work, f"nginx-{n}")
        for sub in ("hls", "logs", "tmp"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.rtmp, self.http = free_port(), free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_RAMP_CONF.format(
                module=os.environ.get("NGINX_RTMP_MODULE",
                                      "/usr/lib/nginx/modules/ngx_rtmp_module.so"),
                user="user root;" if os.geteuid() == 0 else "", dir=self.dir,
                rtmp=self.rtmp, http=self.http))
        subprocess.run(pinned(cpu, ["nginx", "-p", self.dir, "-c", conf]), check=True)
        if not (wait_port(self.rtmp) and wait_port(self.http)):
            raise SystemExit(f"nginx did not start; see {self.dir}/logs/error.log")
        with open(os.path.join(self.dir, "nginx.pid")) as f:
            self.master = int(f.read().strip())

    def pids(self):
        return [self.master, *children(self.master)]

    def url(self):
        return f"rtmp://127.0.0.1:{self.rtmp}/live/n{self.n}-"

    def playlist(self, i):
        if self.kind == "live-ingest":
            return f"http://127.0.0.1:{self.http}/live/n{self.n}-{i}/index.m3u8"
        return f"http://127.0.0.1:{self.http}/n{self.n}-{i}.m3u8"

    def part_latency(self):
        return part_latency(self.http) if self.kind == "live-ingest" else None

    def stop(self):
        if self.kind == "live-ingest":
            stop(self.proc)
            return
        try:
            os.kill(self.master, signal.SIGQUIT)
        except OSError:
            pass
        for _ in range(50):
            if not os.path.exists(f"/proc/{self.master}"):
                break
            time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)


def pinned(cpu, command):
    """`command` on CPU `cpu` alone (taskset), when pinning is asked for."""
    return ["taskset", "-c", str(cpu), *command] if cpu is not None else command


def memory_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def ramp_step(bin_dir, n, args, work, kind="live-ingest"):
    """N rtmp_load streams into a server started for this step alone (so the
    previous step's streams in their grace period do not count), the
    generator's CPU measured apart from the server's."""
    server_cpu = 0 if args.pin else None
    load_cpu = 1 if args.pin else None
    server = RampServer(kind, bin_dir, work, n, server_cpu, args.server_arg)
    latency = None
    try:
        base_rss = rss_bytes(server.pids())
        load = subprocess.Popen(
            pinned(load_cpu, [
                os.path.join(bin_dir, "rtmp_load"), "--streams", str(n), "--url",
                server.url(), "--file", args.file,
                "--duration", str(args.load_seconds), "--report", "10",
                "--send-beat", str(args.send_beat)]),
            stdout=subprocess.PIPE, text=True,
            stderr=open(os.path.join(work, f"rtmp_load-{n}.log"), "w"))
        # CPU over the step's second half, when every stream is connected
        # (from the server's start it counted the connecting seconds, when
        # the live windows are still empty, and read low), and memory near
        # the end of the step.
        half = max(args.load_seconds / 2, 1)
        time.sleep(half)
        c0, t0 = cpu_seconds(server.pids()), time.time()
        g0 = cpu_seconds([load.pid, *children(load.pid)])
        time.sleep(max(args.load_seconds - half - 3, 1))
        pids = server.pids()
        rss = rss_bytes(pids)
        c1, t1 = cpu_seconds(pids), time.time()
        generator = cpu_seconds([load.pid, *children(load.pid)]) - g0
        ok, _ = http_ok(server.playlist(n - 1))
        latency = server.part_latency()
        try:
            stdout, _ = load.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            load.kill()
            stdout, _ = load.communicate()
    finally:
        server.stop()
    with open(os.path.join(work, f"rtmp_load-{n}.log")) as f:
        stderr = f.read()
    try:
        report = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        report = {"failed": n, "ever_behind": 0, "error": stderr[-2000:]}
    share = (c1 - c0) / (t1 - t0)
    step = {"server": kind, "streams": n, "kept_up": report.get("failed", 1) == 0
            and report.get("ever_behind", 1) == 0 and ok,
            "max_lag_ms": report.get("max_lag_ms"), "failed": report.get("failed"),
            "behind": report.get("ever_behind"),
            "server_cpu_share_of_one_core": round(share, 3),
            "generator_cpu_share_of_one_core": round(generator / (t1 - t0), 3),
            "streams_per_core": round(n / share, 1) if share > 0 else None,
            "rss_mb": round(rss / 2**20, 1),
            "mb_per_stream": round((rss - base_rss) / n / 2**20, 2),
            "part_latency": latency}
    step["send_beat_ms"] = args.send_beat
    if kind == "live-ingest" and args.server_arg:
        step["server_args"] = args.server_arg
    log(json.dumps(step))
    return step, rss


def ramp(bin_dir, args, work, steps, kind="live-ingest"):
    """Doubles N until a step falls behind or fails, then bisects; returns
    the most streams a step kept up with."""
    n, best, worst = args.load_start, None, None
    tried = set()
    while n and n not in tried and n <= args.load_max:
        tried.add(n)
        step, rss = ramp_step(bin_dir, n, args, work, kind)
        steps.append(step)
        if step["kept_up"] and rss * 2 * 2 > memory_total():
            log("stopping: the next step would hold more than half the machine's memory")
            return n
        if step["kept_up"]:
            best = n
            n = n * 2 if worst is None else (n + worst) // 2
        else:
            worst = n
            n = (best + n) // 2 if best else n // 2
        if best and worst and worst - best <= max(best // 8, 1):
            break
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", default=os.path.join(HERE, "data", "bench_720p30.flv"))
    ap.add_argument("--publishers", type=int, default=40)
    ap.add_argument("--warmup", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--load-start", type=int, default=50)
    ap.add_argument("--load-max", type=int, default=1600,
                    help="at most this many streams (memory: ~8 MB each at 4.4 Mbit/s)")
    ap.add_argument("--load-seconds", type=float, default=30)
    ap.add_argument("--pin", action="store_true",
                    help="ramp: the server on CPU 0, rtmp_load on CPU 1 (taskset)")
    ap.add_argument("--ramp-server", choices=["live-ingest", "nginx", "both"],
                    default="live-ingest",
                    help="whose ramp: ours, nginx-rtmp `hls on` (one worker), or both in turn")
    ap.add_argument("--skip-ffmpeg", action="store_true", help="only the rtmp_load ramp")
    ap.add_argument("--skip-load", action="store_true", help="only the side-by-side part")
    ap.add_argument("--json", default=os.path.join(HERE, "data", "scale.json"))
    ap.add_argument("--bin-dir", help="use the live-ingest and examples/rtmp_load binaries in "
                    "this directory (e.g. target/debug) instead of building release ones")
    ap.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                    help="one more argument for live-ingest in the ramp, repeatable "
                    "(--server-arg=--reads-per-second --server-arg=1000000: the fixed 20 ms beat)")
    ap.add_argument("--send-beat", type=int, default=10, metavar="MS",
                    help="rtmp_load's send beat: every publisher writes what is due every MS ms "
                    "(10; 40 cuts the generator's CPU by a third and flatters the server by about 5%%, "
                    "benches/README.md)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every ramped server kept up --load-start streams and "
                    "live-ingest's part latency was read (CI's short run)")
    args = ap.parse_args()
    if not os.path.exists(args.file):
        raise SystemExit(f"{args.file} is missing: run benches/setup.sh (or pass --file)")
    if not args.skip_ffmpeg and not os.access(FFMPEG9, os.X_OK):
        raise SystemExit(f"FFmpeg 9 not found at {FFMPEG9} (../shared/peers/install.sh)")
    bin_dir = os.path.join(os.path.abspath(args.bin_dir), "examples") if args.bin_dir else build()
    work = os.path.join("/tmp", f"scale-bench-{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    results = {"file": args.file, "cores": CORES, "side_by_side": [], "ramp": []}

    if not args.skip_ffmpeg:
        P = args.publishers
        # live-ingest, default (fMP4 + LL-HLS parts, in memory), then TS files on disk.
        for tag, extra in [("default", []),
                           ("ts-disk", ["--format", "ts", "--out", os.path.join(work, "out")])]:
            proc, rtmp, http = run_ours(bin_dir, extra, work, tag)
            try:
                results["side_by_side"].append(measure(
                    f"live-ingest {tag}", lambda: [proc.pid], P,
                    lambda i: f"rtmp://127.0.0.1:{rtmp}/live/s{i}",
                    lambda i: f"http://127.0.0.1:{http}/live/s{i}/index.m3u8",
                    args.file, args.warmup, args.seconds, work))
            finally:
                stop(proc)
            time.sleep(1)
        # nginx-rtmp with hls on.
        ndir = os.path.join(work, "nginx")
        nrtmp, nhttp = free_port(), free_port()
        script = os.path.join(PEERS, "nginx-rtmp.sh")
        subprocess.run([script, "start", ndir, str(nrtmp), str(nhttp)], check=True)
        try:
            with open(os.path.join(ndir, "nginx.pid")) as f:
                master = int(f.read().strip())
            results["side_by_side"].append(measure(
                "nginx-rtmp hls", lambda: [master, *children(master)], P,
                lambda i: f"rtmp://127.0.0.1:{nrtmp}/live/s{i}",
                lambda i: f"http://127.0.0.1:{nhttp}/s{i}.m3u8",
                args.file, args.warmup, args.seconds, work))
        finally:
            subprocess.run([script, "stop", ndir], check=False)
        nginx = results["side_by_side"][-1]["cpu_ms_per_stream_per_s"]
        for r in results["side_by_side"]:
            r["ratio_to_nginx"] = round(r["cpu_ms_per_stream_per_s"] / nginx, 3) if nginx else None

    if not args.skip_load:
        kinds = ["live-ingest", "nginx"] if args.ramp_server == "both" else [args.ramp_server]
        results["max_streams_kept_up"] = {
            kind: ramp(bin_dir, args, work, results["ramp"], kind) for kind in kinds}

    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(json.dumps(results, indent=1))
    if args.check:
        check(results, args.load_start)


def check(results, wanted):
    """CI's short run: every ramped server kept up `wanted` streams, and
    live-ingest's steps all carried a part latency."""
    failures = [f"{kind} kept up {best} streams, not {wanted}"
                for kind, best in results.get("max_streams_kept_up", {}).items()
                if not best or best < wanted]
    failures += [f"live-ingest at {s['streams']} streams: no part latency on /metrics"
                 for s in results["ramp"] if s["server"] == "live-ingest"
                 and not (s["part_latency"] or {}).get("parts")]
    for failure in failures:
        log("check failed:", failure)
    if failures:
        raise SystemExit(1)
    log("check: ok")


if __name__ == "__main__":
    main()
