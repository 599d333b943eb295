/* fuzz_wire.c — the wire decoder on arbitrary bytes: what hpt_wire_receive
 * does with a frame once ZeroMQ hands it over (shared/wire.c), without a
 * socket, and then what each side does with the decoded message when that
 * needs no socket or database:
 *
 *   - hpt__envelope__unpack, then the body check and hpt_wire_body_name;
 *   - a re-pack round trip: pack(unpack(x)) unpacks to a message that packs
 *     to the same bytes, and frees cleanly;
 *   - Hello: the coordinator's hpt__worker_describe (fixed-size copies of
 *     id, host, device and tags) and capability matching against a few
 *     require sections (coordinator/dispatcher_workers.c, require.c);
 *   - TrialAssign: the worker's instant noop objective on the params, as
 *     worker/daemon.c's run_instant_noop answers it. */
#include "dispatcher_internal.h"
#include "fuzz_util.h"
#include "objective.h"
#include "require.h"
#include "wire.h"

static hpt_options_t requires[3];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  hpt_error_t error;
  const char *tags[] = {"h200", "fast"};
  if (hpt_options_add(&requires[0], "device", "cuda", 1, &error) < 0 ||
      hpt_options_add(&requires[0], "gpu_mem_gb", ">=40", 1, &error) < 0 ||
      hpt_options_add_list(&requires[1], "tags", tags, 2, 1, &error) < 0 ||
      hpt_options_add(&requires[2], "memory_gb", "<80", 1, &error) < 0)
    abort();
  for (int i = 0; i < 3; i++)
    if (hpt_require_validate(&requires[i], &error) < 0) {
      fprintf(stderr, "fuzz_wire: require %d: %s\n", i, error.message);
      abort();
    }
  return 0;
}

/* Whether `message` or one inside it kept an unknown field numbered 0.
 * protobuf-c 1.4 accepts field number 0 when its key is a multi-byte
 * varint (0x80 0x00) and keeps it as an unknown field, but refuses the
 * one-byte key 0x00 it packs it back as: such a message does not survive
 * a re-pack. hpt never re-packs what it receives, so this is protobuf-c's
 * leniency and not an hpt bug; the round trip skips those messages. */
static bool has_field_zero(const ProtobufCMessage *message) {
  for (unsigned i = 0; i < message->n_unknown_fields; i++)
    if (message->unknown_fields[i].tag == 0)
      return true;
  const ProtobufCMessageDescriptor *d = message->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
      continue;
    const char *base = (const char *)message;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      uint32_t which;
      memcpy(&which, base + f->quantifier_offset, sizeof which);
      if (which != f->id)
        continue;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n;
      ProtobufCMessage **items;
      memcpy(&n, base + f->quantifier_offset, sizeof n);
      memcpy(&items, base + f->offset, sizeof items);
      for (size_t j = 0; j < n; j++)
        if (has_field_zero(items[j]))
          return true;
    } else {
      ProtobufCMessage *item;
      memcpy(&item, base + f->offset, sizeof item);
      if (item != NULL && has_field_zero(item))
        return true;
    }
  }
  return false;
}

static uint8_t *pack(const Hpt__Envelope *envelope, size_t *size) {
  *size = hpt__envelope__get_packed_size(envelope);
  uint8_t *bytes = malloc(*size ? *size : 1);
  FUZZ_CHECK(bytes != NULL);
  FUZZ_CHECK(hpt__envelope__pack(envelope, bytes) == *size);
  return bytes;
}

static void round_trip(const Hpt__Envelope *envelope) {
  size_t size1, size2;
  uint8_t *bytes1 = pack(envelope, &size1);
  Hpt__Envelope *again = hpt__envelope__unpack(NULL, size1, bytes1);
  FUZZ_CHECK(again != NULL);
  FUZZ_CHECK(again->body_case == envelope->body_case);
  uint8_t *bytes2 = pack(again, &size2);
  FUZZ_CHECK(size1 == size2 && memcmp(bytes1, bytes2, size1) == 0);
  hpt_wire_free(again);
  free(bytes2);
  free(bytes1);
}

static void on_hello(const Hpt__Hello *hello) {
  hpt__worker_t worker;
  memset(&worker, 0, sizeof worker);
  hpt__worker_describe(&worker, hello);
  FUZZ_CHECK(worker.introduced && worker.n_tags <= HPT__MAX_TAGS);
  FUZZ_CHECK(memchr(worker.id, '\0', sizeof worker.id) != NULL);
  FUZZ_CHECK(memchr(worker.device, '\0', sizeof worker.device) != NULL);
  hpt_worker_caps_t caps;
  hpt__worker_caps(&worker, &caps);
  for (int i = 0; i < 3; i++)
    (void)hpt_require_matches(&requires[i], &caps);
}

static void on_assign(const Hpt__TrialAssign *assign) {
  if (assign->n_params > 256)
    return;
  hpt_objective_param_t params[256];
  for (size_t i = 0; i < assign->n_params; i++) {
    params[i].name = assign->params[i]->name;
    params[i].value = assign->params[i]->value;
  }
  hpt_options_t settings = {0};
  hpt_objective_call_t call = {.settings = &settings,
                               .params = params,
                               .n_params = assign->n_params};
  hpt_objective_result_t result;
  hpt_error_t error;
  FUZZ_CHECK(hpt_objective_noop_run(&call, &result, &error) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > HPT_WIRE_MAX_MESSAGE_BYTES)
    return 0; /* ZMQ_MAXMSGSIZE drops these before any decoding */
  Hpt__Envelope *envelope = hpt__envelope__unpack(NULL, size, data);
  if (envelope == NULL)
    return 0;
  FUZZ_CHECK(hpt_wire_body_name(envelope) != NULL);
  if (!has_field_zero(&envelope->base))
    round_trip(envelope);
  if (envelope->body_case == HPT__ENVELOPE__BODY_HELLO)
    on_hello(envelope->hello);
  else if (envelope->body_case == HPT__ENVELOPE__BODY_ASSIGN)
    on_assign(envelope->assign);
  hpt_wire_free(envelope);
  return 0;
}
