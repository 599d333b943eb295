"""chaos.py — hpt under SIGKILLs (run by bench/chaos/run.sh; NOT a test).

A dedicated PostgreSQL; one study (noop objective with sleep + steps, median
pruner, max_retries 3); W worker daemons started here, each in its own
process group (so a SIGKILLed daemon's orphaned trial process can be reaped
at the end) and independent of the coordinator; a loop that SIGKILLs a random
worker every few seconds and starts a replacement (half the time under the
same id, half under a new one); the coordinator (`hpt study run NAME --bind
...`, no --local-workers) SIGKILLed at 1/3 and 2/3 of the budget and started
again. Then checks the trials table and writes a markdown report.
Bounded in time; stops everything it started; loopback only.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SPEC = """name: {name}
direction: maximize
n_trials: {n_trials}
max_parallel: {workers}
max_retries: {max_retries}
sampler: {{type: random, seed: 7}}
pruner: {{type: median, n_startup_trials: 10, n_warmup_steps: 2}}
params:
  x: {{type: float, low: 0, high: 1}}
  y: {{type: float, low: 0, high: 1}}
  kind: {{type: categorical, choices: [a, b, c]}}
objective: {{type: noop, sleep_ms: {sleep_ms}, steps: {steps}}}
"""

T0 = time.monotonic()
EVENTS = []


def log(msg):
    line = "[chaos %6.1fs] %s" % (time.monotonic() - T0, msg)
    EVENTS.append(line)
    print(line, flush=True)


def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-AtX", "-F", "|", "-c", sql],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return [line.split("|") for line in out.stdout.strip().splitlines() if line]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Chaos:
    def __init__(self, args):
        self.args = args
        self.hpt = os.path.join(args.build_dir, "hpt")
        self.worker_bin = os.path.join(args.build_dir, "hpt-worker")
        self.home = tempfile.mkdtemp(prefix="hpt-bench-chaos-")
        os.chmod(self.home, 0o755)
        self.env = dict(os.environ, HPT_HOME=self.home)
        self.env.pop("HPT_DB", None)
        self.url = None
        self.port = free_port()
        self.endpoint = "tcp://127.0.0.1:%d" % self.port
        self.name = "chaos-%s" % time.strftime("%H%M%S")
        self.workers = {}  # slot -> (Popen, id)
        self.dead_workers = []  # Popen of killed daemons (process groups to sweep)
        self.coord = None
        self.coord_runs = 0
        self.coord_exits = []
        self.worker_kills = 0
        self.reused_ids = set()  # ids a replacement worker took over
        self.killed_ids = set()
        self.generation = 0
        self.rng = random.Random(args.seed)
        self.wlog = None
        self.clog = None

    # -- processes ---------------------------------------------------------
    def start_worker(self, slot, same_id):
        if same_id and slot in self.workers:
            wid = self.workers[slot][1]
        else:
            self.generation += 1
            wid = "chaos-w%02d-g%d" % (slot, self.generation)
        proc = subprocess.Popen([self.worker_bin, "--connect", self.endpoint, "--id", wid,
                                 "--insecure", "--log-level", "info"],
                                stdout=subprocess.DEVNULL, stderr=self.wlog,
                                start_new_session=True)
        self.workers[slot] = (proc, wid)
        return wid

    def start_coordinator(self):
        self.coord_runs += 1
        self.clog.write("==== coordinator run %d (t=%.1fs)\n" % (self.coord_runs,
                                                              time.monotonic() - T0))
        self.clog.flush()
        self.coord = subprocess.Popen(
            [self.hpt, "--db", self.url, "--log-level", "info", "study", "run", self.name,
             "--bind", self.endpoint, "--insecure", "--grace-ms", str(self.args.grace_ms)],
            stdout=self.clog, stderr=subprocess.STDOUT, start_new_session=True)
        log("coordinator started (run %d, pid %d)" % (self.coord_runs, self.coord.pid))

    def kill_coordinator(self):
        os.kill(self.coord.pid, signal.SIGKILL)
        code = self.coord.wait()
        self.coord_exits.append(code)
        log("coordinator SIGKILLed (run %d)" % self.coord_runs)

    def kill_random_worker(self):
        slot = self.rng.choice(sorted(self.workers))
        proc, wid = self.workers[slot]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        self.dead_workers.append(proc)
        self.worker_kills += 1
        same = self.rng.random() < 0.5
        time.sleep(self.rng.uniform(0.0, 1.0))
        self.killed_ids.add(wid)
        new = self.start_worker(slot, same)
        if same:
            self.reused_ids.add(new)
        log("worker %s SIGKILLed; replacement %s (%s id)" % (wid, new, "same" if same else "new"))

    def sweep(self):
        procs = [p for p, _ in self.workers.values()] + self.dead_workers
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the daemon and any orphaned trial process
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.coord is not None and self.coord.poll() is None:
            os.killpg(self.coord.pid, signal.SIGKILL)
            self.coord.wait()

    # -- the run -----------------------------------------------------------
    def finished(self):
        rows = psql(self.url, """
          select count(*) filter (where t.state in ('COMPLETE', 'PRUNED', 'FAIL')
                                    and not exists (select 1 from trials r
                                                     where r.study_id = t.study_id
                                                       and r.retry_of = t.number))
            from trials t join studies s on s.id = t.study_id where s.name = '%s'""" % self.name)
        return int(rows[0][0])

    def run(self):
        a = self.args
        subprocess.run([self.hpt, "db", "start"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        self.url = subprocess.run([self.hpt, "db", "url"], env=self.env, check=True,
                                  capture_output=True, text=True).stdout.strip()
        spec = os.path.join(self.home, "chaos.yaml")
        with open(spec, "w") as f:
            f.write(SPEC.format(name=self.name, n_trials=a.trials, workers=a.workers,
                                max_retries=a.max_retries, sleep_ms=a.sleep_ms, steps=a.steps))
        subprocess.run([self.hpt, "--db", self.url, "study", "create", spec], check=True,
                       stdout=subprocess.DEVNULL)
        log("study %s: %d trials, %d workers, noop sleep_ms=%d steps=%d, max_retries=%d, "
            "grace %d ms, %s" % (self.name, a.trials, a.workers, a.sleep_ms, a.steps,
                                 a.max_retries, a.grace_ms, self.endpoint))
        self.wlog = open(os.path.join(self.home, "workers.log"), "w")
        self.clog = open(os.path.join(self.home, "coordinator.log"), "w")
        self.start_coordinator()
        time.sleep(0.5)
        for slot in range(a.workers):
            self.start_worker(slot, False)
        thresholds = [a.trials // 3, 2 * a.trials // 3]
        deadline = T0 + a.time_limit
        next_kill = time.monotonic() + a.kill_every
        done_ok = False
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if self.coord.poll() is not None:
                code = self.coord.returncode
                self.coord_exits.append(code)
                log("coordinator exited by itself with status %d" % code)
                done_ok = code == 0
                break
            try:
                fin = self.finished()
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                log("progress query failed: %s" % e)
                continue
            if thresholds and fin >= thresholds[0]:
                thresholds.pop(0)
                log("%d/%d trials finished" % (fin, a.trials))
                self.kill_coordinator()
                time.sleep(a.coordinator_down_s)
                self.start_coordinator()
                continue
            if time.monotonic() >= next_kill:
                next_kill = time.monotonic() + self.rng.uniform(0.5, 1.5) * a.kill_every
                self.kill_random_worker()
        else:
            log("time limit of %ds reached: stopping" % a.time_limit)
        log("run ended: %d coordinator starts, %d worker SIGKILLs" % (self.coord_runs,
                                                                    self.worker_kills))
        self.sweep()
        self.wlog.close()
        self.clog.close()
        return done_ok

    # -- checks ------------------------------------------------------------
    def check(self, done_ok):
        a = self.args
        q = lambda sql: psql(self.url, sql % {"name": self.name})  # noqa: E731
        sid = q("select id from studies where name = '%(name)s'")[0][0]
        base = "from trials where study_id = %s" % sid
        states = dict((r[0], int(r[1])) for r in psql(self.url, "select state, count(*) %s "
                                                                 "group by state" % base))
        total = sum(states.values())
        sampled = int(psql(self.url, "select count(*) %s and retry_of is null" % base)[0][0])
        retries = int(psql(self.url, "select count(*) %s and retry_of is not null" % base)[0][0])
        study_state = q("select state from studies where name = '%(name)s'")[0][0]
        dup_numbers = psql(self.url, "select number, count(*) %s group by number "
                                     "having count(*) > 1" % base)
        dup_retry_of = psql(self.url, "select retry_of, count(*) %s and retry_of is not null "
                                      "group by retry_of having count(*) > 1" % base)
        retry_of_non_fail = psql(self.url, """
          select r.number, r.retry_of, coalesce(o.state, 'missing') from trials r
            left join trials o on o.study_id = r.study_id and o.number = r.retry_of
           where r.study_id = %s and r.retry_of is not null
             and coalesce(o.state, 'missing') <> 'FAIL'""" % sid)
        params_differ = psql(self.url, """
          select r.number from trials r join trials o
            on o.study_id = r.study_id and o.number = r.retry_of
           where r.study_id = %s and
                 (select jsonb_object_agg(name, value) from trial_params where trial_id = r.id)
                 is distinct from
                 (select jsonb_object_agg(name, value) from trial_params where trial_id = o.id)
        """ % sid)
        # Every FAIL: retried, or its chain used max_retries + 1 attempts, or
        # failed for a reason that is not retried (an objective error).
        fails = psql(self.url, """
          with recursive chain(number, root, depth) as (
            select number, number, 1 from trials where study_id = %(sid)s and retry_of is null
            union all
            select t.number, c.root, c.depth + 1 from trials t join chain c
              on t.retry_of = c.number where t.study_id = %(sid)s)
          select t.number, c.depth,
                 exists (select 1 from trials r where r.study_id = t.study_id
                                                  and r.retry_of = t.number),
                 coalesce(t.fail_reason, '')
            from trials t join chain c on c.number = t.number
           where t.study_id = %(sid)s and t.state = 'FAIL'""" % {"sid": sid})
        fail_retried = sum(1 for f in fails if f[2] == "t")
        fail_exhausted = sum(1 for f in fails if f[2] == "f" and int(f[1]) >= a.max_retries + 1)
        fail_other = [f for f in fails if f[2] == "f" and int(f[1]) < a.max_retries + 1]
        orphan_rows = int(psql(self.url, """
          with recursive chain(number) as (
            select number from trials where study_id = %(sid)s and retry_of is null
            union all
            select t.number from trials t join chain c on t.retry_of = c.number
             where t.study_id = %(sid)s)
          select count(*) from trials where study_id = %(sid)s
             and number not in (select number from chain)""" % {"sid": sid})[0][0])
        terminal = dict((r[0], int(r[1])) for r in psql(self.url, """
          select state, count(*) %s and not exists (select 1 from trials r where
            r.study_id = trials.study_id and r.retry_of = trials.number) group by state""" % base))
        late = int(psql(self.url, "select count(*) from late_messages where study_id = %s"
                        % sid)[0][0])
        late_kinds = psql(self.url, "select kind, count(*) from late_messages where study_id = %s"
                                    " group by kind order by 1" % sid)
        reasons = psql(self.url, "select regexp_replace(fail_reason, '[0-9.]+', 'N', 'g'), count(*)"
                                 " %s and state = 'FAIL' group by 1 order by 2 desc" % base)
        # Fails no worker death explains: "restarted its session" on an id no
        # replacement took over (a duplicate Hello), "orphaned" on a worker
        # that was never killed (its result was lost with the coordinator).
        unexplained = {}
        for wid, reason in psql(self.url, "select worker_id, fail_reason %s and state = 'FAIL'"
                                % base):
            if reason == "worker restarted its session" and wid not in self.reused_ids:
                unexplained.setdefault("restarted session, id never reused", []).append(wid)
            elif reason.startswith("orphaned") and wid not in self.killed_ids:
                unexplained.setdefault("orphaned, worker never killed", []).append(wid)
            elif reason.startswith("worker ") and "lost" in reason and wid not in self.killed_ids:
                unexplained.setdefault("lost, worker never killed", []).append(wid)
        running_left = states.get("RUNNING", 0) + states.get("WAITING", 0)
        checks = [
            ("coordinator's last run finished the study and exited 0", done_ok),
            ("study state is COMPLETE", study_state == "COMPLETE"),
            ("every trial is COMPLETE, PRUNED or FAIL (no RUNNING/WAITING left)",
             running_left == 0 and set(states) <= {"COMPLETE", "PRUNED", "FAIL"}),
            ("sampled trials (retry_of is null) = n_trials (%d)" % a.trials, sampled == a.trials),
            ("rows = sampled + retries", total == sampled + retries),
            ("no trial number appears twice", not dup_numbers),
            ("no trial retried twice (retry_of unique)", not dup_retry_of),
            ("every retry points at a FAIL trial", not retry_of_non_fail),
            ("every retry has its predecessor's params", not params_differ),
            ("every row belongs to a chain starting at a sampled trial", orphan_rows == 0),
            ("every FAIL has a retry or used up max_retries (%d)" % a.max_retries,
             not fail_other),
            ("final outcomes (chain ends) = n_trials", sum(terminal.values()) == a.trials),
        ]
        ok = all(c[1] for c in checks)
        counts = {
            "rows": total, "sampled": sampled, "retries": retries, "states": states,
            "final_outcomes": terminal, "fail_retried": fail_retried,
            "fail_exhausted": fail_exhausted, "fail_not_retried_early": len(fail_other),
            "late_messages": late, "worker_kills": self.worker_kills,
            "coordinator_starts": self.coord_runs, "study_state": study_state,
            "fail_unexplained": sum(len(v) for v in unexplained.values()),
        }
        print("counts: " + ", ".join("%s=%s" % kv for kv in counts.items()))
        for name, passed in checks:
            print("%s  %s" % ("PASS" if passed else "FAIL", name))
        details = {"dup_numbers": dup_numbers, "dup_retry_of": dup_retry_of,
                   "retry_of_non_fail": retry_of_non_fail[:10], "params_differ": params_differ[:10],
                   "fail_other": fail_other[:10], "reasons": reasons, "late_kinds": late_kinds,
                   "unexplained": unexplained}
        return ok, checks, counts, details

    def logs_summary(self):
        out = {}
        for fname in ("coordinator.log", "workers.log"):
            counts = {}
            samples = {}
            try:
                with open(os.path.join(self.home, fname)) as f:
                    for line in f:
                        if "level=warn" not in line and "level=error" not in line:
                            continue
                        ev = line.split("event=", 1)[1].split()[0] if "event=" in line else "?"
                        counts[ev] = counts.get(ev, 0) + 1
                        samples.setdefault(ev, line.strip()[:300])
            except OSError:
                pass
            out[fname] = (counts, samples)
        return out

    def report(self, ok, checks, counts, details, elapsed):
        a = self.args
        L = ["# Chaos run: hpt under SIGKILLs", "",
             "Generated by `bench/chaos/run.sh` on %s (%.0f s). Result: **%s**."
             % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), elapsed,
                "all checks pass" if ok else "CHECKS FAILED"), "",
             "Setup: one dedicated PostgreSQL (`hpt db start` in a temporary HPT_HOME); study "
             "of %d trials, noop objective (`sleep_ms: %d`, `steps: %d`), median pruner, "
             "random sampler, `max_retries: %d`, `max_parallel: %d`; %d `hpt-worker` daemons "
             "started by the script, each in its own session (they survive the coordinator); "
             "every ~%.0f s a random worker is SIGKILLed and replaced (half the time under the "
             "same id); the coordinator (`hpt study run NAME --bind %s --grace-ms %d`, no "
             "`--local-workers`) is SIGKILLed when 1/3 and 2/3 of the trials have finished and "
             "started again after %.1f s. Loopback only; everything is stopped at the end."
             % (a.trials, a.sleep_ms, a.steps, a.max_retries, a.workers, a.workers,
                a.kill_every, "tcp://127.0.0.1:PORT", a.grace_ms, a.coordinator_down_s), "",
             "## Counts", "",
             "| what | count |", "|---|---:|"]
        for k in ("rows", "sampled", "retries"):
            L.append("| %s | %d |" % (k, counts[k]))
        for s, n in sorted(counts["states"].items()):
            L.append("| rows in state %s | %d |" % (s, n))
        for s, n in sorted(counts["final_outcomes"].items()):
            L.append("| final outcome %s (chain ends) | %d |" % (s, n))
        L.append("| FAIL with a retry | %d |" % counts["fail_retried"])
        L.append("| FAIL that used up max_retries | %d |" % counts["fail_exhausted"])
        L.append("| FAIL neither retried nor exhausted | %d |" % counts["fail_not_retried_early"])
        L.append("| late messages recorded | %d |" % counts["late_messages"])
        L.append("| worker SIGKILLs | %d |" % counts["worker_kills"])
        L.append("| coordinator starts (2 SIGKILLs) | %d |" % counts["coordinator_starts"])
        L += ["", "## Checks", ""]
        for name, passed in checks:
            L.append("- %s %s" % ("PASS" if passed else "**FAIL**", name))
        L += ["", "Fail reasons (digits folded):", "", "| reason | count |", "|---|---:|"]
        for r in details["reasons"]:
            L.append("| %s | %s |" % (r[0].replace("|", "/")[:160], r[1]))
        if details["unexplained"]:
            L += ["", "FAILs that no SIGKILL of *that* worker explains (the checks allow them: they "
                  "were retried; they are wasted work):", ""]
            for k, v in details["unexplained"].items():
                L.append("- %s: %d (%s)" % (k, len(v), ", ".join(sorted(set(v)))))
        if details["late_kinds"]:
            L += ["", "Late messages by kind: " + ", ".join("%s %s" % (k, n)
                                                            for k, n in details["late_kinds"])]
        for key in ("dup_numbers", "dup_retry_of", "retry_of_non_fail", "params_differ",
                    "fail_other"):
            if details[key]:
                L += ["", "`%s` (first rows): `%s`" % (key, details[key])]
        L += ["", "## Warnings and errors in the logs", ""]
        for fname, (counts_, samples) in self.logs_summary().items():
            L.append("%s: %s" % (fname, ", ".join("%s ×%d" % kv for kv in sorted(
                counts_.items(), key=lambda kv: -kv[1])) or "none"))
            L.append("")
            if samples:
                L.append("```")
                for ev, line in samples.items():
                    L.append(line)
                L.append("```")
                L.append("")
        L += ["## Timeline", "", "```"] + EVENTS + ["```", ""]
        with open(a.md, "w") as f:
            f.write("\n".join(L) + "\n")

    def cleanup(self):
        try:
            self.sweep()
        except Exception as e:  # noqa: BLE001
            print("cleanup: %s" % e, file=sys.stderr)
        subprocess.run([self.hpt, "db", "stop"], env=self.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if self.args.keep:
            print("kept %s" % self.home)
        else:
            shutil.rmtree(self.home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--sleep-ms", type=int, default=500)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--max-retries", type=int, default=3)
    ap.add_argument("--kill-every", type=float, default=2.0)
    ap.add_argument("--grace-ms", type=int, default=3000)
    ap.add_argument("--coordinator-down-s", type=float, default=2.0)
    ap.add_argument("--time-limit", type=int, default=480)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--md", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    c = Chaos(args)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ok = False
    try:
        done_ok = c.run()
        ok, checks, counts, details = c.check(done_ok)
        c.report(ok, checks, counts, details, time.monotonic() - T0)
        print("wrote %s" % args.md)
    finally:
        c.cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
