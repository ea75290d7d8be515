#!/usr/bin/env python3
"""Turns bench/run.sh's raw output (DIR/raw/) into the table of issue 6.

Usage: bench/report.py DIR

Writes DIR/results.json (every figure with its samples), DIR/results.csv,
DIR/table.md and, with gnuplot, DIR/readers.png and DIR/first-frame.png;
prints the table. Only reads what run.sh wrote: it can be rerun alone.
"""
import glob
import json
import math
import os
import re
import statistics
import subprocess
import sys

DIR = sys.argv[1] if len(sys.argv) > 1 else "."
RAW = os.path.join(DIR, "raw")


def load_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def load_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def numbers(path):
    try:
        with open(path) as f:
            return [float(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def pct(samples, q):
    """Nearest-rank percentile, as rtsp-bench-client computes it; the
    median of an even count is the mean of the middle two (rounds come in
    twos)."""
    s = sorted(samples)
    if not s:
        return None
    if q == 0.5:
        return statistics.median(s)
    i = max(0, math.ceil(q * len(s)) - 1)
    return s[min(i, len(s) - 1)]


def rounds(pattern):
    return [j for j in (load_json(p) for p in sorted(glob.glob(os.path.join(RAW, pattern)))) if j]


def fmt(v, unit="", digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:,.{digits}f}{unit}"


def wrk(path):
    """p50, p99 (ms) and req/s from wrk --latency output."""
    try:
        text = open(path).read()
    except OSError:
        return None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def lat(q):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % q, text, re.M)
        return float(m.group(1)) * scale[m.group(2)] if m else None

    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "p50_ms": lat(50),
        "p99_ms": lat(99),
        "rps": float(m.group(1)) if m else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


rows = []  # the table
figures = {}  # results.json


def row(key, name, ours, base, ratio, target, met, unit="", detail=None):
    rows.append(
        {
            "key": key,
            "figure": name,
            "ours": ours,
            "baseline": base,
            "ratio": ratio,
            "target": target,
            "met": met,
        }
    )
    figures[key] = detail or {}


def series(samples):
    return {
        "n": len(samples),
        "median": pct(samples, 0.5),
        "p90": pct(samples, 0.9),
        "samples": samples,
    }


def cell(s, unit, digits=1):
    if not s or s["n"] == 0:
        return "n/a"
    return f"{fmt(s['median'], '', digits)} / {fmt(s['p90'], '', digits)} {unit}".strip()


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


machine = {}
try:
    for line in open(os.path.join(RAW, "machine.txt")):
        k, _, v = line.strip().partition("=")
        machine[k] = v
except OSError:
    pass

# --- start-up ---------------------------------------------------------------
su_o = load_jsonl(os.path.join(RAW, "startup-ours.jsonl"))
su_b = load_jsonl(os.path.join(RAW, "startup-base.jsonl"))
su_od = load_jsonl(os.path.join(RAW, "startup-ours-describe.jsonl"))
h_o = series([x for j in su_o for x in j["health_ms"]["samples"]])
d_o = series([x for j in su_od for x in j["describe_all_ms"]["samples"]])
d_b = series([x for j in su_b for x in j["describe_all_ms"]["samples"]])
row(
    "startup_health",
    "start to /health 200, all 4 answer DESCRIBE (baseline: to DESCRIBE 200 on all 4)",
    cell(h_o, "ms"),
    cell(d_b, "ms"),
    ratio(h_o["median"], d_b["median"]),
    "< 100 ms median",
    h_o["median"] is not None and h_o["median"] < 100,
    detail={"ours": h_o, "baseline": d_b, "unit": "ms"},
)
row(
    "startup_describe",
    "start to DESCRIBE 200 on all 4 ports (same probe for both)",
    cell(d_o, "ms"),
    cell(d_b, "ms"),
    ratio(d_o["median"], d_b["median"]),
    "-",
    None,
    detail={"ours": d_o, "baseline": d_b, "unit": "ms"},
)
row(
    "startup_container",
    "the same in a fresh container (no registry cache)",
    "n/a: needs an image build",
    "n/a",
    None,
    "< 500 ms",
    None,
    detail={"why": "bench/ does not build images; tests/container/test_image.sh times podman run to healthy"},
)

# --- /health under load -------------------------------------------------------
paced = [w for w in (wrk(p) for p in sorted(glob.glob(os.path.join(RAW, "wrk-paced-ours-r*.txt")))) if w]
maxed = [w for w in (wrk(p) for p in sorted(glob.glob(os.path.join(RAW, "wrk-max-ours-r*.txt")))) if w]
wr = rounds("wrk-readers-ours-r*.json")
if paced:
    p99 = pct([w["p99_ms"] for w in paced if w["p99_ms"] is not None], 0.5)
    p50 = pct([w["p50_ms"] for w in paced if w["p50_ms"] is not None], 0.5)
    rps = pct([w["rps"] for w in paced if w["rps"]], 0.5)
    playing = min((j["playing"] for j in wr), default=0)
    row(
        "health_latency",
        f"/health latency at ~1,000 req/s, 4 cameras streaming to {playing} readers",
        f"p50 {fmt(p50, '', 2)} / p99 {fmt(p99, '', 2)} ms at {fmt(rps, '', 0)} req/s",
        "n/a: no HTTP API",
        None,
        "p99 < 1 ms",
        p99 is not None and p99 < 1.0,
        detail={"ours": paced, "readers": wr},
    )
if maxed:
    rps = pct([w["rps"] for w in maxed if w["rps"]], 0.5)
    row(
        "health_rps",
        "/health throughput, wrk 16 connections, same load",
        f"{fmt(rps, '', 0)} req/s (p99 {fmt(pct([w['p99_ms'] for w in maxed if w['p99_ms'] is not None], 0.5), '', 2)} ms)",
        "n/a: no HTTP API",
        None,
        "> 10,000 req/s",
        rps is not None and rps > 10000,
        detail={"ours": maxed},
    )

hc = series(numbers(os.path.join(RAW, "hc-http-ours.txt")))
row(
    "health_check",
    "rtsp-health-check run time (GET /health), healthy server",
    cell(hc, "ms", 2),
    "n/a: no /health",
    None,
    "< 5 ms median",
    hc["median"] is not None and hc["median"] < 5,
    detail={"ours": hc, "unit": "ms"},
)
hr_o = series(numbers(os.path.join(RAW, "hc-rtsp-ours.txt")))
hr_b = series(numbers(os.path.join(RAW, "hc-rtsp-base.txt")))
row(
    "health_check_rtsp",
    "rtsp-health-check --rtsp-ports (OPTIONS to all 4 ports)",
    cell(hr_o, "ms", 2),
    cell(hr_b, "ms", 2),
    ratio(hr_o["median"], hr_b["median"]),
    "-",
    None,
    detail={"ours": hr_o, "baseline": hr_b, "unit": "ms"},
)

# --- first keyframe -------------------------------------------------------------
ff = {}
for t in ("tcp", "udp"):
    for kind in ("ours", "base"):
        js = rounds(f"ff-{t}-{kind}-r*.json")
        ff[(t, kind, "play")] = series([x for j in js for x in j["from_play_ms"]["samples"]])
        ff[(t, kind, "connect")] = series([x for j in js for x in j["from_connect_ms"]["samples"]])
        ff[(t, kind, "failed")] = sum(j["failed"] for j in js)
for t in ("tcp", "udp"):
    o, b = ff[(t, "ours", "play")], ff[(t, "base", "play")]
    met = None
    if o["n"] and b["n"]:
        met = o["p90"] < 20 and o["p90"] < b["p90"] / 5
    row(
        f"ff_play_{t}",
        f"first complete keyframe after the PLAY reply, {t.upper()}",
        cell(o, "ms"),
        cell(b, "ms"),
        ratio(o["median"], b["median"]),
        "p90 < 20 ms and < 1/5 of baseline's",
        met,
        detail={"ours": o, "baseline": b, "unit": "ms",
                "failed": {"ours": ff[(t, "ours", "failed")], "baseline": ff[(t, "base", "failed")]}},
    )
for t in ("tcp", "udp"):
    o, b = ff[(t, "ours", "connect")], ff[(t, "base", "connect")]
    met = None
    if o["n"] and b["n"]:
        met = o["median"] < b["median"] / 2
    row(
        f"ff_connect_{t}",
        f"first complete keyframe from TCP connect, {t.upper()}",
        cell(o, "ms"),
        cell(b, "ms"),
        ratio(o["median"], b["median"]),
        "median < 1/2 of baseline's",
        met,
        detail={"ours": o, "baseline": b, "unit": "ms"},
    )

# --- readers ----------------------------------------------------------------------
readers = {}
for p in glob.glob(os.path.join(RAW, "readers-*-*-r*.json")):
    m = re.search(r"readers-(\d+)-(ours|base)-r\d+\.json$", p)
    j = load_json(p)
    if m and j:
        readers.setdefault((int(m.group(1)), m.group(2)), []).append(j)


def rstat(n, kind, f):
    """Over the runs where every reader played: a server that hung half-way
    through the set-up uses little CPU and proves nothing."""
    vals = [f(j) for j in readers.get((n, kind), [])
            if j.get("server") and j["playing"] == j["readers"]]
    return series([v for v in vals if v is not None])


def runs_note(n, kind):
    js = readers.get((n, kind), [])
    full = sum(1 for j in js if j["playing"] == j["readers"])
    return "" if full == len(js) else f" ({full} of {len(js)} runs had every reader playing)"


def every_frame(n, kind):
    js = readers.get((n, kind), [])
    if not js:
        return None
    return all(j["every_frame"] for j in js)


def frames_note(n, kind):
    js = readers.get((n, kind), [])
    if not js:
        return "n/a"
    ok = all(j["every_frame"] for j in js)
    got = sum(j["frames"] for j in js)
    exp = sum(j["frames_expected"] for j in js)
    lost = sum(j["lost_packets"] for j in js)
    short = sum(j["readers_short"] for j in js)
    failed = sum(j["failed"] for j in js)
    return (f"{'yes' if ok else 'NO'}: {got:,} of {exp:,} frames, {lost} packets lost"
            + (f", {short} readers short (started late {sum(j.get('short_late_start', 0) for j in js)}, "
               f"behind at the end {sum(j.get('short_behind_at_end', 0) for j in js)}, "
               f"at most {max(j.get('max_frames_short', 0) for j in js)} frames)" if short else "")
            + (f", {failed} readers failed" if failed else ""))


io = series(numbers(os.path.join(RAW, "idle-cpu-ours.txt")))
ib = series(numbers(os.path.join(RAW, "idle-cpu-base.txt")))
row("cpu_idle", "CPU of 4 cameras, no reader (% of one core)", cell(io, "%"), cell(ib, "%"),
    ratio(io["median"], ib["median"]), "-", None,
    detail={"ours": io, "baseline": ib, "unit": "% of one core"})

cpu = lambda j: j["server"]["cpu_pct"]
rss = lambda j: j["server"]["end"]["rss_mib"]
co, cb = rstat(4, "ours", cpu), rstat(4, "base", cpu)
row(
    "cpu_4",
    "CPU of 4 cameras, 1 TCP reader each (% of one core)",
    cell(co, "%"),
    cell(cb, "%"),
    ratio(co["median"], cb["median"]),
    "< 1/10 of baseline's",
    None if not (co["n"] and cb["n"]) else co["median"] < cb["median"] / 10,
    detail={"ours": co, "baseline": cb, "unit": "% of one core"},
)
ro, rb = rstat(4, "ours", rss), rstat(4, "base", rss)
row("rss_4", "RSS, same load", cell(ro, "MiB"), cell(rb, "MiB"),
    ratio(ro["median"], rb["median"]), "-", None,
    detail={"ours": ro, "baseline": rb, "unit": "MiB"})

# --- cameras on one core -----------------------------------------------------------
cams = {}
for p in glob.glob(os.path.join(RAW, "cams-*-*.json")):
    m = re.search(r"cams-(\d+)-(ours|base)\.json$", p)
    j = load_json(p)
    if m and j:
        cams[(int(m.group(1)), m.group(2))] = j
try:
    max_cams = int(open(os.path.join(RAW, "ours-max-cameras.txt")).read())
except (OSError, ValueError):
    max_cams = None


def fps(j):
    return j["frames"] / j["playing"] / j["window_s"] if j["playing"] else 0


def full_rate(j):
    return j["playing"] == j["readers"] and j["every_frame"] and fps(j) >= 0.97 * 30


def sustained(kind):
    """Largest step with every frame at the full rate, and the cameras one
    core would carry at the CPU cost per camera of the largest step (scaled
    to 30 fps when the machine's load held the cameras below it)."""
    ks = sorted(k for (k, kk) in cams if kk == kind)
    best, est = None, None
    for k in ks:
        j = cams[(k, kind)]
        if full_rate(j):
            best = k
        if j.get("server") and j["playing"] == k and fps(j) > 0:
            cost = j["server"]["cpu_pct"] / k / (fps(j) / 30)
            if cost > 0:
                est = 100 / cost
    steps = ", ".join(
        f"{k}: {'all frames' if full_rate(cams[(k, kind)]) else 'short'}, "
        f"{fps(cams[(k, kind)]):.0f} fps, "
        f"{cams[(k, kind)].get('server', {}).get('cpu_pct', float('nan')):.0f}%"
        for k in ks)
    return best, est, steps


bo, eo, so = sustained("ours")
bb, eb, sb = sustained("base")


def cams_cell(best, est, steps, limit=None):
    if best is None and est is None:
        return "n/a"
    s = f"~{est:.0f} by CPU per camera" if est else "n/a"
    s += f"; measured up to {best if best is not None else 0} with every frame"
    if limit is not None and best == limit:
        s += f" (the most it accepts: {limit})"
    return s + f" [{steps}]"


row(
    "cams_per_core",
    "cameras one core sustains (one TCP reader each, every frame)",
    cams_cell(bo, eo, so, max_cams),
    cams_cell(bb, eb, sb),
    ratio(eo, eb) if eo and eb else None,
    ">= 200",
    None if eo is None else eo >= 200,
    detail={"ours": {"sustained": bo, "by_cpu": eo, "runs": {k: v for (k, kk), v in cams.items() if kk == "ours"}},
            "baseline": {"sustained": bb, "by_cpu": eb, "runs": {k: v for (k, kk), v in cams.items() if kk == "base"}},
            "server_limit": max_cams},
)

c4o, c4b = rstat(400, "ours", cpu), rstat(400, "base", cpu)
row(
    "cpu_400",
    "400 TCP readers over 4 cameras: CPU (% of one core)",
    cell(c4o, "%") + runs_note(400, "ours"),
    cell(c4b, "%") + runs_note(400, "base"),
    ratio(c4o["median"], c4b["median"]),
    "<= baseline (aim 1/2)",
    None if not (c4o["n"] and c4b["n"]) else c4o["median"] <= c4b["median"],
    detail={"ours": c4o, "baseline": c4b, "unit": "% of one core"},
)
row(
    "frames_400",
    "400 TCP readers: every reader receives every frame",
    frames_note(400, "ours"),
    frames_note(400, "base"),
    None,
    "yes",
    every_frame(400, "ours"),
    detail={"ours": readers.get((400, "ours")), "baseline": readers.get((400, "base"))},
)
r4o, r4b = rstat(400, "ours", rss), rstat(400, "base", rss)
row("rss_400", "400 TCP readers: RSS", cell(r4o, "MiB"), cell(r4b, "MiB"),
    ratio(r4o["median"], r4b["median"]), "< 150 MB",
    None if not r4o["n"] else r4o["median"] * 1.048576 < 150,
    detail={"ours": r4o, "baseline": r4b, "unit": "MiB"})
t4o = rstat(400, "ours", lambda j: j["server"]["end"]["threads"])
t4b = rstat(400, "base", lambda j: j["server"]["end"]["threads"])
row("threads_400", "400 TCP readers: threads", cell(t4o, "", 0), cell(t4b, "", 0),
    ratio(t4o["median"], t4b["median"]), "-", None,
    detail={"ours": t4o, "baseline": t4b})

# --- churn --------------------------------------------------------------------------
ch = {k: load_json(os.path.join(RAW, f"churn-{k}.json")) for k in ("ours", "base")}


def churn_cell(j, what):
    if not j:
        return "n/a"
    if "after" not in j or not j["after"].get("threads"):
        return f"n/a: the server died during the cycles ({j.get('first_error', '')})"
    settle = j.get("settle_s", 3)
    if what == "rss":
        s = (f"{j['rss_growth_mib']:+.1f} MiB ({j['before']['rss_mib']:.1f} -> "
             f"{j['after']['rss_mib']:.1f} {settle:.0f} s after; {j['ok']} of "
             f"{j['cycles'] + j['warmup']} cycles ok")
        return s + (f", first error: {j['first_error']})" if j["failed"] else ")")
    a2 = j.get("after_2s")
    return (f"threads {j['before']['threads']} -> "
            + (f"{a2['threads']} (2 s) -> " if a2 else "") + f"{j['after']['threads']}, "
            f"fds {j['before']['fds']} -> " + (f"{a2['fds']} (2 s) -> " if a2 else "")
            + f"{j['after']['fds']}")


jo, jb = ch["ours"], ch["base"]
cycles = jo["cycles"] if jo else (jb["cycles"] if jb else 0)
row(
    "churn_rss",
    f"RSS growth over {cycles:,} connect/PLAY/RST cycles",
    churn_cell(jo, "rss"),
    churn_cell(jb, "rss"),
    None,
    "< 5 MB",
    None if not jo or "after" not in jo else jo["rss_growth_mib"] * 1.048576 < 5 and jo["failed"] == 0,
    detail={"ours": jo, "baseline": jb},
)
row(
    "churn_threads_fds",
    "threads and fds before -> after the cycles",
    churn_cell(jo, "tf"),
    churn_cell(jb, "tf"),
    None,
    "back where they started",
    None if not jo or "after" not in jo else jo["threads_growth"] <= 0 and jo["fds_growth"] <= 0,
    detail={},
)

so_ = series(numbers(os.path.join(RAW, "sigterm-ours.txt")))
sb_ = series(numbers(os.path.join(RAW, "sigterm-base.txt")))
row("sigterm", "SIGTERM to exit, 4 readers playing", cell(so_, "ms"), cell(sb_, "ms"),
    ratio(so_["median"], sb_["median"]), "-", None,
    detail={"ours": so_, "baseline": sb_, "unit": "ms"})

# --- output ---------------------------------------------------------------------------


def met_text(m):
    return "-" if m is None else ("yes" if m else "NO")


def md_table():
    out = ["| figure | ours (median / p90) | baseline (median / p90) | ratio | target | met |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| {} | {} | {} | {} | {} | {} |".format(
            r["figure"], r["ours"], r["baseline"],
            "-" if r["ratio"] is None else f"{r['ratio']:.2f}", r["target"], met_text(r["met"])))
    return "\n".join(out) + "\n"


table = md_table()
try:
    events = [l.strip() for l in open(os.path.join(RAW, "events.txt")) if l.strip()]
except OSError:
    events = []
if events:
    table += "\nEvents (a server that stopped answering is restarted; stacks in raw/hang-*.txt):\n"
    table += "".join(f"- {e}\n" for e in events)
head = (f"Machine: {machine.get('cores', '?')} cores ({machine.get('cpu', '?')}), "
        f"{machine.get('os', '?')}, GStreamer {machine.get('gstreamer', '?')}; "
        f"{machine.get('date', '?')}; run took {machine.get('seconds', '?')} s"
        f"{' (--quick)' if machine.get('quick') == '1' else ''}; load average "
        f"{machine.get('load_before', '?')} before, {machine.get('load_after', '?')} after.\n")
with open(os.path.join(DIR, "table.md"), "w") as f:
    f.write(head + "\n" + table)
with open(os.path.join(DIR, "results.json"), "w") as f:
    json.dump({"machine": machine, "table": rows, "figures": figures, "events": events}, f, indent=1)
with open(os.path.join(DIR, "results.csv"), "w") as f:
    f.write("figure,server,median,p90,n,unit\n")
    for key, d in figures.items():
        for srv in ("ours", "baseline"):
            s = d.get(srv)
            if isinstance(s, dict) and "median" in s:
                f.write(f"{key},{srv},{'' if s['median'] is None else s['median']},"
                        f"{'' if s['p90'] is None else s['p90']},{s['n']},{d.get('unit', '')}\n")
    for (n, kind), js in sorted(readers.items()):
        for i, j in enumerate(js):
            if j.get("server"):
                srv = "ours" if kind == "ours" else "baseline"
                f.write(f"readers_{n}_cpu_pct,{srv},{j['server']['cpu_pct']},,1,% of one core\n")
                f.write(f"readers_{n}_rss_mib,{srv},{j['server']['end']['rss_mib']},,1,MiB\n")
print(head)
print(table)

# --- plots --------------------------------------------------------------------------------
if subprocess.run(["sh", "-c", "command -v gnuplot"], capture_output=True).returncode != 0:
    print("gnuplot not installed: no plots", file=sys.stderr)
    sys.exit(0)
ns = sorted({n for (n, _) in readers})
with open(os.path.join(DIR, "readers.dat"), "w") as f:
    f.write("# readers ours_cpu base_cpu ours_rss base_rss (medians over rounds)\n")
    for n in ns:
        vals = [rstat(n, k, g)["median"] for g in (cpu, rss) for k in ("ours", "base")]
        f.write(f"{n} " + " ".join("NaN" if v is None else f"{v:.2f}" for v in
                                   (vals[0], vals[1], vals[2], vals[3])) + "\n")
for t in ("tcp", "udp"):
    for kind in ("ours", "base"):
        for w in ("play", "connect"):
            s = sorted(ff[(t, kind, w)]["samples"])
            with open(os.path.join(DIR, f"ff-{t}-{kind}-{w}.dat"), "w") as f:
                for i, v in enumerate(s):
                    f.write(f"{v:.3f} {(i + 1) / len(s):.4f}\n")
gp = f"""
set terminal pngcairo size 1000,420 font 'Sans,10'
set output 'readers.png'
set multiplot layout 1,2 title 'Four cameras, N TCP readers ({machine.get("cores", "?")} cores, loopback)'
set key top left
set grid
set xlabel 'readers'
set ylabel 'CPU, % of one core'
set yrange [0:*]
plot 'readers.dat' using 1:2 with linespoints lw 2 lc rgb '#8e2bd6' title 'rtsp-test-server', \\
     'readers.dat' using 1:3 with linespoints lw 2 lc rgb '#1a9e6e' title 'baseline (test-launch style)'
set ylabel 'RSS, MiB'
plot 'readers.dat' using 1:4 with linespoints lw 2 lc rgb '#8e2bd6' title 'rtsp-test-server', \\
     'readers.dat' using 1:5 with linespoints lw 2 lc rgb '#1a9e6e' title 'baseline (test-launch style)'
unset multiplot
set output 'first-frame.png'
set multiplot layout 1,2 title 'First complete keyframe a joining reader receives (CDF over runs)'
set key bottom right
set ylabel 'fraction of runs'
set yrange [0:1]
set xrange [0:*]
set xlabel 'ms after the PLAY reply'
plot 'ff-tcp-ours-play.dat' with steps lw 2 lc rgb '#8e2bd6' title 'ours TCP', \\
     'ff-udp-ours-play.dat' with steps lw 2 dt 2 lc rgb '#8e2bd6' title 'ours UDP', \\
     'ff-tcp-base-play.dat' with steps lw 2 lc rgb '#1a9e6e' title 'baseline TCP', \\
     'ff-udp-base-play.dat' with steps lw 2 dt 2 lc rgb '#1a9e6e' title 'baseline UDP'
set xlabel 'ms after TCP connect'
plot 'ff-tcp-ours-connect.dat' with steps lw 2 lc rgb '#8e2bd6' title 'ours TCP', \\
     'ff-udp-ours-connect.dat' with steps lw 2 dt 2 lc rgb '#8e2bd6' title 'ours UDP', \\
     'ff-tcp-base-connect.dat' with steps lw 2 lc rgb '#1a9e6e' title 'baseline TCP', \\
     'ff-udp-base-connect.dat' with steps lw 2 dt 2 lc rgb '#1a9e6e' title 'baseline UDP'
unset multiplot
"""
r = subprocess.run(["gnuplot"], input=gp, text=True, cwd=DIR, capture_output=True)
if r.returncode != 0:
    print("gnuplot: " + r.stderr, file=sys.stderr)
