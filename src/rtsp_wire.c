/* rtsp_wire: see rtsp_wire.h.
 *
 * Every function takes a length and never reads at or past it: callers hand
 * in raw socket buffers that are not NUL-terminated and may hold anything. */
#include "rtsp_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Content-Length above this is treated as hostile, not as a real answer. */
#define WIRE_MAX_CONTENT_LENGTH (16L * 1024 * 1024)

static int
is_ows (char c)
{
  return c == ' ' || c == '\t';
}

static int
is_json_ws (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char
ascii_lower (char c)
{
  return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

size_t
wire_header_end (const char *buf, size_t len)
{
  if (buf == NULL)
    return 0;
  for (size_t i = 0; i + 3 < len; i++) {
    if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r'
        && buf[i + 3] == '\n')
      return i + 4;
  }
  return 0;
}

int
wire_status_code (const char *buf, size_t len, const char *protocol)
{
  size_t plen, i;
  int code = 0;

  if (buf == NULL || protocol == NULL)
    return -1;
  plen = strlen (protocol);
  if (plen == 0)
    return -1;
  /* PROTOCOL "/1.x" SP 3DIGIT, then the rest of the line. */
  if (len < plen + 8 || memcmp (buf, protocol, plen) != 0)
    return -1;
  i = plen;
  if (memcmp (buf + i, "/1.", 3) != 0
      || (buf[i + 3] != '0' && buf[i + 3] != '1') || buf[i + 4] != ' ')
    return -1;
  i += 5;
  for (int d = 0; d < 3; d++, i++) {
    if (buf[i] < '0' || buf[i] > '9')
      return -1;
    code = code * 10 + (buf[i] - '0');
  }
  /* A status line is only trusted once its CRLF has arrived: "RTSP/1.0 2004"
   * cut after "200" must not pass for a 200. */
  if (i < len && buf[i] == ' ') {
    /* The reason phrase: printable text, tabs or bytes >= 0x80 only. */
    for (i++; i < len && buf[i] != '\r'; i++) {
      unsigned char c = (unsigned char) buf[i];
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return -1;
    }
  }
  if (i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n')
    return -1;
  return code >= 100 && code <= 599 ? code : -1;
}

/* Parses one Content-Length value in [p, end). -2 unless it is digits with
 * optional surrounding white space and no larger than the limit. */
static long
parse_length_value (const char *p, const char *end)
{
  long v = 0;
  int digits = 0;

  while (p < end && is_ows (*p))
    p++;
  while (p < end && *p >= '0' && *p <= '9') {
    v = v * 10 + (*p - '0');
    if (v > WIRE_MAX_CONTENT_LENGTH)
      return -2;
    p++;
    digits++;
  }
  while (p < end && is_ows (*p))
    p++;
  return digits && p == end ? v : -2;
}

long
wire_content_length (const char *hdr, size_t hdr_len)
{
  static const char name[] = "content-length:";
  const size_t nlen = sizeof name - 1;
  const char *end;
  const char *line;
  long found = -1;

  if (hdr == NULL)
    return -1;
  end = hdr + hdr_len;
  line = hdr;
  while (line < end) {
    const char *eol = memchr (line, '\n', (size_t) (end - line));
    const char *stop;
    size_t k = 0;
    long v;

    /* A line cut short may be a number cut short: "12" read as "1". */
    if (!eol)
      break;
    stop = eol;
    if (stop > line && stop[-1] == '\r')
      stop--;
    /* The blank line ends the header block: whatever follows is body. */
    if (stop == line)
      break;
    while (k < nlen && line + k < stop && ascii_lower (line[k]) == name[k])
      k++;
    if (k == nlen) {
      v = parse_length_value (line + nlen, stop);
      if (v == -2)
        return -2;
      /* Two different lengths make the framing ambiguous (RFC 7230 3.3.3):
       * a response like that is refused, not guessed at. */
      if (found >= 0 && found != v)
        return -2;
      found = v;
    }
    line = eol + 1;
  }
  return found;
}

/* Index just past the string whose opening quote is at START, or 0 when the
 * string is not terminated within LEN. */
static size_t
skip_json_string (const char *s, size_t start, size_t len)
{
  for (size_t i = start + 1; i < len; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return 0;
}

long
wire_body_member (const char *body, size_t len, const char *key,
    const char **value)
{
  size_t i = 0, klen = strlen (key);
  int depth = 0;
  int want_key = 0;

  if (body == NULL)
    return -1;
  while (i < len && is_json_ws (body[i]))
    i++;
  if (i >= len || body[i] != '{')
    return -1;

  /* Only a member of the outermost object counts: a nested "status" (a
   * port's, say) or one quoted inside a string says nothing about the
   * server as a whole. */
  while (i < len) {
    char c = body[i];

    if (c == '"') {
      size_t start = i;
      size_t after = skip_json_string (body, i, len);
      if (after == 0)
        return -1;
      i = after;
      if (depth != 1 || !want_key)
        continue;
      want_key = 0;
      while (i < len && is_json_ws (body[i]))
        i++;
      if (i >= len || body[i] != ':')
        return -1;
      i++;
      if (after - start != klen + 2 || memcmp (body + start + 1, key, klen))
        continue;
      while (i < len && is_json_ws (body[i]))
        i++;
      if (i >= len || body[i] != '"')
        return -1;
      after = skip_json_string (body, i, len);
      if (after == 0)
        return -1;
      *value = body + i + 1;
      return (long) (after - i - 2);
    }
    if (c == '{' || c == '[') {
      depth++;
      want_key = depth == 1;
    } else if (c == '}' || c == ']') {
      /* The outermost object closed without the member. */
      if (--depth <= 0)
        return -1;
    } else if (c == ',' && depth == 1) {
      want_key = 1;
    }
    i++;
  }
  return -1;
}

int
wire_body_is_healthy (const char *body, size_t len)
{
  const char *v = NULL;

  return wire_body_member (body, len, "status", &v) == 7
      && memcmp (v, "healthy", 7) == 0;
}

/* The entry [S, E) of an RTP-Info header: where its seq parameter starts
 * (its ';') and ends, when its url's last segment is CONTROL. */
static int
entry_seq (const char *s, const char *e, const char *control, const char **seq,
    const char **seq_end)
{
  const char *url, *url_end, *seg, *p;
  size_t n = strlen (control);

  while (s < e && is_ows (*s))
    s++;
  if (e - s < 4 || memcmp (s, "url=", 4) != 0)
    return 0;
  url = s + 4;
  url_end = memchr (url, ';', (size_t) (e - url));
  if (!url_end)
    return 0;
  seg = url_end;
  while (seg > url && seg[-1] != '/')
    seg--;
  if ((size_t) (url_end - seg) != n || memcmp (seg, control, n) != 0)
    return 0;
  for (p = url_end; p && p < e; p = memchr (p + 1, ';', (size_t) (e - p - 1))) {
    if (e - p >= 5 && memcmp (p + 1, "seq=", 4) == 0) {
      const char *end = memchr (p + 1, ';', (size_t) (e - p - 1));
      *seq = p;
      *seq_end = end ? end : e;
      return 1;
    }
  }
  return 0;
}

char *
wire_rtpinfo_set_seq (const char *rtpinfo, const char *control, long seq)
{
  const char *s = rtpinfo, *at = NULL, *at_end = NULL;
  size_t len = strlen (rtpinfo);
  char param[32];
  int n;
  char *out;

  /* Entries are split at every comma: an entry cut out of a URL that held
   * one names no url= and is left as it is. */
  while (s <= rtpinfo + len) {
    const char *e = strchr (s, ',');
    if (!e)
      e = rtpinfo + len;
    if (entry_seq (s, e, control, &at, &at_end))
      break;
    at = NULL;
    s = e + 1;
  }
  if (!at)
    return NULL;
  n = seq < 0 ? 0 : snprintf (param, sizeof param, ";seq=%ld", seq);
  out = malloc (len - (size_t) (at_end - at) + (size_t) n + 1);
  if (!out)
    return NULL;
  memcpy (out, rtpinfo, (size_t) (at - rtpinfo));
  memcpy (out + (at - rtpinfo), param, (size_t) n);
  strcpy (out + (at - rtpinfo) + n, at_end);
  return out;
}
