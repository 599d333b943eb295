"""optuna_worker.py STORAGE STUDY N_TRIALS — one Optuna process of the
dispatch benchmark: loads the study from the RDB storage and runs N_TRIALS
trials of the same trivial objective hpt's noop computes (sum of the params)."""
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    return trial.suggest_float("x", 0.0, 1.0) + trial.suggest_float("y", 0.0, 1.0)


def main():
    storage, name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    study = optuna.load_study(study_name=name, storage=storage,
                              sampler=optuna.samplers.RandomSampler())
    study.optimize(objective, n_trials=n_trials)


if __name__ == "__main__":
    main()
