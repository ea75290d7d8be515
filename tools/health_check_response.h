/* health_check_response: rtsp-health-check's judgement of the bytes a peer
 * has sent so far, for one HTTP or RTSP request.
 *
 * Owns the framing rules the tool applies (status line, Content-Length,
 * chunked bodies, EOF-framed HTTP bodies) and the one-line reason when a
 * response is refused. Pure and libc only, like rtsp_wire which it builds
 * on: the tool's poll loop feeds it, and so does fuzz/. */
#pragma once

#include <stddef.h>

typedef enum {
  HC_HTTP,
  HC_RTSP,
} HcKind;

enum {
  HC_MORE = 0, /* a whole response has not arrived yet */
  HC_OK = 1,   /* a whole response: STATUS and BODY hold it */
  HC_FAIL = -1 /* hopeless or malformed: WHY says why */
};

typedef struct {
  int status;       /* the status code, -1 until a status line is read */
  const char *body; /* into the caller's buffer, or BODY_OWNED */
  size_t body_len;
  char *body_owned; /* a decoded chunked body (malloc'd), else NULL */
  char why[128];
} HcResponse;

/* Judges BUF[0..LEN), all that has arrived; EOF when the peer has closed.
 * Returns HC_MORE, HC_OK or HC_FAIL. R is overwritten on every call; free
 * R->body_owned after HC_OK. */
int hc_response_judge (HcKind kind, const char *buf, size_t len, int eof,
    HcResponse *r);

/* Largest response the tool reads, and largest chunk size it accepts. */
#define HC_MAX_RESPONSE (1024 * 1024)
