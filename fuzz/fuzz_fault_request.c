/* fuzz_fault_request: rts_fault_parse (src/faults.c), the control API's
 * JSON body, on arbitrary bytes.
 *
 * Input: the request body. The HTTP API hands libsoup's body over as it
 * came, up to 64 KiB, not NUL-terminated; so does this target. */
#include "fuzz.h"

#include "faults.h"

#include <stdlib.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_glib_fatal ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  RtsFault f;
  g_autoptr (GError) err = NULL;

  if (rts_fault_parse ((const char *) data, size, &f, &err)) {
    /* What the handler relies on: a known type, a sane expiry. */
    if (err || f.type == RTS_FAULT_NONE || f.seconds < 0 || f.seconds > 86400
        || (f.type == RTS_FAULT_DISCONNECT && f.seconds != 0)
        || (f.type == RTS_FAULT_SLOW
            && (f.ms < 1 || f.ms > RTS_FAULT_SLOW_MAX_MS))
        || (f.type != RTS_FAULT_SLOW && f.ms != 0))
      abort ();
  } else if (!err || err->domain != RTS_FAULT_ERROR || !err->message) {
    abort ();
  }
  return 0;
}
