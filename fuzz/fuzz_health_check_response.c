/* fuzz_health_check_response: rtsp-health-check's response parsing
 * (tools/health_check_response.c), fed the way its poll loop feeds it.
 *
 * Input: one byte of set-up, then the bytes the peer sends. The set-up byte
 * picks HTTP or RTSP (bit 0) and how many pieces the answer arrives in
 * (the rest), since the tool judges again after every recv(). Each piece
 * is judged from a fresh buffer of exactly the bytes received so far, so a
 * read past them is an ASan report, not a silent read of later bytes. */
#include "fuzz.h"

#include "health_check_response.h"
#include "rtsp_wire.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

/* The promises hc_response_judge() makes to the tool. */
static void
check (int rc, const HcResponse *r, const char *buf, size_t len)
{
  switch (rc) {
    case HC_MORE:
      if (r->body_owned)
        abort ();
      break;
    case HC_OK:
      if (r->status < 100 || r->status > 599 || !r->body)
        abort ();
      if (r->body_owned) {
        if (r->body != r->body_owned || r->body_len > len)
          abort ();
      } else if (r->body < buf || r->body + r->body_len > buf + len) {
        abort ();
      }
      break;
    case HC_FAIL:
      if (r->body_owned || r->why[0] == '\0'
          || memchr (r->why, '\n', sizeof r->why))
        abort ();
      break;
    default:
      abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  HcKind kind;
  size_t pieces, step, len = 0;
  int rc = HC_MORE;

  if (size < 1)
    return 0;
  kind = data[0] & 1 ? HC_RTSP : HC_HTTP;
  pieces = 1 + (data[0] >> 1) % 8;
  data++;
  size--;
  step = size / pieces ? size / pieces : 1;

  while (rc == HC_MORE) {
    HcResponse r;
    int eof;
    char *buf;

    len = len + step < size ? len + step : size;
    eof = len == size;
    /* malloc (0) may be NULL; the tool's buffer never is. */
    buf = malloc (len ? len : 1);
    memcpy (buf, data, len);
    rc = hc_response_judge (kind, buf, len, eof, &r);
    check (rc, &r, buf, len);
    /* What check_http does with a whole answer. */
    if (rc == HC_OK && kind == HC_HTTP)
      (void) wire_body_is_healthy (r.body, r.body_len);
    free (r.body_owned);
    free (buf);
    if (rc == HC_MORE && eof)
      abort (); /* at EOF every answer is judged */
  }
  return 0;
}
