/* metrics.c — see metrics.h. The format is Prometheus' text exposition
 * format, version 0.0.4. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double hpt_metrics_latency_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,  0.5,    1,     2.5,  5,     10,
};
const size_t hpt_metrics_latency_n_bounds =
    sizeof hpt_metrics_latency_bounds / sizeof hpt_metrics_latency_bounds[0];

/* ---- histograms ---------------------------------------------------------- */

void hpt_histogram_init(hpt_histogram_t *h, const double *bounds,
                        size_t n_bounds) {
  memset(h, 0, sizeof *h);
  if (n_bounds > HPT_HISTOGRAM_MAX_BOUNDS)
    n_bounds = HPT_HISTOGRAM_MAX_BOUNDS;
  memcpy(h->bounds, bounds, n_bounds * sizeof *bounds);
  h->n_bounds = n_bounds;
}

void hpt_histogram_observe(hpt_histogram_t *h, double value) {
  if (isnan(value))
    return;
  size_t i = 0;
  while (i < h->n_bounds && value > h->bounds[i])
    i++;
  h->counts[i]++;
  h->count++;
  h->sum += value;
}

/* ---- text buffer --------------------------------------------------------- */

void hpt_metrics_text_init(hpt_metrics_text_t *text) {
  memset(text, 0, sizeof *text);
}

void hpt_metrics_text_close(hpt_metrics_text_t *text) {
  free(text->data);
  memset(text, 0, sizeof *text);
}

static bool reserve(hpt_metrics_text_t *text, size_t more) {
  if (text->failed)
    return false;
  if (text->length + more + 1 <= text->capacity)
    return true;
  size_t capacity = text->capacity ? text->capacity : 4096;
  while (capacity < text->length + more + 1)
    capacity *= 2;
  char *grown = realloc(text->data, capacity);
  if (grown == NULL) {
    text->failed = true;
    return false;
  }
  text->data = grown;
  text->capacity = capacity;
  return true;
}

static void append(hpt_metrics_text_t *text, const char *bytes, size_t length) {
  if (!reserve(text, length))
    return;
  memcpy(text->data + text->length, bytes, length);
  text->length += length;
  text->data[text->length] = '\0';
}

static void append_str(hpt_metrics_text_t *text, const char *s) {
  append(text, s, strlen(s));
}

static void append_escaped(hpt_metrics_text_t *text, const char *s,
                           bool quotes) {
  for (; *s != '\0'; s++) {
    if (*s == '\\')
      append(text, "\\\\", 2);
    else if (*s == '\n')
      append(text, "\\n", 2);
    else if (*s == '"' && quotes)
      append(text, "\\\"", 2);
    else
      append(text, s, 1);
  }
}

void hpt_metrics_escape_label(hpt_metrics_text_t *text, const char *value) {
  append_escaped(text, value, true);
}

static void append_value(hpt_metrics_text_t *text, double value) {
  char buffer[64];
  if (isnan(value))
    snprintf(buffer, sizeof buffer, "NaN");
  else if (isinf(value))
    snprintf(buffer, sizeof buffer, "%s", value > 0 ? "+Inf" : "-Inf");
  else
    snprintf(buffer, sizeof buffer, "%.17g", value);
  append_str(text, buffer);
}

/* `{a="x",b="y"` plus an optional extra label, then `}`; nothing at all
 * when there are no labels. */
static void append_labels(hpt_metrics_text_t *text,
                          const hpt_metrics_label_t *labels, size_t n_labels,
                          const char *extra_name, const char *extra_value) {
  if (n_labels == 0 && extra_name == NULL)
    return;
  append(text, "{", 1);
  for (size_t i = 0; i < n_labels; i++) {
    if (i > 0)
      append(text, ",", 1);
    append_str(text, labels[i].name);
    append(text, "=\"", 2);
    hpt_metrics_escape_label(text, labels[i].value);
    append(text, "\"", 1);
  }
  if (extra_name != NULL) {
    if (n_labels > 0)
      append(text, ",", 1);
    append_str(text, extra_name);
    append(text, "=\"", 2);
    hpt_metrics_escape_label(text, extra_value);
    append(text, "\"", 1);
  }
  append(text, "}", 1);
}

/* ---- families and samples ------------------------------------------------ */

void hpt_metrics_family(hpt_metrics_text_t *text, const char *name,
                        const char *type, const char *help) {
  append_str(text, "# HELP ");
  append_str(text, name);
  append(text, " ", 1);
  append_escaped(text, help, false);
  append_str(text, "\n# TYPE ");
  append_str(text, name);
  append(text, " ", 1);
  append_str(text, type);
  append(text, "\n", 1);
}

static void sample_line(hpt_metrics_text_t *text, const char *name,
                        const char *suffix, const hpt_metrics_label_t *labels,
                        size_t n_labels, const char *extra_name,
                        const char *extra_value, double value) {
  append_str(text, name);
  append_str(text, suffix);
  append_labels(text, labels, n_labels, extra_name, extra_value);
  append(text, " ", 1);
  append_value(text, value);
  append(text, "\n", 1);
}

void hpt_metrics_sample(hpt_metrics_text_t *text, const char *name,
                        const hpt_metrics_label_t *labels, size_t n_labels,
                        double value) {
  sample_line(text, name, "", labels, n_labels, NULL, NULL, value);
}

void hpt_metrics_histogram(hpt_metrics_text_t *text, const char *name,
                           const hpt_metrics_label_t *labels, size_t n_labels,
                           const hpt_histogram_t *h) {
  uint64_t cumulative = 0;
  char le[64];
  for (size_t i = 0; i < h->n_bounds; i++) {
    cumulative += h->counts[i];
    snprintf(le, sizeof le, "%g", h->bounds[i]);
    sample_line(text, name, "_bucket", labels, n_labels, "le", le,
                (double)cumulative);
  }
  cumulative += h->counts[h->n_bounds];
  sample_line(text, name, "_bucket", labels, n_labels, "le", "+Inf",
              (double)cumulative);
  sample_line(text, name, "_sum", labels, n_labels, NULL, NULL, h->sum);
  sample_line(text, name, "_count", labels, n_labels, NULL, NULL,
              (double)h->count);
}

/* ---- the coordinator's families ------------------------------------------ */

int hpt_metrics_queue_depth(const hpt_study_progress_t *p) {
  /* Each sampled trial ends in exactly one of waiting (a queued retry),
   * running or finished; retried failures were replaced by their retry. */
  int sampled = p->waiting + p->running + p->finished;
  int unsampled = p->n_trials > sampled ? p->n_trials - sampled : 0;
  return p->waiting + unsampled;
}

void hpt_metrics_render(const hpt_metrics_snapshot_t *s,
                        hpt_metrics_text_t *text) {
  hpt_metrics_family(text, "hpt_up", "gauge",
                     "1 while the coordinator is serving.");
  hpt_metrics_sample(text, "hpt_up", NULL, 0, 1);

  hpt_metrics_family(text, "hpt_workers_connected", "gauge",
                     "Workers connected to the coordinator.");
  hpt_metrics_sample(text, "hpt_workers_connected", NULL, 0,
                     (double)s->workers_connected);

  hpt_metrics_family(text, "hpt_trials", "gauge",
                     "Trials of each study by state (FAIL includes retried "
                     "failures).");
  for (size_t i = 0; i < s->n_studies; i++) {
    const hpt_study_progress_t *p = &s->studies[i].progress;
    const struct {
      const char *state;
      int count;
    } states[] = {{"WAITING", p->waiting},
                  {"RUNNING", p->running},
                  {"COMPLETE", p->complete},
                  {"PRUNED", p->pruned},
                  {"FAIL", p->failed + p->retried}};
    for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
      hpt_metrics_label_t labels[] = {{"study", s->studies[i].name},
                                      {"state", states[k].state}};
      hpt_metrics_sample(text, "hpt_trials", labels, 2, states[k].count);
    }
  }

  hpt_metrics_family(text, "hpt_queue_depth", "gauge",
                     "Trials waiting to start: queued retries plus budget "
                     "not yet started.");
  for (size_t i = 0; i < s->n_studies; i++) {
    hpt_metrics_label_t label = {"study", s->studies[i].name};
    hpt_metrics_sample(text, "hpt_queue_depth", &label, 1,
                       hpt_metrics_queue_depth(&s->studies[i].progress));
  }

  hpt_metrics_family(text, "hpt_study_best_value", "gauge",
                     "Objective value of each study's best trial so far.");
  for (size_t i = 0; i < s->n_studies; i++) {
    if (!s->studies[i].progress.has_best)
      continue;
    hpt_metrics_label_t label = {"study", s->studies[i].name};
    hpt_metrics_sample(text, "hpt_study_best_value", &label, 1,
                       s->studies[i].progress.best_value);
  }

  if (s->dispatch_latency != NULL) {
    hpt_metrics_family(text, "hpt_dispatch_latency_seconds", "histogram",
                       "Time from a worker becoming idle (joining or "
                       "finishing a trial) to its next assignment being "
                       "sent.");
    hpt_metrics_histogram(text, "hpt_dispatch_latency_seconds", NULL, 0,
                          s->dispatch_latency);
  }

  if (s->n_db_ops > 0) {
    hpt_metrics_family(text, "hpt_db_write_seconds", "histogram",
                       "Latency of the coordinator's database writes, by "
                       "operation.");
    for (size_t i = 0; i < s->n_db_ops; i++) {
      hpt_metrics_label_t label = {"op", s->db_ops[i]};
      hpt_metrics_histogram(text, "hpt_db_write_seconds", &label, 1,
                            &s->db_write[i]);
    }
  }
}
