/* metrics.h — the coordinator's metrics as plain data, and their rendering
 * in the Prometheus text exposition format (version 0.0.4).
 *
 * No I/O and no handles: histograms are caller-storage structs that the
 * dispatcher fills (hpt_histogram_observe), a snapshot gathers what one
 * scrape shows, and hpt_metrics_render turns it into text. The HTTP
 * endpoint that serves the text is metrics_http.h.
 *
 * Text format: one "# HELP" and one "# TYPE" line per family, then its
 * samples `name{label="value",...} value`. Label values escape backslash,
 * double quote and newline (\\, \", \n); HELP text escapes backslash and
 * newline. Histogram buckets are cumulative, end with le="+Inf", and are
 * followed by _sum and _count.
 *
 * Use from one thread (the coordinator's loop).
 */
#ifndef HPT_METRICS_H
#define HPT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "study.h"

#define HPT_HISTOGRAM_MAX_BOUNDS 24

/* A histogram with fixed upper bounds (seconds). Caller storage. */
typedef struct hpt_histogram {
  /* read-only after hpt_histogram_init */
  size_t n_bounds;
  double bounds[HPT_HISTOGRAM_MAX_BOUNDS]; /* ascending upper bounds */
  /* private: observations per bucket, not cumulative; [n_bounds] counts
   * those above the last bound (the +Inf bucket) */
  uint64_t counts[HPT_HISTOGRAM_MAX_BOUNDS + 1];
  uint64_t count; /* read-only: all observations */
  double sum;     /* read-only: their sum */
} hpt_histogram_t;

/* Latency bounds in seconds, 0.5 ms to 10 s, for hpt_histogram_init. */
extern const double hpt_metrics_latency_bounds[];
extern const size_t hpt_metrics_latency_n_bounds;

/* Empties `histogram` and sets its bounds (ascending; at most
 * HPT_HISTOGRAM_MAX_BOUNDS, more are ignored). Cannot fail. */
void hpt_histogram_init(hpt_histogram_t *histogram, const double *bounds,
                        size_t n_bounds);

/* Counts one observation in the first bucket whose bound is >= value. NaN
 * is ignored. Cannot fail. */
void hpt_histogram_observe(hpt_histogram_t *histogram, double value);

/* A growing text buffer. Caller storage: _init, append, _close. */
typedef struct hpt_metrics_text {
  char *data;      /* read-only: NUL-terminated (NULL before any append) */
  size_t length;   /* read-only */
  size_t capacity; /* private */
  bool failed;     /* read-only: an allocation failed; text is incomplete */
} hpt_metrics_text_t;

void hpt_metrics_text_init(hpt_metrics_text_t *text);

/* Frees the buffer; the struct can be initialised again. */
void hpt_metrics_text_close(hpt_metrics_text_t *text);

/* Appends `value` as a label value, escaped (without the quotes). On
 * allocation failure sets text->failed and appends nothing more. */
void hpt_metrics_escape_label(hpt_metrics_text_t *text, const char *value);

/* A label pair for the sample writers; both strings borrowed. */
typedef struct hpt_metrics_label {
  const char *name;
  const char *value;
} hpt_metrics_label_t;

/* "# HELP name help\n# TYPE name type\n"; type is "gauge", "counter" or
 * "histogram". */
void hpt_metrics_family(hpt_metrics_text_t *text, const char *name,
                        const char *type, const char *help);

/* One sample line: `name{labels} value`; no braces when n_labels is 0.
 * Values are printed as %.17g, NaN and infinities as NaN, +Inf, -Inf. */
void hpt_metrics_sample(hpt_metrics_text_t *text, const char *name,
                        const hpt_metrics_label_t *labels, size_t n_labels,
                        double value);

/* A histogram's samples (no HELP/TYPE): name_bucket{labels,le="B"} with
 * cumulative counts, le="+Inf", then name_sum and name_count. */
void hpt_metrics_histogram(hpt_metrics_text_t *text, const char *name,
                           const hpt_metrics_label_t *labels, size_t n_labels,
                           const hpt_histogram_t *histogram);

/* One study as a scrape sees it. */
typedef struct hpt_metrics_study {
  const char *name;              /* borrowed */
  hpt_study_progress_t progress; /* from hpt_study_progress */
} hpt_metrics_study_t;

/* Everything one scrape shows; all pointers borrowed. */
typedef struct hpt_metrics_snapshot {
  const hpt_metrics_study_t *studies;
  size_t n_studies;
  size_t workers_connected;
  const hpt_histogram_t *dispatch_latency; /* may be NULL: not shown */
  const hpt_histogram_t *db_write;         /* n_db_ops, one per op */
  const char *const *db_ops;               /* their `op` label values */
  size_t n_db_ops;
} hpt_metrics_snapshot_t;

/* Trials of a study not yet started: queued retries plus budget not yet
 * sampled. Cannot fail. */
int hpt_metrics_queue_depth(const hpt_study_progress_t *progress);

/* Appends every family to `text`: hpt_up, hpt_workers_connected,
 * hpt_trials{study,state} (state WAITING, RUNNING, COMPLETE, PRUNED, FAIL as
 * in trial_history; FAIL counts retried failures too), hpt_queue_depth,
 * hpt_study_best_value (studies with a best trial),
 * hpt_dispatch_latency_seconds and hpt_db_write_seconds{op}. Check
 * text->failed afterwards. */
void hpt_metrics_render(const hpt_metrics_snapshot_t *snapshot,
                        hpt_metrics_text_t *text);

#endif
