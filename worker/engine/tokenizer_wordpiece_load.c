/* tokenizer_wordpiece_load.c — loading the WordPiece tokenizer from a
 * vocab.txt or a tokenizers tokenizer.json; see tokenizer_wordpiece.h. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "token_vocab.h"
#include "tokenizer_wordpiece_internal.h"

void hpt_wordpiece_options_default(hpt_wordpiece_options_t *o) {
  *o = (hpt_wordpiece_options_t){
      .clean_text = true,
      .handle_chinese_chars = true,
      .lowercase = true,
      .strip_accents = -1,
      .max_input_chars_per_word = 100,
      .continuing_subword_prefix = "##",
      .unk_token = "[UNK]",
      .cls_token = "[CLS]",
      .sep_token = "[SEP]",
      .pad_token = "[PAD]",
      .mask_token = "[MASK]",
  };
}

void hpt_wordpiece_destroy(hpt_wordpiece_t **wp) {
  if (wp == NULL || *wp == NULL)
    return;
  hpt_wordpiece_t *w = *wp;
  hpt_token_vocab_destroy(&w->vocab);
  for (size_t i = 0; i < w->n_tokens; i++)
    free(w->tokens[i]);
  free(w->tokens);
  for (size_t i = 0; i < w->n_specials; i++)
    free((char *)w->specials[i].content);
  free(w->specials);
  free(w->prefix);
  free(w);
  *wp = NULL;
}

static int wp_new(const char *what, hpt_wordpiece_t **out, hpt_error_t *error) {
  *out = calloc(1, sizeof **out);
  if (*out == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  return hpt_token_vocab_new(&(*out)->vocab, error);
}

/* Adds token[0..len) with `id` to both directions of the vocabulary. */
static int add_token(hpt_wordpiece_t *wp, const char *what, const char *token,
                     size_t len, int64_t id, hpt_error_t *error) {
  if (id < 0 || id >= MAX_VOCAB_IDS)
    return HPT_ERR(error, HPT_EPARSE, "%s: token id %lld out of range", what,
                   (long long)id);
  int rc = hpt_token_check_utf8(token, len, what, error);
  if (rc != 0)
    return rc;
  if ((size_t)id >= wp->n_tokens) {
    size_t n = (size_t)id + 1, cap = 1024;
    while (cap < n)
      cap *= 2;
    char **tokens = realloc(wp->tokens, cap * sizeof *tokens);
    if (tokens == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
    memset(tokens + wp->n_tokens, 0, (cap - wp->n_tokens) * sizeof *tokens);
    wp->tokens = tokens;
    wp->n_tokens = n;
  }
  if (wp->tokens[id] == NULL && (wp->tokens[id] = strndup(token, len)) == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  return hpt_token_vocab_put(wp->vocab, token, len, (int32_t)id, error);
}

static int add_special(hpt_wordpiece_t *wp, const char *what,
                       const char *content, int32_t id, bool lstrip,
                       bool rstrip, hpt_error_t *error) {
  if (content[0] == '\0')
    return HPT_ERR(error, HPT_EPARSE, "%s: empty added token", what);
  hpt_token_special_t *s =
      realloc(wp->specials, (wp->n_specials + 1) * sizeof *s);
  if (s == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  wp->specials = s;
  s += wp->n_specials;
  *s = (hpt_token_special_t){
      .content = strdup(content), .id = id, .lstrip = lstrip, .rstrip = rstrip};
  if (s->content == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  wp->n_specials++;
  return 0;
}

static int resolve(const hpt_wordpiece_t *wp, const char *what,
                   const char *token, int32_t *id, hpt_error_t *error) {
  *id = hpt_token_vocab_get(wp->vocab, token, strlen(token));
  if (*id < 0)
    return HPT_ERR(error, HPT_EPARSE, "%s: the vocabulary has no '%s'", what,
                   token);
  return 0;
}

int hpt_wordpiece_load_vocab(const char *path,
                             const hpt_wordpiece_options_t *options,
                             hpt_wordpiece_t **out, hpt_error_t *error) {
  hpt_wordpiece_options_t defaults;
  hpt_wordpiece_options_default(&defaults);
  const hpt_wordpiece_options_t *o = options ? options : &defaults;
  *out = NULL;
  if (o->max_input_chars_per_word == 0 ||
      o->continuing_subword_prefix == NULL || o->unk_token == NULL ||
      o->cls_token == NULL || o->sep_token == NULL || o->pad_token == NULL)
    return HPT_ERR(error, HPT_EINVAL, "%s: incomplete wordpiece options", path);
  char *text = NULL;
  size_t len = 0;
  hpt_wordpiece_t *wp = NULL;
  int rc = hpt_token_read_file(path, (size_t)64 << 20, &text, &len, error);
  if (rc != 0 || (rc = wp_new(path, &wp, error)) != 0)
    goto out;
  wp->clean_text = o->clean_text;
  wp->handle_chinese_chars = o->handle_chinese_chars;
  wp->lowercase = o->lowercase;
  wp->strip_accents = o->strip_accents < 0 ? o->lowercase : o->strip_accents;
  wp->max_chars = o->max_input_chars_per_word;
  wp->prefix_len = strlen(o->continuing_subword_prefix);
  if ((wp->prefix = strdup(o->continuing_subword_prefix)) == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  /* As tokenizers' WordPiece::read_file: lines, trailing whitespace cut. */
  int64_t id = 0;
  for (size_t at = 0; at < len; id++) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
    while (n > 0 && (text[at + n - 1] == '\r' || text[at + n - 1] == ' ' ||
                     text[at + n - 1] == '\t'))
      n--;
    if ((rc = add_token(wp, path, text + at, n, id, error)) != 0)
      goto out;
    at = end + 1;
  }
  if (id == 0) {
    rc = HPT_ERR(error, HPT_EPARSE, "%s: empty vocabulary", path);
    goto out;
  }
  if ((rc = resolve(wp, path, o->unk_token, &wp->unk_id, error)) ||
      (rc = resolve(wp, path, o->cls_token, &wp->cls_id, error)) ||
      (rc = resolve(wp, path, o->sep_token, &wp->sep_id, error)) ||
      (rc = resolve(wp, path, o->pad_token, &wp->pad_id, error)))
    goto out;
  const char *specials[] = {o->pad_token, o->unk_token, o->cls_token,
                            o->sep_token, o->mask_token};
  for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
    int32_t sid;
    if (specials[i] != NULL &&
        (sid = hpt_wordpiece_token_id(wp, specials[i])) >= 0 &&
        (rc = add_special(wp, path, specials[i], sid, false, false, error)))
      goto out;
  }
  *out = wp;
  wp = NULL;
out:
  hpt_wordpiece_destroy(&wp);
  free(text);
  return rc;
}

/* Requires object[key].type == type. */
static int expect_type(const json_t *root, const char *what, const char *key,
                       const char *type, json_t **component,
                       hpt_error_t *error) {
  *component = json_object_get(root, key);
  const char *t = json_string_value(json_object_get(*component, "type"));
  if (t == NULL || strcmp(t, type) != 0)
    return HPT_ERR(error, HPT_EUNSUPPORTED, "%s: %s must be %s, not %s", what,
                   key, type, t ? t : "absent");
  return 0;
}

/* [CLS] and [SEP] ids from a TemplateProcessing or BertProcessing. */
static int parse_post(hpt_wordpiece_t *wp, const char *what, const json_t *post,
                      hpt_error_t *error) {
  const char *type = json_string_value(json_object_get(post, "type"));
  if (type != NULL && strcmp(type, "BertProcessing") == 0) {
    json_t *cls = json_object_get(post, "cls"),
           *sep = json_object_get(post, "sep");
    if (!json_is_integer(json_array_get(cls, 1)) ||
        !json_is_integer(json_array_get(sep, 1)))
      return HPT_ERR(error, HPT_EPARSE, "%s: BertProcessing needs cls, sep",
                     what);
    wp->cls_id = (int32_t)json_integer_value(json_array_get(cls, 1));
    wp->sep_id = (int32_t)json_integer_value(json_array_get(sep, 1));
  } else if (type != NULL && strcmp(type, "TemplateProcessing") == 0) {
    json_t *single = json_object_get(post, "single");
    json_t *map = json_object_get(post, "special_tokens");
    const char *first = json_string_value(json_object_get(
        json_object_get(json_array_get(single, 0), "SpecialToken"), "id"));
    const char *a = json_string_value(json_object_get(
        json_object_get(json_array_get(single, 1), "Sequence"), "id"));
    const char *last = json_string_value(json_object_get(
        json_object_get(json_array_get(single, 2), "SpecialToken"), "id"));
    if (json_array_size(single) != 3 || first == NULL || last == NULL ||
        a == NULL || strcmp(a, "A") != 0)
      return HPT_ERR(error, HPT_EUNSUPPORTED,
                     "%s: post_processor.single must be [special, $A, special]",
                     what);
    json_t *f = json_object_get(json_object_get(map, first), "ids");
    json_t *l = json_object_get(json_object_get(map, last), "ids");
    if (json_array_size(f) != 1 || json_array_size(l) != 1 ||
        !json_is_integer(json_array_get(f, 0)) ||
        !json_is_integer(json_array_get(l, 0)))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: post_processor.special_tokens lacks one id for "
                     "'%s' or '%s'",
                     what, first, last);
    wp->cls_id = (int32_t)json_integer_value(json_array_get(f, 0));
    wp->sep_id = (int32_t)json_integer_value(json_array_get(l, 0));
  } else {
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: post_processor must be TemplateProcessing or "
                   "BertProcessing",
                   what);
  }
  if (hpt_wordpiece_id_token(wp, wp->cls_id) == NULL ||
      hpt_wordpiece_id_token(wp, wp->sep_id) == NULL)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: post_processor ids are not in the vocabulary", what);
  return 0;
}

int hpt_wordpiece_load_json(const char *path, hpt_wordpiece_t **out,
                            hpt_error_t *error) {
  *out = NULL;
  json_t *root = NULL, *norm, *pre, *model;
  hpt_wordpiece_t *wp = NULL;
  int rc = hpt_json_load_file(path, (size_t)64 << 20, &root, error);
  if (rc != 0 || (rc = wp_new(path, &wp, error)) != 0)
    goto out;
  if ((rc = expect_type(root, path, "normalizer", "BertNormalizer", &norm,
                        error)) ||
      (rc = expect_type(root, path, "pre_tokenizer", "BertPreTokenizer", &pre,
                        error)) ||
      (rc = expect_type(root, path, "model", "WordPiece", &model, error)))
    goto out;
  bool strip = false;
  wp->clean_text = wp->handle_chinese_chars = wp->lowercase = true;
  if ((rc = hpt_json_member_bool(norm, "clean_text", path, &wp->clean_text,
                                 error)) < 0 &&
      rc != HPT_ENOTFOUND)
    goto out;
  if ((rc = hpt_json_member_bool(norm, "handle_chinese_chars", path,
                                 &wp->handle_chinese_chars, error)) < 0 &&
      rc != HPT_ENOTFOUND)
    goto out;
  if ((rc = hpt_json_member_bool(norm, "lowercase", path, &wp->lowercase,
                                 error)) < 0 &&
      rc != HPT_ENOTFOUND)
    goto out;
  rc = hpt_json_member_bool(norm, "strip_accents", path, &strip, error);
  if (rc < 0 && rc != HPT_ENOTFOUND)
    goto out;
  wp->strip_accents = rc == HPT_ENOTFOUND ? wp->lowercase : strip;

  int64_t max_chars = 100;
  const char *unk = "[UNK]", *prefix = "##";
  if (((rc = hpt_json_member_int(model, "max_input_chars_per_word", 1, 1 << 20,
                                 path, &max_chars, error)) < 0 &&
       rc != HPT_ENOTFOUND) ||
      ((rc = hpt_json_member_string(model, "unk_token", path, &unk, error)) <
           0 &&
       rc != HPT_ENOTFOUND) ||
      ((rc = hpt_json_member_string(model, "continuing_subword_prefix", path,
                                    &prefix, error)) < 0 &&
       rc != HPT_ENOTFOUND))
    goto out;
  wp->max_chars = (size_t)max_chars;
  wp->prefix_len = strlen(prefix);
  if ((wp->prefix = strdup(prefix)) == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  json_t *vocab = json_object_get(model, "vocab");
  if (!json_is_object(vocab) || json_object_size(vocab) == 0) {
    rc = HPT_ERR(error, HPT_EPARSE,
                 "%s: model.vocab must be a non-empty "
                 "object",
                 path);
    goto out;
  }
  const char *key;
  json_t *value;
  json_object_foreach(vocab, key, value) {
    if (!json_is_integer(value)) {
      rc = HPT_ERR(error, HPT_EPARSE, "%s: vocab id of '%s' is not an integer",
                   path, key);
      goto out;
    }
    if (hpt_wordpiece_id_token(wp, (int32_t)json_integer_value(value))) {
      rc = HPT_ERR(error, HPT_EPARSE, "%s: vocab id %lld is used twice", path,
                   (long long)json_integer_value(value));
      goto out;
    }
    if ((rc = add_token(wp, path, key, strlen(key), json_integer_value(value),
                        error)) != 0)
      goto out;
  }
  json_t *added = json_object_get(root, "added_tokens");
  size_t i;
  json_array_foreach(added, i, value) {
    const char *content = json_string_value(json_object_get(value, "content"));
    json_t *id = json_object_get(value, "id");
    if (content == NULL || !json_is_integer(id)) {
      rc = HPT_ERR(error, HPT_EPARSE,
                   "%s: added_tokens[%zu] lacks content "
                   "or id",
                   path, i);
      goto out;
    }
    if (json_is_true(json_object_get(value, "normalized")) ||
        json_is_true(json_object_get(value, "single_word"))) {
      rc = HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: added token '%s' is "
                   "normalized or single_word",
                   path, content);
      goto out;
    }
    if ((rc = add_token(wp, path, content, strlen(content),
                        json_integer_value(id), error)) ||
        (rc = add_special(wp, path, content, (int32_t)json_integer_value(id),
                          json_is_true(json_object_get(value, "lstrip")),
                          json_is_true(json_object_get(value, "rstrip")),
                          error)))
      goto out;
  }
  if ((rc = resolve(wp, path, unk, &wp->unk_id, error)) ||
      (rc = parse_post(wp, path, json_object_get(root, "post_processor"),
                       error)))
    goto out;
  json_t *pad = json_object_get(json_object_get(root, "padding"), "pad_id");
  if (json_is_integer(pad) &&
      hpt_wordpiece_id_token(wp, (int32_t)json_integer_value(pad)) != NULL)
    wp->pad_id = (int32_t)json_integer_value(pad);
  else if ((rc = resolve(wp, path, "[PAD]", &wp->pad_id, error)) != 0)
    goto out;
  *out = wp;
  wp = NULL;
  rc = 0;
out:
  hpt_wordpiece_destroy(&wp);
  json_decref(root);
  return rc;
}
