/* fuzz_rtsp_wire: src/rtsp_wire.c on arbitrary bytes, used the way the
 * server's probe (src/probe.c) and rtsp-health-check use it, and the
 * RTP-Info edit of a live camera's PLAY answer (src/rtsp_servers.c).
 *
 * Input: the bytes a peer sent, as one buffer. Besides ASan and UBSan, the
 * target checks each function's promises from rtsp_wire.h, since callers
 * index buffers with what these return. */
#define _GNU_SOURCE /* memmem */

#include "fuzz.h"

#include "rtsp_wire.h"

#include <stdlib.h>
#include <string.h>

/* The probe reads into a 4 KiB buffer (src/probe.c). */
#define PROBE_BUFFER 4096

static void
check_status (int code)
{
  if (code != -1 && (code < 100 || code > 599))
    abort ();
}

/* The probe's judgement of one answer: status, then for DESCRIBE an SDP of
 * Content-Length bytes that must offer video. */
static void
judge_like_probe (const char *buf, size_t len)
{
  size_t hdr = wire_header_end (buf, len);
  long clen;

  if (hdr == 0)
    return;
  if (wire_status_code (buf, len, "RTSP") != 200)
    return;
  clen = wire_content_length (buf, hdr);
  if (clen < 0 || clen >= (long) PROBE_BUFFER - (long) hdr)
    return;
  if (len >= hdr + (size_t) clen)
    (void) !memmem (buf + hdr, (size_t) clen, "m=video", 7);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

/* The bytes as an RTP-Info value (up to a NUL, as gst-rtsp-server's
 * header is a string): an edit changes only the seq it names. */
static void
edit_rtpinfo (const char *buf, size_t len)
{
  char *text = malloc (len + 1);
  char *out;
  size_t n;

  if (!text)
    return;
  memcpy (text, buf, len);
  text[len] = '\0';
  n = strlen (text);
  out = wire_rtpinfo_set_seq (text, "stream=0", 65535);
  if (out) {
    const char *at = strstr (out, ";seq=65535");
    /* What went was ";seq=" and digits, or nothing after "seq=". */
    if (!at || strlen (out) > n + 5)
      abort ();
    free (out);
  }
  free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *buf = (const char *) data;
  size_t hdr = wire_header_end (buf, size);
  size_t hlen = hdr ? hdr : size;
  const char *body = hdr ? buf + hdr : buf;
  size_t body_len = hdr ? size - hdr : size;
  long cl;
  int healthy;

  if (hdr != 0
      && (hdr < 4 || hdr > size || memcmp (buf + hdr - 4, "\r\n\r\n", 4)))
    abort ();
  check_status (wire_status_code (buf, size, "RTSP"));
  check_status (wire_status_code (buf, size, "HTTP"));
  check_status (wire_status_code (buf, hlen, "RTSP"));
  cl = wire_content_length (buf, hlen);
  if (cl < -2 || cl > 16L * 1024 * 1024)
    abort ();
  healthy = wire_body_is_healthy (body, body_len);
  if (healthy != 0 && healthy != 1)
    abort ();
  if (wire_body_is_healthy (buf, size) == 1
      && !memmem (buf, size, "\"healthy\"", 9))
    abort ();
  judge_like_probe (buf, size < PROBE_BUFFER ? size : PROBE_BUFFER);
  edit_rtpinfo (buf, size);
  return 0;
}
