"""ray_tune_noop.py — the Ray Tune side of the dispatch benchmark (driver.py
runs it; one process per configuration so every run gets a fresh Ray).

  ray_tune_noop.py --trials N --concurrency C [--reuse-actors] [--cpus K]

The workload of hpt's `noop` objective: 2 float params x, y ~ U(0, 1), value
= x + y, no sleep, no steps; Ray Tune's default search (BasicVariantGenerator,
i.e. random sampling from param_space), no scheduler (FIFO), no stopper.

Ray counts CPUs: a trial asks for 1 CPU by default, so on this 2-CPU machine
at most 2 would run at once. Each trial therefore asks for K / C CPUs
(`tune.with_resources`), with ray.init(num_cpus=K), K = os.cpu_count(), so
that C trials run at once (max_concurrent_trials = C as well).

Times: the trainable records time.time() when its function starts and just
before tune.report; the span is max(end) - min(start) over all trials (the
analogue of hpt's max(finished_at) - min(started_at) and Optuna's
datetime_start/datetime_complete). Tuner.fit()'s wall time (without
ray.init) is reported as well. Prints one JSON object on stdout.

Ray Tune keeps the experiment's state in the driver's memory; it writes
result files and periodic experiment snapshots under storage_path (here a
temporary directory), but nothing is committed per trial: a driver crash
loses the trials since the last snapshot. hpt commits every trial's start and
result to PostgreSQL (fsync on) before the worker hears back.
"""
import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, required=True)
    ap.add_argument("--concurrency", type=int, required=True)
    ap.add_argument("--cpus", type=int, default=os.cpu_count())
    ap.add_argument("--reuse-actors", action="store_true",
                    help="TuneConfig(reuse_actors=True) (Ray 2.60's default is False)")
    args = ap.parse_args()

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    import ray
    from ray import tune

    def noop(config):
        start = time.time()
        value = config["x"] + config["y"]
        tune.report({"value": value, "t_start": start, "t_end": time.time()})

    storage = tempfile.mkdtemp(prefix="hpt-bench-ray-")
    t_init = time.monotonic()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 1024 * 1024, logging_level="ERROR")
    init_s = time.monotonic() - t_init
    try:
        per_trial_cpu = args.cpus / args.concurrency
        tuner = tune.Tuner(
            tune.with_resources(noop, {"cpu": per_trial_cpu}),
            param_space={"x": tune.uniform(0.0, 1.0), "y": tune.uniform(0.0, 1.0)},
            tune_config=tune.TuneConfig(num_samples=args.trials,
                                        max_concurrent_trials=args.concurrency,
                                        reuse_actors=args.reuse_actors,
                                        metric="value", mode="max"),
            run_config=tune.RunConfig(name="noop", storage_path=storage, verbose=0))
        t0 = time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        grid = tuner.fit()
        fit_s = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        starts, ends, complete, errors = [], [], 0, 0
        for result in grid:
            if result.error is not None:
                errors += 1
                continue
            m = result.metrics or {}
            if "t_start" in m and "t_end" in m:
                complete += 1
                starts.append(m["t_start"])
                ends.append(m["t_end"])
        span = (max(ends) - min(starts)) if starts else float("nan")
        # the middle 80 % of finish times, as driver.py does for hpt
        ends.sort()
        steady = float("nan")
        if len(ends) >= 10:
            lo, hi = ends[int(0.1 * (len(ends) - 1))], ends[int(0.9 * (len(ends) - 1))]
            if hi > lo:
                steady = 0.8 * len(ends) / (hi - lo)
        out = {
            "system": "ray tune %s%s" % (ray.__version__,
                                         " (reuse_actors)" if args.reuse_actors else ""),
            "processes": args.concurrency, "trials": args.trials, "complete": complete,
            "failed": errors, "unfinished": args.trials - complete - errors,
            "span_s": span, "wall_s": fit_s, "ray_init_s": init_s,
            "trials_per_s": complete / span if span and span > 0 else float("nan"),
            "fit_trials_per_s": complete / fit_s if fit_s > 0 else float("nan"),
            "steady_trials_per_s": steady,
            "cpu_per_trial": per_trial_cpu, "ray_num_cpus": args.cpus,
            "reuse_actors": args.reuse_actors,
            "driver_cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        }
    finally:
        ray.shutdown()
        shutil.rmtree(storage, ignore_errors=True)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
