"""Optuna's side of the sampler benchmark (run.sh drives it).

The functions, spaces and optima mirror bench/sampler/functions.h exactly;
keep the two in step.

  optuna_bench.py regret SAMPLER FUNCTION SEED0 N_SEEDS N_TRIALS
      SAMPLER: tpe (TPESampler(multivariate=False)), tpe_mv
      (TPESampler(multivariate=True), Optuna 5's default for one
      objective), random. Prints CSV rows
      impl,sampler,function,seed,trial,best_regret.
  optuna_bench.py timing FUNCTION N_FINISHED REPS [tpe|tpe_mv]
      Adds N_FINISHED COMPLETE random trials with add_trials, then times
      REPS study.ask() calls (each asked trial is told FAIL, which TPE
      ignores). Prints CSV rows impl,sampler,function,n_finished,rep,seconds.
"""

import math
import sys
import time

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)


def branin(x):
    a, b, c, r, s, t = 1, 5.1 / (4 * math.pi**2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    u = x[1] - b * x[0] * x[0] + c * x[0] - r
    return a * u * u + s * (1 - t) * math.cos(x[0]) + s


HART_ALPHA = [1.0, 1.2, 3.0, 3.2]
HART_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
          [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HART_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
          [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(6):
            d = x[j] - HART_P[i][j] * 1e-4
            inner += HART_A[i][j] * d * d
        total += HART_ALPHA[i] * math.exp(-inner)
    return -total


def rosenbrock5(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(4))


def ackley5(x):
    s1 = sum(v * v for v in x)
    s2 = sum(math.cos(2 * math.pi * v) for v in x)
    return -20 * math.exp(-0.2 * math.sqrt(s1 / 5)) - math.exp(s2 / 5) + 20 + math.e


def styblinski_tang5(x):
    return sum(v**4 - 16 * v * v + 5 * v for v in x) / 2


def mixed(v):
    offset = [0.5, 0.0, 1.0, 2.0]
    dx, dy, dl, dn = v[0] - 1, v[1] + 2, math.log10(v[2]) + 2.5, (v[3] - 7) / 3
    return dx * dx + dl * dl + dx * dl + 0.5 * dy * dy + dn * dn + offset[int(v[4])]


F = optuna.distributions.FloatDistribution
I = optuna.distributions.IntDistribution
C = optuna.distributions.CategoricalDistribution


def five(lo, hi):
    return {f"x{i}": F(lo, hi) for i in range(5)}


FUNCTIONS = {
    "branin": ({"x0": F(-5, 10), "x1": F(0, 15)}, 0.39788735772973816, branin),
    "hartmann6": ({f"x{i}": F(0, 1) for i in range(6)}, -3.322368011415515, hartmann6),
    "rosenbrock5": (five(-5, 10), 0.0, rosenbrock5),
    "ackley5": (five(-32.768, 32.768), 0.0, ackley5),
    "styblinski_tang5": (five(-5, 5), -195.83082851885705, styblinski_tang5),
    "mixed": ({"x": F(-5, 5), "y": F(-5, 5), "lr": F(1e-4, 1.0, log=True),
               "n": I(1, 20), "c": C(["a", "b", "c", "d"])}, 0.0, mixed),
}


def internal(space, params):
    """Values in hpt's internal order and representation (choice index)."""
    return [d.to_internal_repr(params[k]) if isinstance(d, C) else params[k]
            for k, d in space.items()]


def make_sampler(name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=False)
    if name == "tpe_mv":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise SystemExit(f"unknown sampler {name}")


def regret(sampler_name, function, seed0, n_seeds, n_trials):
    space, optimum, f = FUNCTIONS[function]
    for seed in range(seed0, seed0 + n_seeds):
        study = optuna.create_study(direction="minimize",
                                    sampler=make_sampler(sampler_name, seed))
        best = math.inf
        for t in range(n_trials):
            trial = study.ask(space)
            value = f(internal(space, trial.params))
            study.tell(trial, value)
            best = min(best, value)
            done = t + 1
            if done in (50, 100, 200) or done == n_trials:
                print(f"optuna,{sampler_name},{function},{seed},{done},{best - optimum:.10g}")
        sys.stdout.flush()


def timing(function, n_finished, reps, sampler_name):
    space, _, f = FUNCTIONS[function]
    rng = np.random.RandomState(7)
    trials = []
    for _ in range(n_finished):
        params = {}
        for k, d in space.items():
            if isinstance(d, C):
                params[k] = d.choices[rng.randint(len(d.choices))]
            elif isinstance(d, I):
                params[k] = int(rng.randint(d.low, d.high + 1))
            elif d.log:
                params[k] = float(math.exp(rng.uniform(math.log(d.low), math.log(d.high))))
            else:
                params[k] = float(rng.uniform(d.low, d.high))
        trials.append(optuna.trial.create_trial(
            params=params, distributions=space, value=f(internal(space, params))))
    study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler_name, 1))
    study.add_trials(trials)
    def ask(r):
        start = time.perf_counter()
        trial = study.ask(space)
        elapsed = time.perf_counter() - start
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return elapsed
    time_asks("optuna", sampler_name, function, n_finished, reps, ask)


def time_asks(impl, sampler_name, function, n_finished, reps, ask):
    """Calls ask(r) (the seconds one suggestion took) reps times; prints a
    CSV row per suggestion and the median on stderr. Shared with
    hyperopt_bench.py."""
    seconds = []
    for r in range(reps):
        seconds.append(ask(r))
        print(f"{impl},{sampler_name},{function},{n_finished},{r},{seconds[-1]:.9f}")
        sys.stdout.flush()
    print(f"{impl} {sampler_name} {function} n={n_finished}: median "
          f"{1e3 * float(np.median(seconds)):.3f} ms", file=sys.stderr)


def main(argv, regret=regret, timing=timing, usage=__doc__):
    """The command line of this file and of hyperopt_bench.py."""
    if len(argv) >= 7 and argv[1] == "regret":
        regret(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]))
    elif len(argv) >= 5 and argv[1] == "timing":
        timing(argv[2], int(argv[3]), int(argv[4]), argv[5] if len(argv) > 5 else "tpe")
    else:
        raise SystemExit(usage)


if __name__ == "__main__":
    main(sys.argv)
