"""Hyperopt's side of the sampler benchmark (run.sh drives it).

The functions, optima and domains are optuna_bench.py's (imported from it,
which mirrors functions.h); only the search spaces are written again, in
hyperopt's terms:

  float [lo, hi]          hp.uniform(name, lo, hi)
  log-float [lo, hi]      hp.loguniform(name, ln lo, ln hi)
  int [1, 20]             hp.uniformint(name, 1, 20) = int(quniform(1, 20, q=1)),
                          hyperopt's ordered integer; it rounds U(1, 20), so
                          1 and 20 have half the prior mass of the others
                          (Optuna and hpt: uniform on 1..20)
  categorical {a,b,c,d}   hp.choice(name, [...]) (the objective gets the
                          choice's index 0..3, as in hpt)

  hyperopt_bench.py regret tpe FUNCTION SEED0 N_SEEDS N_TRIALS
      fmin(algo=tpe.suggest, trials=Trials(), rstate=default_rng(seed)):
      hyperopt's TPE with its defaults (n_startup_jobs 20, n_EI_candidates
      24, gamma 0.25, prior_weight 1, linear forgetting 25), in process, no
      MongoDB. Prints CSV rows impl,sampler,function,seed,trial,best_regret.
  hyperopt_bench.py timing FUNCTION N_FINISHED REPS [tpe]
      N_FINISHED COMPLETE trials drawn by hyperopt's rand.suggest (one
      batch, inserted into a Trials), then times REPS calls of
      tpe.suggest([new_id], domain, trials, seed) (nothing is inserted
      between repetitions). Prints CSV rows
      impl,sampler,function,n_finished,rep,seconds.
"""

import math
import os
import sys
import time

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, hp, rand, tpe
from hyperopt.base import JOB_STATE_DONE, Domain

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optuna_bench import FUNCTIONS, main, time_asks  # noqa: E402  (the definitions and optima; the timing loop and command line)

CHOICES = ["a", "b", "c", "d"]


def five(lo, hi):
    return [(f"x{i}", hp.uniform(f"x{i}", lo, hi)) for i in range(5)]


# Lists of (name, expression) in hpt's parameter order.
SPACES = {
    "branin": [("x0", hp.uniform("x0", -5, 10)), ("x1", hp.uniform("x1", 0, 15))],
    "hartmann6": [(f"x{i}", hp.uniform(f"x{i}", 0, 1)) for i in range(6)],
    "rosenbrock5": five(-5, 10),
    "ackley5": five(-32.768, 32.768),
    "styblinski_tang5": five(-5, 5),
    "mixed": [("x", hp.uniform("x", -5, 5)), ("y", hp.uniform("y", -5, 5)),
              ("lr", hp.loguniform("lr", math.log(1e-4), math.log(1.0))),
              ("n", hp.uniformint("n", 1, 20)),
              ("c", hp.choice("c", CHOICES))],
}


def vector(order, params):
    """The evaluated space (a dict) as hpt's internal vector."""
    return [CHOICES.index(params[k]) if k == "c" else float(params[k]) for k in order]


def regret(sampler_name, function, seed0, n_seeds, n_trials):
    if sampler_name != "tpe":
        raise SystemExit("hyperopt_bench.py: only tpe")
    _, optimum, f = FUNCTIONS[function]
    order = [k for k, _ in SPACES[function]]
    space = dict(SPACES[function])
    for seed in range(seed0, seed0 + n_seeds):
        state = {"best": math.inf, "done": 0}

        def objective(params):
            value = f(vector(order, params))
            state["best"] = min(state["best"], value)
            state["done"] += 1
            done = state["done"]
            if done in (50, 100, 200) or done == n_trials:
                print(f"hyperopt,{sampler_name},{function},{seed},{done},"
                      f"{state['best'] - optimum:.10g}")
            return {"loss": value, "status": STATUS_OK}

        fmin(objective, space, algo=tpe.suggest, max_evals=n_trials, trials=Trials(),
             rstate=np.random.default_rng(seed), show_progressbar=False)
        if state["done"] != n_trials:
            raise SystemExit(f"fmin ran {state['done']} of {n_trials} trials")
        sys.stdout.flush()


def timing(function, n_finished, reps, sampler_name):
    _, _, f = FUNCTIONS[function]
    order = [k for k, _ in SPACES[function]]
    space = dict(SPACES[function])
    domain = Domain(lambda p: {"loss": f(vector(order, p)), "status": STATUS_OK}, space)
    trials = Trials()
    docs = rand.suggest(list(range(n_finished)), domain, trials, 7)
    for doc in docs:
        vals = doc["misc"]["vals"]
        x = [float(vals[k][0]) for k in order]
        for i, k in enumerate(order):
            if k == "n":  # uniformint: int(quniform), as the objective would see it
                x[i] = float(int(x[i]))
        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"loss": f(x), "status": STATUS_OK}
    trials.insert_trial_docs(docs)
    trials.refresh()
    assert len(trials.trials) == n_finished
    def ask(r):
        start = time.perf_counter()
        new = tpe.suggest([n_finished + r], domain, trials, 1000 + r)
        elapsed = time.perf_counter() - start
        assert len(new) == 1
        return elapsed
    time_asks("hyperopt", sampler_name, function, n_finished, reps, ask)


if __name__ == "__main__":
    main(sys.argv, regret, timing, __doc__)
