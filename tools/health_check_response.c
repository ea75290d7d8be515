/* health_check_response: see health_check_response.h.
 *
 * BUF is whatever recv() has delivered: not NUL-terminated, possibly cut
 * anywhere, possibly hostile. Nothing here reads at or past LEN. */
#include "health_check_response.h"

#include "rtsp_wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
ascii_ncaseeq (const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = (char) (x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = (char) (y - 'A' + 'a');
    if (x != y)
      return 0;
  }
  return 1;
}

/* 1 when header NAME (lowercase) has TOKEN in its value. */
static int
header_has (const char *hdr, size_t len, const char *name, const char *token)
{
  size_t nlen = strlen (name), tlen = strlen (token);
  const char *end = hdr + len;

  for (const char *line = hdr; line < end;) {
    const char *eol = memchr (line, '\n', (size_t) (end - line));
    const char *stop = eol ? eol : end;

    if ((size_t) (stop - line) > nlen && ascii_ncaseeq (line, name, nlen)
        && line[nlen] == ':') {
      for (const char *v = line + nlen + 1; v + tlen <= stop; v++)
        if (ascii_ncaseeq (v, token, tlen))
          return 1;
    }
    line = eol ? eol + 1 : end;
  }
  return 0;
}

/* Decodes a chunked body. Returns 1 when it is complete (OUT gets it,
 * malloc'd), 0 when more is needed, -1 when malformed. */
static int
dechunk (const char *in, size_t len, char **out, size_t *out_len)
{
  char *dst = malloc (len + 1);
  size_t i = 0, o = 0;

  if (!dst)
    return -1;
  for (;;) {
    size_t size = 0;
    int digits = 0;
    const char *eol;

    while (i < len) {
      char c = in[i];
      int d = c >= '0' && c <= '9' ? c - '0'
          : c >= 'a' && c <= 'f'   ? c - 'a' + 10
          : c >= 'A' && c <= 'F'   ? c - 'A' + 10
                                   : -1;
      if (d < 0)
        break;
      size = size * 16 + (size_t) d;
      if (size > HC_MAX_RESPONSE)
        goto malformed;
      digits++;
      i++;
    }
    if (i >= len)
      goto more;
    if (!digits)
      goto malformed;
    /* Chunk extensions (";name=value") are skipped up to the line end. */
    eol = memchr (in + i, '\n', len - i);
    if (!eol)
      goto more;
    i = (size_t) (eol - in) + 1;
    if (size == 0) {
      /* Trailer fields, up to and including the blank line. */
      for (;;) {
        const char *nl = memchr (in + i, '\n', len - i);
        size_t line_len;
        if (!nl)
          goto more;
        line_len = (size_t) (nl - (in + i));
        i += line_len + 1;
        if (line_len == 0 || (line_len == 1 && in[i - 2] == '\r')) {
          *out = dst;
          *out_len = o;
          return 1;
        }
      }
    }
    if (len - i < size + 2)
      goto more;
    memcpy (dst + o, in + i, size);
    o += size;
    i += size;
    if (in[i] == '\r')
      i++;
    if (in[i] != '\n')
      goto malformed;
    i++;
  }
more:
  free (dst);
  return 0;
malformed:
  free (dst);
  return -1;
}

static int fail (HcResponse *r, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
fail (HcResponse *r, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (r->why, sizeof r->why, fmt, ap);
  va_end (ap);
  return HC_FAIL;
}

static int
succeed (HcResponse *r, const char *body, size_t body_len)
{
  r->body = body;
  r->body_len = body_len;
  return HC_OK;
}

int
hc_response_judge (HcKind kind, const char *buf, size_t len, int eof,
    HcResponse *r)
{
  const char *proto = kind == HC_HTTP ? "HTTP/" : "RTSP/";
  size_t plen = len < 5 ? len : 5;
  size_t hdr;
  long cl;

  memset (r, 0, sizeof *r);
  r->status = -1;
  /* Garbage is refused at once rather than waited on until the deadline. */
  if (plen > 0 && memcmp (buf, proto, plen) != 0)
    return fail (r, "answered something that is not %.4s", proto);
  hdr = wire_header_end (buf, len);
  if (hdr == 0) {
    if (!eof)
      return HC_MORE;
    return fail (r, "%s",
        len ? "closed the connection mid-answer"
            : "closed the connection without answering");
  }
  r->status = wire_status_code (buf, hdr, kind == HC_HTTP ? "HTTP" : "RTSP");
  if (r->status < 0)
    return fail (r, "answered something that is not an %.4s/1.x status line",
        proto);

  if (kind == HC_HTTP
      && header_has (buf, hdr, "transfer-encoding", "chunked")) {
    int rc = dechunk (buf + hdr, len - hdr, &r->body_owned, &r->body_len);
    if (rc < 0)
      return fail (r, "answered %d with a malformed chunked body", r->status);
    if (rc == 0)
      return eof ? fail (r, "closed the connection mid-body") : HC_MORE;
    r->body = r->body_owned;
    return HC_OK;
  }

  cl = wire_content_length (buf, hdr);
  if (cl == -2)
    return fail (r, "answered %d with a bad Content-Length", r->status);
  /* RTSP without a length has no body, nor do these HTTP statuses; other
   * HTTP answers without one end at EOF (the tool asks for
   * Connection: close). */
  if (cl == -1
      && (kind == HC_RTSP || r->status < 200 || r->status == 204
          || r->status == 304))
    cl = 0;
  if (cl >= 0 && len - hdr >= (size_t) cl)
    return succeed (r, buf + hdr, (size_t) cl);
  if (!eof)
    return HC_MORE;
  if (cl >= 0)
    return fail (r, "closed the connection mid-body");
  return succeed (r, buf + hdr, len - hdr);
}
