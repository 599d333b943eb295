/* trial_process.h — the trial process: `hpt-worker run-trial`.
 *
 * Arguments, built by the daemon from a TrialAssign:
 *   run-trial --setting KEY=VALUE ... --setting KEY[]=ITEM ...
 *             --param NAME=VALUE ... [--params-json '{"NAME": VALUE}']
 *             [--artifact-dir DIR]
 * (`KEY[]=` appends to a list setting). It runs the objective named by the
 * `type` setting and prints one line per event on stdout, flushed at once:
 *   step N VALUE      an intermediate value (N = step, e.g. epoch)
 *   metric NAME VALUE a metric of the finished trial
 *   value VALUE       the final value (last line on success)
 *   error TEXT        why the trial failed (exit status 1)
 * It exits when its parent dies (PR_SET_PDEATHSIG), so killing a worker
 * never leaves trainings behind.
 */
#ifndef HPT_TRIAL_PROCESS_H
#define HPT_TRIAL_PROCESS_H

/* main() of the trial process; argv[0] is "run-trial". Returns the exit
 * status. */
int hpt_trial_process_main(int argc, char **argv);

#endif
