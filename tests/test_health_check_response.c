/* Unit tests of health_check_response: how rtsp-health-check frames and
 * judges the bytes a peer sent, fed whole and one byte at a time as recv()
 * may deliver them. The tool's behaviour end to end is test_health_check_tool. */
#include "health_check_response.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  HcKind kind;
  const char *in;
  int eof;  /* the peer closed after IN */
  int want; /* HC_OK, HC_MORE or HC_FAIL */
  int status;
  const char *body; /* with HC_OK */
  const char *why;  /* with HC_FAIL: part of the reason */
} Case;

static const Case cases[] = {
  { HC_RTSP, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", 0, HC_OK, 200, "", NULL },
  { HC_RTSP, "RTSP/1.0 404 Not Found\r\nCSeq: 1\r\n\r\n", 0, HC_OK, 404, "",
      NULL },
  { HC_HTTP,
      "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"status\":\"healthy\"}",
      0, HC_OK, 200, "{\"status\":\"healthy\"}", NULL },
  { HC_HTTP, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}",
      0, HC_OK, 503, "{}", NULL },
  /* Without a length an HTTP body ends at EOF... */
  { HC_HTTP, "HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", 0, HC_MORE, 0, NULL, NULL },
  { HC_HTTP, "HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", 1, HC_OK, 200, "{\"a\":1}",
      NULL },
  /* ... but not after 204. */
  { HC_HTTP, "HTTP/1.1 204 No Content\r\n\r\n", 0, HC_OK, 204, "", NULL },
  { HC_HTTP,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n",
      0, HC_OK, 200, "{\"a\":1}", NULL },
  { HC_HTTP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
      HC_FAIL, 0, NULL, "malformed chunked" },
  { HC_HTTP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{}", 1,
      HC_FAIL, 0, NULL, "mid-body" },
  { HC_HTTP, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", 1, HC_FAIL, 0,
      NULL, "mid-body" },
  { HC_HTTP,
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 0,
      HC_FAIL, 0, NULL, "bad Content-Length" },
  { HC_HTTP, "SSH-2.0-OpenSSH\r\n", 0, HC_FAIL, 0, NULL, "not HTTP" },
  { HC_RTSP, "HTTP/1.1 200 OK\r\n\r\n", 0, HC_FAIL, 0, NULL, "not RTSP" },
  { HC_RTSP, "RTSP/1.0 2000 OK\r\n\r\n", 0, HC_FAIL, 0, NULL, "status line" },
  { HC_RTSP, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n", 1, HC_FAIL, 0, NULL,
      "mid-answer" },
  { HC_RTSP, "", 1, HC_FAIL, 0, NULL, "without answering" },
};

/* Judges IN[0..LEN) from a buffer of exactly LEN bytes. */
static int
judge (const Case *c, size_t len, int eof, HcResponse *r, char **buf)
{
  *buf = g_memdup2 (c->in, len ? len : 1);
  return hc_response_judge (c->kind, *buf, len, eof, r);
}

static void
check_whole (const Case *c)
{
  HcResponse r;
  g_autofree char *buf = NULL;
  int rc = judge (c, strlen (c->in), c->eof, &r, &buf);

  if (rc != c->want)
    g_error ("'%s': %d, want %d (%s)", c->in, rc, c->want, r.why);
  if (rc == HC_OK) {
    g_assert_cmpint (r.status, ==, c->status);
    g_assert_cmpmem (r.body, r.body_len, c->body, strlen (c->body));
  } else if (rc == HC_FAIL && !strstr (r.why, c->why)) {
    g_error ("'%s': '%s' does not mention '%s'", c->in, r.why, c->why);
  }
  free (r.body_owned);
}

/* Byte by byte, as recv() may deliver it: no cut answer passes for a
 * whole one, and only an answer that is refused whole is refused early. */
static void
check_split (const Case *c)
{
  size_t len = strlen (c->in);

  for (size_t i = 0; i < len; i++) {
    HcResponse r;
    g_autofree char *buf = NULL;
    int rc = judge (c, i, 0, &r, &buf);

    if (rc == HC_OK || (rc == HC_FAIL && c->want != HC_FAIL))
      g_error ("'%s' cut at %zu: %d (%s)", c->in, i, rc, r.why);
    free (r.body_owned);
  }
}

static void
test_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    check_whole (&cases[i]);
    check_split (&cases[i]);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/health_check_response/cases", test_cases);
  return g_test_run ();
}
