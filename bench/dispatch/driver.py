"""driver.py — the dispatch benchmark (run by bench/dispatch/run.sh).

For each worker count: a fresh hpt study (noop objective, 2 float params,
random sampler, no pruner), N `hpt-worker` daemons on loopback started first
(--start-order), then `hpt study run NAME --bind tcp://127.0.0.1:PORT` as the coordinator
(a direct child of this script, so os.wait4 gives its exact CPU time and peak
RSS). tcpdump records the coordinator's port for the wire-level assignment
latency (pcap_latency.py). Then the same workload with Optuna's RDB storage on
the same PostgreSQL server (own database, since Optuna's table names collide
with hpt's). Then Ray Tune (ray_tune_noop.py: in memory, no database) with C
concurrent trials, Ray's defaults and reuse_actors=True. Writes a markdown
report and a csv.
"""
import argparse
import csv
import datetime
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcap_latency  # noqa: E402

SPEC = """name: {name}
direction: maximize
n_trials: {n_trials}
max_parallel: {max_parallel}
sampler: {{type: random, seed: 1}}
pruner: {{type: none}}
params:
  x: {{type: float, low: 0, high: 1}}
  y: {{type: float, low: 0, high: 1}}
objective: {{type: noop}}
"""


def log(msg):
    print("[dispatch %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-AtX", "-F", "|", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.strip().splitlines() if line]


def postmaster_children_cpu(home):
    """CPU seconds of the postmaster's reaped children (the backends)."""
    try:
        with open(os.path.join(home, "pgdata", "postmaster.pid")) as f:
            pid = int(f.readline())
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[13]) + int(fields[14])) / tick  # cutime + cstime
    except (OSError, ValueError, IndexError):
        return float("nan")


def pg_counters(url, dbname):
    commits = int(psql(url, "select xact_commit from pg_stat_database where datname = '%s'"
                       % dbname)[0][0])
    syncs = int(psql(url, "select wal_sync from pg_stat_wal")[0][0])
    return commits, syncs


def wait_listening(port, proc, timeout=30.0):
    """Until something listens on 127.0.0.1:port (read from /proc/net/tcp)."""
    want = ":%04X" % port
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[1].endswith(want) and parts[3] == "0A":
                    return True
        time.sleep(0.02)
    return False


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def wait_rusage(pid):
    _, status, ru = os.wait4(pid, 0)
    return status, ru


def start_tcpdump(path, port):
    if shutil.which("tcpdump") is None:
        return None
    err = open(path + ".err", "w")
    proc = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-U", "-B", "32768", "-Z", "root",
                             "-w", path, "tcp port %d" % port],
                            stdout=subprocess.DEVNULL, stderr=err)
    for _ in range(100):
        time.sleep(0.05)
        with open(path + ".err") as f:
            if "listening" in f.read():
                break
    return proc


def stop_tcpdump(proc, path):
    if proc is None:
        return None
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    dropped = None
    with open(path + ".err") as f:
        for line in f:
            if "dropped by kernel" in line:
                dropped = int(line.split()[0])
    return dropped


def run_hpt(args, url, home, n_workers, tag, capture=False):
    name = "dispatch-%s-w%d%s" % (tag, n_workers, "-pcap" if capture else "")
    spec = os.path.join(home, name + ".yaml")
    with open(spec, "w") as f:
        f.write(SPEC.format(name=name, n_trials=args.trials, max_parallel=n_workers))
    subprocess.run([args.hpt, "--db", url, "study", "create", spec], check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    endpoint = "tcp://127.0.0.1:%d" % port
    pcap = os.path.join(home, name + ".pcap")
    dump = start_tcpdump(pcap, port) if capture else None
    commits0, syncs0 = pg_counters(url, "hpt")
    pgcpu0 = postmaster_children_cpu(home)
    load0 = loadavg()

    # Workers are long-lived daemons: by default (--start-order workers) they
    # are started first and given time to come up (ZeroMQ retries the
    # connection until the coordinator binds), so the run measures the job
    # queue rather than 256 processes starting at once on a small machine.
    # `--start-order coordinator` starts them once the coordinator listens.
    clog_path = os.path.join(home, name + ".coordinator.log")
    clog = open(clog_path, "w")
    wlog = open(os.path.join(home, name + ".workers.log"), "w")
    workers = []

    def start_workers():
        for i in range(n_workers):
            workers.append(subprocess.Popen(
                [args.worker, "--connect", endpoint, "--id", "%s-%d" % (name, i), "--insecure",
                 "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=wlog))

    if args.start_order == "workers":
        start_workers()
        time.sleep(1.0 + n_workers / 100.0)
    t0 = time.monotonic()
    coord = subprocess.Popen([args.hpt, "--db", url, "study", "run", name, "--bind", endpoint,
                              "--insecure"],
                             stdout=clog, stderr=subprocess.STDOUT)
    wait_listening(port, coord)
    if args.start_order != "workers":
        start_workers()
    deadline = t0 + args.timeout
    status, ru = None, None
    while True:
        pid, st, r = os.wait4(coord.pid, os.WNOHANG)
        if pid == coord.pid:
            status, ru = st, r
            break
        if time.monotonic() > deadline:
            log("%s: timeout after %ds, killing the coordinator" % (name, args.timeout))
            coord.send_signal(signal.SIGINT)
            time.sleep(3)
            pid, st, r = os.wait4(coord.pid, os.WNOHANG)
            if pid != coord.pid:
                coord.kill()
                st, r = wait_rusage(coord.pid)
            status, ru = st, r
            break
        time.sleep(0.05)
    wall = time.monotonic() - t0
    coord.returncode = os.waitstatus_to_exitcode(status)

    worker_cpu = 0.0
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            _, _, wru = os.wait4(w.pid, 0)
            worker_cpu += wru.ru_utime + wru.ru_stime
        except ChildProcessError:
            pass
        w.returncode = 0
    wlog.close()
    clog.close()
    dropped = stop_tcpdump(dump, pcap)
    time.sleep(1.2)  # cumulative statistics reach pg_stat_* within a second
    commits1, syncs1 = pg_counters(url, "hpt")
    pgcpu1 = postmaster_children_cpu(home)

    row = psql(url, """
      select count(*),
             count(*) filter (where t.state = 'COMPLETE'),
             count(*) filter (where t.state = 'FAIL'),
             count(*) filter (where t.state in ('RUNNING', 'WAITING')),
             extract(epoch from max(t.finished_at) - min(t.started_at)),
             count(distinct t.worker_id)
        from trials t join studies s on s.id = t.study_id where s.name = '%s'""" % name)[0]
    total, complete, failed, unfinished = (int(x) for x in row[:4])
    span = float(row[4] or "nan")
    distinct_workers = int(row[5])
    # The coordinator's own view: the gap between storing trial k's result
    # (finished_at, its transaction's start) and storing trial k+1 on the
    # same worker (started_at): excludes queueing before the coordinator
    # reads the result and the wire.
    gaps = [float(r[0]) for r in psql(url, """
      select extract(epoch from nxt - finished_at) from (
        select t.finished_at,
               lead(t.started_at) over (partition by t.worker_id order by t.started_at) as nxt
          from trials t join studies s on s.id = t.study_id where s.name = '%s') g
       where nxt is not null""" % name)]
    # The middle 80 % of the run (10th to 90th percentile of finish times):
    # without the workers' start-up ramp and the tail.
    steady = psql(url, """
      select extract(epoch from percentile_disc(0.9) within group (order by t.finished_at)
                           - percentile_disc(0.1) within group (order by t.finished_at))
        from trials t join studies s on s.id = t.study_id
       where s.name = '%s' and t.state = 'COMPLETE'""" % name)[0][0]
    steady_rate = (0.8 * complete / float(steady)) if steady and float(steady) > 0 else float("nan")
    late = int(psql(url, "select count(*) from late_messages l join studies s on s.id = l.study_id"
                    " where s.name = '%s'" % name)[0][0])

    lat, info = [], {}
    if dump is not None:
        lat, info = pcap_latency.latencies(pcap, port)
        if not args.keep:
            os.unlink(pcap)
    with open(clog_path) as f:
        warnings = [line.strip() for line in f if "level=warn" in line or "level=error" in line]
    with open(os.path.join(home, name + ".workers.log")) as f:
        wwarnings = [line.strip() for line in f if "level=warn" in line or "level=error" in line]

    rate = complete / span if span and span > 0 else float("nan")
    result = {
        "system": "hpt", "processes": n_workers, "trials": args.trials,
        "complete": complete, "failed": failed, "unfinished": unfinished, "total_rows": total,
        "span_s": span, "wall_s": wall, "trials_per_s": rate,
        "steady_trials_per_s": steady_rate,
        "lat_p50_ms": pcap_latency.percentile(lat, 50) * 1e3,
        "lat_p99_ms": pcap_latency.percentile(lat, 99) * 1e3,
        "lat_mean_ms": (sum(lat) / len(lat) * 1e3) if lat else float("nan"),
        "lat_samples": len(lat),
        "little_mean_ms": (n_workers / steady_rate * 1e3
                           if steady_rate == steady_rate and steady_rate > 0 else float("nan")),
        "db_gap_p50_ms": pcap_latency.percentile(gaps, 50) * 1e3,
        "db_gap_p99_ms": pcap_latency.percentile(gaps, 99) * 1e3,
        "coord_cpu_s": ru.ru_utime + ru.ru_stime,
        "coord_user_s": ru.ru_utime, "coord_sys_s": ru.ru_stime,
        "coord_cpu_us_per_trial": (ru.ru_utime + ru.ru_stime) / max(complete, 1) * 1e6,
        "coord_rss_mb": ru.ru_maxrss / 1024.0,
        "coord_exit": coord.returncode,
        "workers_cpu_s": worker_cpu,
        "pg_backend_cpu_s": pgcpu1 - pgcpu0,
        "commits_per_trial": (commits1 - commits0) / max(complete, 1),
        "wal_syncs_per_trial": (syncs1 - syncs0) / max(complete, 1),
        "distinct_workers_used": distinct_workers,
        "late_messages": late,
        "pcap_dropped": dropped, "pcap_broken_streams": info.get("broken_streams"),
        "coordinator_warnings": len(warnings), "worker_warnings": len(wwarnings),
        "loadavg_before": load0, "loadavg_after": loadavg(),
    }
    result["_warnings"] = warnings[:5]
    result["_wwarnings"] = wwarnings[:3]
    log("%s: %d/%d complete in %.1fs (%.0f trials/s), p50 %.2f ms, p99 %.2f ms, "
        "coordinator %.2f s CPU, %.1f MB RSS, exit %d, %d warnings"
        % (name, complete, args.trials, span, rate, result["lat_p50_ms"], result["lat_p99_ms"],
           result["coord_cpu_s"], result["coord_rss_mb"], coord.returncode, len(warnings)))
    return result


def run_optuna(args, home, tag):
    import optuna  # the venv's
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = "postgresql:///hpt?host=%s/run&user=hpt&port=5432" % home
    dbname = "optuna_%s" % tag
    psql(base, "create database %s" % dbname)
    storage = "postgresql+psycopg2://hpt@/%s?host=%s/run&port=5432" % (dbname, home)
    name = "dispatch-optuna-%d" % args.optuna_procs
    optuna.create_study(study_name=name, storage=storage, direction="maximize",
                        sampler=optuna.samplers.RandomSampler(seed=1))
    url = "postgresql:///%s?host=%s/run&user=hpt&port=5432" % (dbname, home)
    commits0, syncs0 = pg_counters(url, dbname)
    pgcpu0 = postmaster_children_cpu(home)
    per = args.optuna_trials // args.optuna_procs
    t0 = time.monotonic()
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "optuna_worker.py"),
                               storage, name, str(per)])
             for _ in range(args.optuna_procs)]
    cpu = 0.0
    codes = []
    for p in procs:
        _, st, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(st)
        codes.append(p.returncode)
        cpu += ru.ru_utime + ru.ru_stime
    wall = time.monotonic() - t0
    time.sleep(1.2)
    commits1, syncs1 = pg_counters(url, dbname)
    pgcpu1 = postmaster_children_cpu(home)
    row = psql(url, """select count(*), count(*) filter (where state = 'COMPLETE'),
                        extract(epoch from max(datetime_complete) - min(datetime_start))
                        from trials""")[0]
    total, complete, span = int(row[0]), int(row[1]), float(row[2] or "nan")
    rate = complete / span if span > 0 else float("nan")
    log("optuna: %d/%d complete in %.1fs (%.1f trials/s; wall incl. python start %.1fs), exit %s"
        % (complete, per * args.optuna_procs, span, rate, wall, codes))
    return {"system": "optuna %s RDB (postgresql+psycopg2)" % optuna.__version__,
            "processes": args.optuna_procs, "trials": per * args.optuna_procs,
            "complete": complete, "failed": total - complete, "unfinished": 0,
            "total_rows": total, "span_s": span, "wall_s": wall, "trials_per_s": rate,
            "little_mean_ms": float("nan"), "workers_cpu_s": cpu,
            "pg_backend_cpu_s": pgcpu1 - pgcpu0,
            "commits_per_trial": (commits1 - commits0) / max(complete, 1),
            "wal_syncs_per_trial": (syncs1 - syncs0) / max(complete, 1),
            "loadavg_after": loadavg()}


def run_ray(args, n, reuse):
    """Ray Tune with n concurrent trials (ray_tune_noop.py, a fresh Ray per
    run); reuse: TuneConfig(reuse_actors=True), else Ray's default (a new
    actor per trial)."""
    trials = args.ray_trials if reuse else args.ray_fresh_trials
    cmd = [sys.executable, os.path.join(HERE, "ray_tune_noop.py"), "--trials", str(trials),
           "--concurrency", str(n)] + (["--reuse-actors"] if reuse else [])
    load0 = loadavg()
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=max(600, 60 + trials * 2))
    if proc.returncode != 0 or not proc.stdout.strip():
        log("ray tune (%d, reuse=%s) failed, exit %d: %s"
            % (n, reuse, proc.returncode, proc.stderr.strip()[-2000:]))
        return None
    import json
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["loadavg_before"] = load0
    row["loadavg_after"] = loadavg()
    log("%s, %d concurrent: %d/%d complete in %.1fs (%.1f trials/s; Tuner.fit %.1fs, "
        "%.1f trials/s)" % (row["system"], n, row["complete"], trials, row["span_s"],
                            row["trials_per_s"], row["wall_s"], row["fit_trials_per_s"]))
    return row


def fsync_rate():
    tool = "/usr/lib/postgresql/15/bin/pg_test_fsync"
    if not os.path.exists(tool):
        return None
    d = tempfile.mkdtemp(prefix="hpt-bench-fsync-")
    try:
        out = subprocess.run(["timeout", "40", tool, "-s", "1", "-f", os.path.join(d, "f")],
                             capture_output=True, text=True).stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)
    for line in out.splitlines():
        if line.strip().startswith("fdatasync"):
            parts = line.split()
            try:
                return float(parts[1]), float(parts[3])
            except (IndexError, ValueError):
                return None
    return None


COLS = ["system", "processes", "trials", "complete", "failed", "unfinished", "span_s", "wall_s",
        "trials_per_s", "steady_trials_per_s", "lat_p50_ms", "lat_p99_ms", "lat_mean_ms", "lat_samples",
        "little_mean_ms", "db_gap_p50_ms", "db_gap_p99_ms", "coord_cpu_s", "coord_user_s",
        "coord_sys_s", "coord_cpu_us_per_trial", "coord_rss_mb", "coord_exit", "workers_cpu_s",
        "pg_backend_cpu_s", "commits_per_trial", "wal_syncs_per_trial",
        "distinct_workers_used", "late_messages", "pcap_dropped", "pcap_broken_streams",
        "coordinator_warnings", "worker_warnings", "loadavg_before", "loadavg_after",
        "trials_per_s_under_pcap", "fit_trials_per_s", "ray_init_s", "cpu_per_trial",
        "driver_cpu_s"]


def fmt(v, digits=1):
    if v is None or v == "":
        return "–"
    if isinstance(v, float):
        if v != v:
            return "–"
        return "%.*f" % (digits, v)
    return str(v)


def git_rev(repo):
    try:
        rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" + uncommitted changes in %d tracked files" % len(dirty.splitlines())
                      if dirty else "")
    except OSError:
        return "?"


def write_report(args, rows, env):
    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (("%.6g" % v) if isinstance(v, float) else v)
                        for k, v in r.items() if k in COLS})
    hpt_rows = [r for r in rows if r["system"] == "hpt"]
    opt = [r for r in rows if r["system"].startswith("optuna")]
    opt_rate = opt[0]["trials_per_s"] if opt else float("nan")
    ray_rows = [r for r in rows if r["system"].startswith("ray")]
    L = []
    L.append("# Dispatch benchmark: hpt job queue vs Optuna RDB storage%s"
             % (" and Ray Tune" if ray_rows else ""))
    L.append("")
    L.append("Generated by `bench/dispatch/run.sh` on %s." % env["date"])
    L.append("")
    L.append("- machine: %s, %d CPUs, %s; PostgreSQL %s (hpt's embedded cluster, "
             "fsync=on, synchronous_commit=on, unix socket)" % (env["cpu"], env["ncpu"],
                                                               env["kernel"], env["pg"]))
    if env.get("fsync"):
        L.append("- the disk: `pg_test_fsync` fdatasync of one 8 kB write: %.0f ops/s "
                 "(%.0f µs each) — the ceiling for durable commits issued one after another"
                 % env["fsync"])
    L.append("- hpt: %s, build `%s` (%s)" % (env["git"], args.build_dir, env["build_type"]))
    L.append("- workload: `noop` objective (2 float params, value = x + y, no sleep, no steps), "
             "random sampler, no pruner, max_parallel = workers, %d trials per hpt run%s"
             % (args.trials, "" if args.trials == 20000 else " (reduced from 20,000)"))
    L.append("")
    L.append("| system | processes | trials | complete | trials/s | assign p50 ms | assign p99 ms "
             "| coordinator CPU s (µs/trial) | coordinator peak RSS MB | PG backends CPU s "
             "| commits/trial | WAL fsyncs/trial |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        is_hpt = r["system"] == "hpt"
        if is_hpt:
            cpu_cell = "%s (%s)" % (fmt(r["coord_cpu_s"], 2), fmt(r["coord_cpu_us_per_trial"], 0))
        elif r["system"].startswith("ray"):
            cpu_cell = "%s (Ray Tune driver process, in memory)" % fmt(r.get("driver_cpu_s"), 2)
        else:
            cpu_cell = "n/a (no coordinator; %s s in the %d clients)" % (
                fmt(r["workers_cpu_s"]), r["processes"])
        L.append("| %s | %d | %d | %d | **%s** | %s | %s | %s | %s | %s | %s | %s |" % (
            r["system"], r["processes"], r["trials"], r["complete"], fmt(r["trials_per_s"]),
            fmt(r.get("lat_p50_ms"), 2) if is_hpt else "–",
            fmt(r.get("lat_p99_ms"), 2) if is_hpt else "–",
            cpu_cell,
            fmt(r.get("coord_rss_mb")) if is_hpt else "–",
            fmt(r.get("pg_backend_cpu_s")), fmt(r.get("commits_per_trial"), 2),
            fmt(r.get("wal_syncs_per_trial"), 2)))
    L.append("")
    L.append("Secondary columns (all in `dispatch.csv`):")
    L.append("")
    L.append("| processes | span s | trials/s (middle 80 %) | coordinator wall s | latency mean ms (wire) | N / rate ms "
             "(Little) | DB gap p50 / p99 ms | worker daemons CPU s | failed | late msgs "
             "| coordinator warn lines |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in hpt_rows:
        L.append("| %d | %s | %s | %s | %s | %s | %s / %s | %s | %d | %d | %d |" % (
            r["processes"], fmt(r["span_s"]), fmt(r["steady_trials_per_s"]), fmt(r["wall_s"]), fmt(r["lat_mean_ms"], 2),
            fmt(r["little_mean_ms"], 2), fmt(r["db_gap_p50_ms"], 2), fmt(r["db_gap_p99_ms"], 2),
            fmt(r["workers_cpu_s"]), r["failed"], r["late_messages"], r["coordinator_warnings"]))
    L.append("")
    L.append("## Targets")
    L.append("")
    r64 = [r for r in hpt_rows if r["processes"] == 64]
    if r64:
        v = r64[0]["trials_per_s"]
        L.append("- ≥ 2,000 trials/s sustained with 64 workers: **%s** (%s trials/s)"
                 % ("met" if v >= 2000 else "NOT met", fmt(v)))
    if opt and hpt_rows:
        best = max(hpt_rows, key=lambda r: r["trials_per_s"])
        same = [r for r in hpt_rows if r["processes"] == opt[0]["processes"]]
        for r in same + ([best] if best not in same else []):
            ratio = r["trials_per_s"] / opt_rate
            L.append("- ≥ 100× Optuna's trials/s: hpt with %d workers / Optuna with %d processes "
                     "= %.1f / %.1f = **%.1f×** (%s)" % (r["processes"], opt[0]["processes"],
                                                          r["trials_per_s"], opt_rate, ratio,
                                                          "met" if ratio >= 100 else "NOT met"))
    if ray_rows:
        L.append("")
        L.append("## hpt vs Ray Tune")
        L.append("")
        L.append("Ray Tune (no durable store: the experiment's state is in the driver's "
                 "memory) with C concurrent trials, each asking for %d/C CPUs; trials/s over "
                 "the span first trial start → last trial report (clocks inside the trainable), "
                 "and over Tuner.fit() start → end:" % ray_rows[0].get("ray_num_cpus", 0))
        L.append("")
        L.append("| Ray Tune configuration | concurrent | trials | trials/s (span) | trials/s "
                 "(middle 80 %) | trials/s (Tuner.fit) | hpt workers | hpt trials/s | hpt / Ray |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in ray_rows:
            same = [h for h in hpt_rows if h["processes"] == r["processes"]]
            h = same[0]["trials_per_s"] if same else float("nan")
            L.append("| %s | %d | %d | %s | %s | %s | %s | %s | **%s×** |" % (
                r["system"], r["processes"], r["complete"], fmt(r["trials_per_s"]),
                fmt(r.get("steady_trials_per_s")), fmt(r.get("fit_trials_per_s")),
                str(r["processes"]) if same else "–", fmt(h),
                fmt(h / r["trials_per_s"], 0) if same and r["trials_per_s"] > 0 else "–"))
    L.append("")
    L.append("## Notes on these numbers")
    L.append("")
    L.append("- **Durability**: every hpt trial's start and result are committed with "
             "`synchronous_commit = on` before the worker hears back: the coordinator queues a "
             "batch's writes and sends them at the barrier as one pipelined transaction that "
             "also updates the `durability_barrier` row, so its COMMIT waits for the WAL flush "
             "(coordinator/store_batch.c). WAL fsyncs per trial (pg_stat_wal.wal_sync): %s for "
             "%s workers — one per batch, and batches grow with the workers. Optuna commits "
             "every statement synchronously (%s fsyncs/trial)."
             % ("/".join(fmt(r["wal_syncs_per_trial"], 3) for r in hpt_rows),
                "/".join(str(r["processes"]) for r in hpt_rows),
                fmt(opt[0]["wal_syncs_per_trial"], 2) if opt else "?"))
    if env.get("fsync"):
        rate = env["fsync"][0]
        L.append("- **The ceiling for K workers**: nothing is acknowledged before its fsync, so "
                 "at most K trials finish per WAL flush: K × %.0f flushes/s on this disk, i.e. "
                 "%s trials/s for K = %s (before any CPU cost)."
                 % (rate, "/".join("%.0f" % (r["processes"] * rate) for r in hpt_rows),
                    "/".join(str(r["processes"]) for r in hpt_rows)))
    loads = [r.get("loadavg_before") for r in hpt_rows if r.get("loadavg_before") is not None]
    if loads:
        L.append("- The machine is shared (other engineers' builds and tests): 1-minute load "
                 "average before each hpt run: %s (2 CPUs). Expect ±30 %% run-to-run noise."
                 % ", ".join(fmt(x) for x in loads))
    L.append("- DB gap (finished_at of a worker's trial to started_at of its next one) is 0 "
             "by construction since the write-behind store: both writes go in the same "
             "transaction, and now() is its start.")
    L.append("- Each hpt configuration runs twice: once for trials/s, CPU and memory (no "
             "observer: Optuna runs without one too), and once under tcpdump for the latency "
             "columns (tcpdump competes for the same 2 CPUs; the trials/s of that second run "
             "are in `dispatch.csv` as trials_per_s_under_pcap). `PCAP=0` skips the second run.")
    L.append("")
    warn_lines = [(r["processes"], w) for r in hpt_rows for w in r.get("_warnings", [])]
    if warn_lines:
        L.append("Coordinator warnings seen (first lines per run):")
        L.append("")
        L.append("```")
        for n, w in warn_lines:
            L.append("[%d workers] %s" % (n, w))
        L.append("```")
        L.append("")
    L.append(METHOD)
    with open(args.md, "w") as f:
        f.write("\n".join(L) + "\n")


METHOD = """## Method

- **One PostgreSQL** for everything: `HPT_HOME=$(mktemp -d) hpt db start`, its
  `hpt db url` passed as `--db` to every hpt command; stopped at the end. Each
  hpt run is its own study in that database; Optuna gets its own database in
  the same cluster (Optuna's `studies`/`trials` tables would collide with hpt's).
- **hpt run**: the N `hpt-worker --connect tcp://127.0.0.1:PORT` daemons
  start first, as long-lived daemons on GPU nodes would be, and get 1 s + N/100 s
  to come up (ZeroMQ retries the connection until the port is bound); then
  the coordinator `hpt study run NAME --bind tcp://127.0.0.1:PORT` starts (no
  `--local-workers`, so the workers' CPU is not counted as the
  coordinator's). `--start-order coordinator` starts the workers once the
  coordinator listens instead; on 2 CPUs that puts the start of N processes
  inside the measured span (about 0.9 s of 3.3 s at 64 workers). The run
  ends when the coordinator exits (all n_trials finished); the workers are
  then sent SIGTERM.
- **trials/s** = COMPLETE trials / (max(`finished_at`) − min(`started_at`)) of
  the study, from the `trials` table (both are PostgreSQL `now()` of the
  coordinator's transactions). Every one of them was committed by then
  (fsync on); the coordinator's wall time (incl. startup) is in the csv.
- **assignment latency** (p50/p99/mean) is measured *on the wire*, in a
  second run of the same configuration (so that tcpdump, which competes for
  the same CPUs, does not slow the throughput run): tcpdump
  records the coordinator's port on loopback; `pcap_latency.py` reassembles
  each worker's TCP connection, parses the ZMTP frames and the protobuf
  Envelope tag (assign = 5, complete = 8, failed = 9, heartbeat = 10) and
  takes, for every TrialComplete/TrialFailed a worker sends, the time until
  the next TrialAssign to that worker. This includes queueing in the
  coordinator behind other workers' results and all database writes, and
  excludes only the worker's own microseconds. Cross-checks: with a noop
  objective a worker is always waiting for the coordinator, so the mean
  cycle (wire latency + the worker's own time to wake up, read the
  assignment and answer) = N / rate (Little's law, column "N / rate", with
  the middle-80 % rate); the difference to the wire mean is the time spent
  in the worker processes, which grows with N on 2 CPUs; "DB gap" is the
  coordinator-internal part seen in the table (`finished_at` of trial k →
  `started_at` of the next trial on the same worker).
- **coordinator CPU and peak RSS**: `os.wait4()` on the coordinator process
  (user + system seconds, `ru_maxrss`), i.e. the whole `study run` from
  start to exit. "PG backends CPU" is the growth of the postmaster's
  cutime+cstime (`/proc/PID/stat`) over the run: the CPU of backends that
  exited during it (the coordinator's connection), an approximation of the
  database's share. commits/trial and WAL fsyncs/trial come from
  `pg_stat_database.xact_commit` and `pg_stat_wal.wal_sync`.
- **Optuna**: `optuna.create_study(..., sampler=RandomSampler)` on
  `postgresql+psycopg2://hpt@/DB?host=HPT_HOME/run&port=5432`, then P
  processes each `load_study` + `study.optimize(objective, n_trials=K/P)`
  with `objective = x + y` (`suggest_float` ×2). Rate = COMPLETE trials /
  (max(`datetime_complete`) − min(`datetime_start`)) from Optuna's `trials`
  table (Python start-up and imports excluded, which favours Optuna).
- **Ray Tune** (`ray_tune_noop.py`, one fresh `ray.init(num_cpus=os.cpu_count())`
  per configuration, not timed): `tune.Tuner(tune.with_resources(noop,
  {"cpu": num_cpus / C}), param_space={x, y: tune.uniform(0, 1)},
  TuneConfig(num_samples=K, max_concurrent_trials=C))`, the default search
  (BasicVariantGenerator: random) and scheduler (FIFO); the function trainable
  reports `x + y` once with `tune.report`. Ray gives a trial 1 CPU by default,
  so on 2 CPUs only 2 would run at once: the fractional CPU lets C run. Two
  configurations: Ray's defaults (`reuse_actors=False`: every trial is a new
  actor, i.e. a new Python worker process) and `reuse_actors=True` (actors
  kept between trials, Ray's documented speed-up). Rate = trials /
  (max(report time) − min(function start time)), both `time.time()` inside
  the trainable; Tuner.fit's wall time is in the csv (`fit_trials_per_s`).
  Ray keeps the state in memory and writes result files and periodic
  snapshots under a temporary `storage_path`: no trial is durable when it is
  reported, unlike hpt's.
- Everything runs on the same machine (coordinator, workers, PostgreSQL,
  tcpdump, the driver), so the worker count also measures contention for the
  CPUs listed above.
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--workers", default="1,8,64,256")
    ap.add_argument("--optuna-trials", type=int, default=2000)
    ap.add_argument("--optuna-procs", type=int, default=8)
    ap.add_argument("--timeout", type=int, default=0, help="per hpt run, seconds")
    ap.add_argument("--md", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--no-pcap", action="store_true")
    ap.add_argument("--start-order", choices=["workers", "coordinator"], default="workers",
                    help="start the worker daemons before the coordinator (default) or after")
    ap.add_argument("--no-optuna", action="store_true")
    ap.add_argument("--ray-concurrency", default="1,8",
                    help="concurrent Ray Tune trials, comma-separated; empty: no Ray")
    ap.add_argument("--ray-modes", default="fresh,reuse",
                    help="fresh (Ray's default reuse_actors=False) and/or reuse")
    ap.add_argument("--ray-trials", type=int, default=1000, help="with reuse_actors=True")
    ap.add_argument("--ray-fresh-trials", type=int, default=100,
                    help="with Ray's default reuse_actors=False (~0.6-1.5 trials/s here)")
    ap.add_argument("--keep", action="store_true", help="keep HPT_HOME, logs and pcaps")
    args = ap.parse_args()
    args.hpt = os.path.join(args.build_dir, "hpt")
    args.worker = os.path.join(args.build_dir, "hpt-worker")
    if args.timeout <= 0:
        args.timeout = 60 + args.trials // 40
    repo = os.path.dirname(os.path.dirname(HERE))

    home = tempfile.mkdtemp(prefix="hpt-bench-dispatch-")
    os.chmod(home, 0o755)  # as root, the cluster runs as postgres
    env = dict(os.environ, HPT_HOME=home)
    os.environ["HPT_HOME"] = home
    os.environ.pop("HPT_DB", None)
    log("HPT_HOME=%s" % home)
    subprocess.run([args.hpt, "db", "start"], check=True, env=env, stdout=subprocess.DEVNULL)
    rows = []
    try:
        url = subprocess.run([args.hpt, "db", "url"], check=True, env=env, capture_output=True,
                             text=True).stdout.strip()
        log("database %s" % url)
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        bt = "?"
        try:
            with open(os.path.join(args.build_dir, "CMakeCache.txt")) as f:
                for line in f:
                    if line.startswith("CMAKE_BUILD_TYPE:"):
                        bt = line.strip().split("=", 1)[1]
        except OSError:
            pass
        envinfo = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   "cpu": cpu, "ncpu": os.cpu_count(), "kernel": platform.release(),
                   "pg": psql(url, "show server_version")[0][0], "git": git_rev(repo),
                   "build_type": bt}
        tag = time.strftime("%H%M%S")
        for n in [int(x) for x in args.workers.split(",") if x]:
            # Throughput without an observer (Optuna runs without one too);
            # then the same run again under tcpdump for the wire latency.
            row = run_hpt(args, url, home, n, tag)
            if not args.no_pcap:
                timed = run_hpt(args, url, home, n, tag, capture=True)
                for key in ("lat_p50_ms", "lat_p99_ms", "lat_mean_ms", "lat_samples",
                            "db_gap_p50_ms", "db_gap_p99_ms", "pcap_dropped",
                            "pcap_broken_streams"):
                    if key in timed:
                        row[key] = timed[key]
                row["trials_per_s_under_pcap"] = timed["trials_per_s"]
            rows.append(row)
            write_report(args, rows, envinfo)
        if not args.no_optuna:
            rows.append(run_optuna(args, home, tag))
            write_report(args, rows, envinfo)
        for mode in [m for m in args.ray_modes.split(",") if m]:
            for n in [int(x) for x in args.ray_concurrency.split(",") if x]:
                row = run_ray(args, n, mode == "reuse")
                if row is not None:
                    rows.append(row)
                    write_report(args, rows, envinfo)
        envinfo["fsync"] = fsync_rate()
        write_report(args, rows, envinfo)
        log("wrote %s and %s" % (args.md, args.csv))
    finally:
        subprocess.run([args.hpt, "db", "stop"], env=env, stdout=subprocess.DEVNULL)
        if args.keep:
            log("kept %s" % home)
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
