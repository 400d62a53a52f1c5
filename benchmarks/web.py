"""The public site under load: `peelkit serve` on the demo site, driven by wrk on loopback, each
page type against the same server returning one of its own static files in the same run.

    .venv/bin/python benchmarks/web.py                  # 1 worker, then 2: 30 s a run (about 9 min)
    .venv/bin/python benchmarks/web.py --workers 2      # one server with 2 workers (about 4.5 min)
    .venv/bin/python benchmarks/web.py --seconds 3      # a quick run (about 1 min)

It builds the demo site (``peelkit demo``, not timed), starts ``peelkit serve`` on a free port
of 127.0.0.1, warms every URL, then runs wrk (``-t2 -cN -dS --latency``) once per URL: the
static file ``/static/peelkit.css`` (the baseline, before the pages and again after them), the
home page, a force page, an indicator page with a force highlighted, a figure's lineage, the
API's records of a force, and a mix of those five. wrk, not a Python client: on 2 cores a
Python client is the bottleneck. Goals (on 2 cores): every page type's p95 at most 3× the
static file's p95, under 50 ms, and the mix at least 200 requests/s. Any non-2xx response or
socket error is a failure (exit 1).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _common import work_folder

HOST = "127.0.0.1"  # loopback only: the benchmark never listens on or calls another address
THREADS = 2  # wrk threads, one per core of the reference machine
GOAL_RATIO = 3.0  # p95 of a page type / p95 of the static file
GOAL_P95_MS = 50.0
GOAL_MIX_RPS = 200.0
STATIC = "/static/peelkit.css"
# page type -> URL, and a text its body must contain (checked once, before the runs)
PAGES: dict[str, tuple[str, str]] = {
    "home": ("/", "Kent Police"),
    "force": ("/forces/kent", "Kent Police"),
    "indicator": ("/indicators/FIN-5?force=kent", "FIN-5"),
    "lineage": ("/forces/kent/indicators/FIN-5", "FIN-5"),
    "api records": ("/api/v1/records?force=kent", '"records"'),
}
# the chart the indicator page shows, drawn on its first request and cached: warmed, not timed
CHART = "/charts/2016/FIN-5.svg?force=kent"

# One wrk script for every run. With arguments (paths), each thread cycles through them (the
# mix); without, wrk requests its URL. Every response's status is checked (wrk itself counts
# only >= 400), and done() prints one machine-readable line.
LUA = r"""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
  requests, n, i = {}, 0, 0
  for _, path in ipairs(args) do
    table.insert(requests, wrk.format("GET", path))
  end
  if #requests == 0 then
    table.insert(requests, wrk.format())
  end
  n = #requests
end
function request()
  if n == nil or n == 0 then -- wrk's own check of the script, before init
    return wrk.format()
  end
  i = i % n + 1
  return requests[i]
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d p50=%d p95=%d p99=%d max=%d non2xx=%d "
      .. "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, bad,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass
class Run:
    name: str
    url: str
    requests: int
    seconds: float
    bytes: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int  # connect, read, write and timeouts
    server_cpu_s: float  # user + system of the server's processes during the run
    client_cpu_s: float  # user + system of wrk
    other_cpu_s: float  # CPU the machine spent on anything else (other work shares the cores)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_cpu(pid: int) -> float:
    """User + system seconds of ``pid`` and its children (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the name: state ppid ... utime (field 14) stime (15), 1-based in proc(5)
        if entry.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def busy_cpu() -> float:
    """Seconds of CPU the whole machine has spent busy (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def fetch(base: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base + path, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_up(base: str, server: subprocess.Popen[bytes], limit: float = 60.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if server.poll() is not None:
            sys.exit(f"peelkit serve exited with code {server.returncode} before answering")
        try:
            if fetch(base, STATIC)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    sys.exit(f"peelkit serve did not answer within {limit:.0f} s")


def wrk(
    base: str,
    name: str,
    paths: list[str],
    args: argparse.Namespace,
    script: Path,
    server_pid: int,
    seconds: float | None = None,
) -> Run:
    seconds = seconds or args.seconds
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        base + paths[0],
    ]
    if len(paths) > 1:
        command += ["--", *paths]
    cpu_before, busy_before = server_cpu(server_pid), busy_cpu()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = busy_cpu() - busy_before
    server = server_cpu(server_pid) - cpu_before
    client = (after.ru_utime - child.ru_utime) + (after.ru_stime - child.ru_stime)
    found = re.search(r"^RESULT (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        sys.exit(f"wrk failed on {name} ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    got = {k: int(v) for k, v in (pair.split("=") for pair in found.group(1).split())}
    return Run(
        name=name,
        url=paths[0] if len(paths) == 1 else f"{len(paths)} URLs in turn",
        requests=got["requests"],
        seconds=got["duration_us"] / 1e6,
        bytes=got["bytes"],
        p50_ms=got["p50"] / 1000,
        p95_ms=got["p95"] / 1000,
        p99_ms=got["p99"] / 1000,
        max_ms=got["max"] / 1000,
        non2xx=got["non2xx"],
        socket_errors=got["connect"] + got["read"] + got["write"] + got["timeout"],
        server_cpu_s=server,
        client_cpu_s=client,
        other_cpu_s=max(0.0, busy - server - client),
    )


def print_table(runs: list[Run]) -> None:
    print(
        f"  {'page type':<14}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'max ms':>8}{'KB/resp':>8}{'srv ms/req':>11}{'wrk cpu':>8}{'other':>7}{'errors':>7}"
        "  URL"
    )
    for r in runs:
        print(
            f"  {r.name:<14}{r.requests:>9,}{r.rps:>8.0f}{r.p50_ms:>8.1f}{r.p95_ms:>8.1f}"
            f"{r.p99_ms:>8.1f}{r.max_ms:>8.0f}{r.bytes / max(r.requests, 1) / 1024:>8.1f}"
            f"{1000 * r.server_cpu_s / max(r.requests, 1):>11.2f}{r.client_cpu_s:>7.1f}s"
            f"{r.other_cpu_s:>6.1f}s{r.errors:>7}  {r.url}"
        )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def measure(site: Path, workers: int, args: argparse.Namespace, script: Path) -> bool:
    """One server with ``workers`` workers: warm it, run every URL, print the table and the
    goals. False when a response was not 2xx, a socket failed or the server did not stop
    cleanly."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "peelkit.cli", "serve", "--site", str(site)]
    command += ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    log = site.parent / f"serve-{workers}.log"
    # a session of its own, so that stopping it reaches every worker and nothing else
    with log.open("wb") as output:
        server = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    runs: list[Run] = []
    try:
        up = wait_until_up(base, server)
        print(f"\npeelkit serve --workers {workers} on {base} answered in {up:.1f} s")
        # warm: every URL once, checked (exactly 200, the expected text); the highlighted chart
        # is drawn on its first request and cached on disk
        for name, (path, text) in PAGES.items():
            status, body = fetch(base, path)
            if status != 200 or text.encode() not in body:
                sys.exit(f"{name} {path}: status {status}, {text!r} not in the body")
        status, body = fetch(base, CHART)
        if status != 200 or not body.startswith(b"<?xml"):
            sys.exit(f"{CHART}: status {status}, not an SVG")
        # then a short untimed mix, so that every worker has read the bundle
        paths = [STATIC] + [p for p, _ in PAGES.values()]
        warm = wrk(base, "warm-up", paths, args, script, server.pid, seconds=min(3, args.seconds))
        if warm.errors:
            sys.exit(f"warm-up: {warm.non2xx} non-2xx, {warm.socket_errors} socket errors")
        print(f"load average before timing: {os.getloadavg()[0]:.2f} (should be near 0)")
        runs.append(wrk(base, "static file", [STATIC], args, script, server.pid))
        for name, (path, _) in PAGES.items():
            runs.append(wrk(base, name, [path], args, script, server.pid))
        mix = [p for p, _ in PAGES.values()]
        runs.append(wrk(base, "mix", mix, args, script, server.pid))
        runs.append(wrk(base, "static again", [STATIC], args, script, server.pid))
    finally:
        stopped = stop(server)
        if not stopped:
            print(f"peelkit serve did not stop cleanly; its output:\n{log.read_text()}")
    print(
        f"\n{workers} worker{'s' if workers > 1 else ''}: wrk -t{THREADS} -c{args.connections} "
        f"-d{args.seconds:g}s per row; srv ms/req = the server's CPU per request; wrk cpu = the "
        "client's CPU (both share the cores); other = CPU spent on anything else meanwhile"
    )
    print_table(runs)
    base_run, again = runs[0], runs[-1]
    baseline = base_run.p95_ms
    drift = again.p95_ms / baseline
    print(
        f"\n  baseline: p95 of {STATIC} = {baseline:.1f} ms "
        f"(again after the pages: {again.p95_ms:.1f} ms, ×{drift:.2f})"
    )
    if not 0.67 <= drift <= 1.5:
        print("  WARNING: the static file's p95 moved during the run: the machine was not steady")
    cores = os.cpu_count() or 1
    shared = [r.name for r in runs if r.other_cpu_s > 0.1 * cores * r.seconds]
    if shared:
        print(
            "  WARNING: other work took more than 10 % of the cores during: "
            + ", ".join(shared)
            + " (rerun on a quiet machine)"
        )
    print(
        f"  {'page type':<14}{'p95/p95(static)':>16}  {'goal ≤ ' + f'{GOAL_RATIO:g}×':<10}"
        f"{'p95 < ' + f'{GOAL_P95_MS:g} ms':<14}"
    )
    for r in runs[1:-1]:
        ratio = r.p95_ms / baseline
        ratio_goal = verdict(ratio <= GOAL_RATIO) if r.name != "mix" else "(no goal)"
        print(
            f"  {r.name:<14}{ratio:>15.2f}×  {ratio_goal:<10}{verdict(r.p95_ms < GOAL_P95_MS):<14}"
        )
    mix_run = runs[-2]
    print(
        f"  mix: {mix_run.rps:.0f} requests/s (goal ≥ {GOAL_MIX_RPS:g}: "
        f"{verdict(mix_run.rps >= GOAL_MIX_RPS)})"
    )
    errors = sum(r.errors for r in runs)
    print(
        f"  errors: {errors} (non-2xx {sum(r.non2xx for r in runs)}, socket "
        f"{sum(r.socket_errors for r in runs)}); server stopped cleanly: {stopped}"
    )
    return errors == 0 and stopped


def stop(server: subprocess.Popen[bytes]) -> bool:
    """Ctrl+C, as a user stops it; its whole session if it has not exited after 15 s."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            return False
    return server.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="each wrk run (default 30)")
    parser.add_argument(
        "--connections", type=int, default=10, help="concurrent clients (default 10)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="uvicorn workers; each value starts its own server, in turn (default: 1, then 2)",
    )
    parser.add_argument("--keep", type=Path, help="work in this (empty) folder and keep it")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    if args.seconds <= 0 or args.connections < THREADS or min(args.workers) < 1:
        parser.error("--seconds > 0, --connections >= 2 and --workers >= 1")

    from peelkit import __version__

    version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    print(
        f"peelkit {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}, {version.split(' Copyright')[0].strip()}"
    )
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    work = work_folder(args.keep, "peelkit-web-", parser)
    started = time.perf_counter()
    try:
        site = work / "site"
        demo = [sys.executable, "-m", "peelkit.cli", "demo", "-w", str(work / "demo.duckdb")]
        demo += ["--out", str(work / "data"), "--reports", str(work / "reports")]
        subprocess.run(
            [*demo, "--site", str(site)],
            cwd=work,
            check=True,
            capture_output=True,
        )
        print(f"demo site built in {time.perf_counter() - started:.1f} s (not timed): {site}")
        script = work / "record.lua"
        script.write_text(LUA, encoding="utf-8")
        ok = True
        for workers in args.workers:
            ok = measure(site, workers, args, script) and ok
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if not ok:
        print("FAILED: some responses were not 2xx, a socket failed or the server did not stop")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
