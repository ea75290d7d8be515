/* fuzz.h: what every libFuzzer target here shares.
 *
 * Owns the input conventions (fields split on NUL bytes) and the rule that
 * a GLib critical or warning is a crash: a g_return_if_fail() that fires on
 * fuzzed input is a bug the fuzzer must stop at, not log and walk past. */
#pragma once

#include <glib.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static inline void
fuzz_glib_fatal (void)
{
  g_log_set_always_fatal (
      G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* DATA split at every NUL byte: N+1 fields for N NULs, each a fresh
 * NUL-terminated copy (so ASan sees reads past a field's end). */
static inline char **
fuzz_split (const uint8_t *data, size_t size, guint *n_fields)
{
  GPtrArray *fields = g_ptr_array_new ();
  size_t start = 0;

  for (size_t i = 0; i <= size; i++) {
    if (i == size || data[i] == '\0') {
      g_ptr_array_add (fields,
          g_strndup ((const char *) data + start, i - start));
      start = i + 1;
    }
  }
  *n_fields = fields->len;
  g_ptr_array_add (fields, NULL);
  return (char **) g_ptr_array_free (fields, FALSE);
}

/* Field I, or NULL when the input has fewer fields: an absent header. */
static inline const char *
fuzz_field (char **fields, guint n, guint i)
{
  return i < n ? fields[i] : NULL;
}
