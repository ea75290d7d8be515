/* test_rtsp_wire: unit tests of rtsp_wire, the response parsing shared by
 * the server's probe and rtsp-health-check.
 *
 * Every buffer handed to the parser is copied into an allocation of exactly
 * its length, so a read one byte too far is caught by ASan or valgrind
 * instead of landing harmlessly on a string literal's NUL. */
#include "rtsp_wire.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* An exact-size, non NUL-terminated copy; freed by the caller. */
static char *
exact (const char *s, size_t len)
{
  /* malloc (0) may give NULL; a 1-byte block still traps reads at [0]. */
  char *b = g_malloc (len ? len : 1);
  if (len)
    memcpy (b, s, len);
  return b;
}

static size_t
header_end (const char *s)
{
  size_t len = strlen (s);
  char *b = exact (s, len);
  size_t r = wire_header_end (b, len);
  g_free (b);
  return r;
}

static int
status_n (const char *s, size_t len, const char *protocol)
{
  char *b = exact (s, len);
  int r = wire_status_code (b, len, protocol);
  g_free (b);
  return r;
}

static int
status (const char *s, const char *protocol)
{
  return status_n (s, strlen (s), protocol);
}

static long
clen_n (const char *s, size_t len)
{
  char *b = exact (s, len);
  long r = wire_content_length (b, len);
  g_free (b);
  return r;
}

static long
clen (const char *s)
{
  return clen_n (s, strlen (s));
}

static int
healthy_n (const char *s, size_t len)
{
  char *b = exact (s, len);
  int r = wire_body_is_healthy (b, len);
  g_free (b);
  return r;
}

static int
healthy (const char *s)
{
  return healthy_n (s, strlen (s));
}

#define RTSP_OK                                                                \
  "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"

static void
test_header_end_basic (void)
{
  const char *with_body = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";

  g_assert_cmpuint (header_end (RTSP_OK), ==, strlen (RTSP_OK));
  g_assert_cmpuint (header_end (with_body), ==, strlen (with_body) - 4);
  g_assert_cmpuint (header_end ("\r\n\r\n"), ==, 4);
  g_assert_cmpuint (header_end (""), ==, 0);
  g_assert_cmpuint (header_end ("\r"), ==, 0);
  g_assert_cmpuint (header_end ("\r\n\r"), ==, 0);
  g_assert_cmpuint (header_end ("RTSP/1.0 200 OK\r\nCSeq: 1\r\n"), ==, 0);
  /* Bare LFs are not the blank line the contract names. */
  g_assert_cmpuint (header_end ("RTSP/1.0 200 OK\n\n"), ==, 0);
  g_assert_cmpuint (header_end ("RTSP/1.0 200 OK\r\n\n\r\n"), ==, 0);
  /* The first blank line ends the header, even if the body has another. */
  g_assert_cmpuint (header_end ("A\r\n\r\nB\r\n\r\n"), ==, 5);
  g_assert_cmpuint (wire_header_end (NULL, 0), ==, 0);
  g_assert_cmpuint (wire_header_end (NULL, 12), ==, 0);
}

/* A response arriving a byte at a time: incomplete until the very byte that
 * completes the blank line, and the same answer after it. */
static void
test_header_end_split (void)
{
  const char *full = RTSP_OK "trailing body bytes";
  size_t hdr = strlen (RTSP_OK);

  for (size_t i = 0; i <= strlen (full); i++) {
    char *b = exact (full, i);
    g_assert_cmpuint (wire_header_end (b, i), ==, i < hdr ? 0 : hdr);
    g_free (b);
  }
}

static void
test_status_code_valid (void)
{
  g_assert_cmpint (status (RTSP_OK, "RTSP"), ==, 200);
  g_assert_cmpint (status ("RTSP/1.0 503 Service Unavailable\r\n", "RTSP"), ==,
      503);
  g_assert_cmpint (status ("RTSP/1.0 454 Session Not Found\r\n", "RTSP"), ==,
      454);
  g_assert_cmpint (status ("HTTP/1.1 200 OK\r\n", "HTTP"), ==, 200);
  g_assert_cmpint (status ("HTTP/1.0 404 Not Found\r\n", "HTTP"), ==, 404);
  g_assert_cmpint (status ("HTTP/1.1 100 Continue\r\n", "HTTP"), ==, 100);
  g_assert_cmpint (status ("HTTP/1.1 599 x\r\n", "HTTP"), ==, 599);
  /* The reason phrase is optional, and may be empty. */
  g_assert_cmpint (status ("RTSP/1.0 200\r\n", "RTSP"), ==, 200);
  g_assert_cmpint (status ("RTSP/1.0 200 \r\n", "RTSP"), ==, 200);
  g_assert_cmpint (status ("HTTP/1.1 200 Tout\tva bien \xc3\xa9\r\n", "HTTP"),
      ==, 200);
}

static void
test_status_code_protocols (void)
{
  /* The RTSP probe must not take a web server's 200 for an RTSP one. */
  g_assert_cmpint (status ("HTTP/1.1 200 OK\r\n", "RTSP"), ==, -1);
  g_assert_cmpint (status ("HTTP/1.0 200 OK\r\n", "RTSP"), ==, -1);
  g_assert_cmpint (status ("RTSP/1.0 200 OK\r\n", "HTTP"), ==, -1);
  g_assert_cmpint (status ("RTSP/2.0 200 OK\r\n", "RTSP"), ==, -1);
  g_assert_cmpint (status ("RTSP/1.2 200 OK\r\n", "RTSP"), ==, -1);
  g_assert_cmpint (status ("rtsp/1.0 200 OK\r\n", "RTSP"), ==, -1);
  g_assert_cmpint (status ("RTSPS/1.0 200 OK\r\n", "RTSP"), ==, -1);
  g_assert_cmpint (status ("RTSP/1.0 200 OK\r\n", "RTS"), ==, -1);
  g_assert_cmpint (status ("RTSP/1.0 200 OK\r\n", ""), ==, -1);
  g_assert_cmpint (status ("RTSP/1.0 200 OK\r\n", NULL), ==, -1);
  g_assert_cmpint (wire_status_code (NULL, 0, "RTSP"), ==, -1);
  g_assert_cmpint (wire_status_code (NULL, 17, "RTSP"), ==, -1);
}

static void
test_status_code_malformed (void)
{
  const char *bad[] = {
    "",
    "\r\n",
    " RTSP/1.0 200 OK\r\n",
    "RTSP/1.0  200 OK\r\n",
    "RTSP/1.0\t200 OK\r\n",
    "RTSP/1.0200 OK\r\n",
    "RTSP 200 OK\r\n",
    "RTSP/1.0 2000 OK\r\n",
    "RTSP/1.0 20 OK\r\n",
    "RTSP/1.0 099 Low\r\n",
    "RTSP/1.0 600 High\r\n",
    "RTSP/1.0 000 Zero\r\n",
    "RTSP/1.0 abc OK\r\n",
    "RTSP/1.0 2x0 OK\r\n",
    "RTSP/1.0 -20 OK\r\n",
    "RTSP/1.0 200OK\r\n",
    "RTSP/1.0 200 O\nK\r\n",
    "RTSP/1.0 200 O\x01K\r\n",
    "RTSP/1.0 200 OK\x7f\r\n",
    "RTSP/1.0 200 OK\n",
    "RTSP/1.0 200 OK\r\r\n",
    "RTSP/1.0 200 OK\rX",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    if (status (bad[i], "RTSP") != -1)
      g_error ("\"%s\" should not parse", g_strescape (bad[i], NULL));
  }
  /* A NUL where the reason phrase is: not text, so not a status line. */
  g_assert_cmpint (status_n ("RTSP/1.0 200 O\0K\r\n", 18, "RTSP"), ==, -1);
}

/* A status line arriving a byte at a time is never judged early: "RTSP/1.0
 * 20" might become 204 or 2000, and "RTSP/1.0 200" might become 2000. */
static void
test_status_code_truncated (void)
{
  const char *line = "RTSP/1.0 200 OK\r\n";
  const char *no_reason = "HTTP/1.1 503\r\n";

  for (size_t i = 0; i < strlen (line); i++)
    g_assert_cmpint (status_n (line, i, "RTSP"), ==, -1);
  g_assert_cmpint (status_n (line, strlen (line), "RTSP"), ==, 200);
  for (size_t i = 0; i < strlen (no_reason); i++)
    g_assert_cmpint (status_n (no_reason, i, "HTTP"), ==, -1);
  g_assert_cmpint (status_n (no_reason, strlen (no_reason), "HTTP"), ==, 503);
  /* Only the first line counts, whatever follows it. */
  g_assert_cmpint (status (RTSP_OK "garbage \x01\x02", "RTSP"), ==, 200);
}

static void
test_content_length_valid (void)
{
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"), ==,
      12);
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), ==,
      0);
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nCONTENT-LENGTH:7\r\n\r\n"), ==, 7);
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: \t 7 \t\r\n\r\n"),
      ==, 7);
  g_assert_cmpint (clen ("RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Type: "
                         "application/sdp\r\nContent-Length: 345\r\n\r\n"),
      ==, 345);
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n"), ==,
      7);
  /* Bare LF line ends are tolerated here: the length is the same. */
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\nContent-Length: 5\n\n"), ==, 5);
  /* The limit itself is fine; one more is not. */
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n\r\n"),
      ==, 16777216);
  /* The same length twice is merely redundant. */
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                         "Content-Length: 3\r\n\r\n"),
      ==, 3);
}

static void
test_content_length_absent (void)
{
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\n\r\n"), ==, -1);
  g_assert_cmpint (clen (""), ==, -1);
  g_assert_cmpint (wire_content_length (NULL, 0), ==, -1);
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nX-Content-Length: 7\r\n\r\n"), ==,
      -1);
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nContent-Lengthy: 7\r\n\r\n"), ==,
      -1);
  /* A space before the colon makes it another (invalid) field name. */
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nContent-Length : 7\r\n\r\n"), ==,
      -1);
  /* Folded or indented lines are not field names. */
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nX: a\r\n Content-Length: 7\r\n"
                         "\r\n"),
      ==, -1);
  /* The body is not headers, even if it looks like them. */
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\n\r\nContent-Length: 7\r\n"), ==,
      -1);
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"
                         "Content-Length: 9\r\n"),
      ==, 4);
  /* Values in other fields do not count. */
  g_assert_cmpint (clen ("HTTP/1.1 200 OK\r\nX-Note: Content-Length: 5\r\n"
                         "\r\n"),
      ==, -1);
}

static void
test_content_length_malformed (void)
{
  const char *bad[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length:   \r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 5,5\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 5\x01\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 16777217\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: x\r\n\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    if (clen (bad[i]) != -2)
      g_error ("\"%s\" should be malformed", g_strescape (bad[i], NULL));
  }
}

/* A header cut inside the number must not be read as a shorter number. */
static void
test_content_length_truncated (void)
{
  const char *hdr = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
  const char *line_end = strstr (hdr, "1234\r\n") + 5;

  for (size_t i = 0; i <= strlen (hdr); i++) {
    long v = clen_n (hdr, i);
    if (hdr + i <= line_end)
      g_assert_cmpint (v, ==, -1);
    else
      g_assert_cmpint (v, ==, 1234);
  }
}

/* The body the real server renders, in shape if not in every value. */
#define SERVER_BODY                                                            \
  "{\"status\":\"healthy\",\"open_ports\":4,\"total_ports\":4,"                \
  "\"healthy_threshold\":3,\"timestamp\":1764076800.5,\"reason\":"             \
  "\"4 of 4 RTSP ports answer\",\"probe_age_seconds\":0.4,\"ports\":[{"        \
  "\"port\":8554,\"healthy\":true,\"rtsp_status\":200,\"error\":null}]}"

static void
test_body_healthy (void)
{
  g_assert_true (healthy ("{\"status\":\"healthy\"}"));
  g_assert_true (healthy (SERVER_BODY));
  g_assert_true (healthy ("{\"status\":\"healthy\",\"open_ports\":4}"));
  g_assert_true (healthy ("  \r\n\t{ \"status\" \t:\r\n \"healthy\" }\n"));
  g_assert_true (healthy ("{\n  \"status\" : \"healthy\",\n  \"x\" : 1\n}\n"));
  /* Position among members does not matter; depth does. */
  g_assert_true (healthy ("{\"a\":1,\"b\":[1,{\"c\":\"}\"}],\"status\":"
                          "\"healthy\"}"));
  g_assert_true (healthy ("{\"ports\":[{\"status\":\"down\"}],\"status\":"
                          "\"healthy\"}"));
  g_assert_true (healthy ("{\"reason\":\"a \\\"quoted\\\" \\\\ word\","
                          "\"status\":\"healthy\"}"));
}

static void
test_body_unhealthy (void)
{
  const char *bad[] = {
    "",
    "   ",
    "healthy",
    "\"healthy\"",
    "[\"status\",\"healthy\"]",
    "[{\"status\":\"healthy\"}]",
    "{\"status\":\"unhealthy\"}",
    "{\"status\":\"unhealthy\",\"open_ports\":1}",
    "{\"status\":\"healthyish\"}",
    "{\"status\":\"Healthy\"}",
    "{\"status\":\"HEALTHY\"}",
    "{\"status\":\" healthy\"}",
    "{\"status\":\"healthy \"}",
    "{\"status\":healthy}",
    "{\"status\":true}",
    "{\"status\":null}",
    "{\"status\":[\"healthy\"]}",
    "{\"status\":{\"status\":\"healthy\"}}",
    "{\"Status\":\"healthy\"}",
    "{\"state\":\"healthy\"}",
    "{\"status \":\"healthy\"}",
    "{\"xstatus\":\"healthy\"}",
    "{\"sub\":{\"status\":\"healthy\"}}",
    "{\"ports\":[{\"status\":\"healthy\"}],\"status\":\"unhealthy\"}",
    "{\"reason\":\"\\\"status\\\":\\\"healthy\\\"\"}",
    "{\"reason\":\"{\\\"status\\\":\\\"healthy\\\"}\"}",
    "{\"healthy\":\"status\"}",
    "{\"status\":\"heal\\u0074hy\"}",
    "{\"st\\u0061tus\":\"healthy\"}",
    "{}",
    "{\"a\":1}{\"status\":\"healthy\"}",
    "{\"status\"}",
    "{\"status\":",
    "{\"status\":\"heal",
    "{\"status",
    "{\"",
    "{",
    "}",
    "\"status\":\"healthy\"",
    "x{\"status\":\"healthy\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    if (healthy (bad[i]))
      g_error ("%s should not be healthy", bad[i]);
  }
  /* The value after a NUL-truncated key: still compared by length. */
  g_assert_false (healthy_n ("{\"status\":\"health\0\"}", 20));
}

/* A body cut anywhere before the end of its "healthy" string is not healthy
 * yet, and is once that string is whole. */
static void
test_body_split (void)
{
  const char *body = SERVER_BODY;
  size_t whole = strstr (body, "\"healthy\"") + 9 - body;

  for (size_t i = 0; i <= strlen (body); i++)
    g_assert_cmpint (healthy_n (body, i), ==, (i >= whole));
}

/* The four calls in the order a reader makes them, on one response split at
 * every byte: each prefix gives either "not yet" or the final answer. */
static void
test_response_split (void)
{
  const char *resp = "HTTP/1.1 200 OK\r\n"
                     "content-type: application/json\r\n"
                     "content-length: 20\r\n"
                     "\r\n"
                     "{\"status\":\"healthy\"}";
  size_t hdr_len = strlen (resp) - 20;

  for (size_t i = 0; i <= strlen (resp); i++) {
    char *b = exact (resp, i);
    size_t hdr = wire_header_end (b, i);

    if (i < hdr_len) {
      g_assert_cmpuint (hdr, ==, 0);
    } else {
      g_assert_cmpuint (hdr, ==, hdr_len);
      g_assert_cmpint (wire_status_code (b, hdr, "HTTP"), ==, 200);
      g_assert_cmpint (wire_content_length (b, hdr), ==, 20);
      /* Healthy as soon as the value is whole, before the final brace. */
      g_assert_cmpint (wire_body_is_healthy (b + hdr, i - hdr), ==,
          (i >= strlen (resp) - 1));
    }
    g_free (b);
  }
}

static void
run_all (const char *b, size_t len)
{
  size_t hdr = wire_header_end (b, len);
  int code;
  long cl;

  g_assert_cmpuint (hdr, <=, len);
  code = wire_status_code (b, len, "RTSP");
  g_assert_true (code == -1 || (code >= 100 && code <= 599));
  code = wire_status_code (b, len, "HTTP");
  g_assert_true (code == -1 || (code >= 100 && code <= 599));
  cl = wire_content_length (b, len);
  g_assert_true (cl >= -2 && cl <= 16 * 1024 * 1024);
  g_assert_true (wire_body_is_healthy (b, len) <= 1);
}

/* Random bytes, and random mixes of the tokens the parser looks for, must
 * never read out of bounds (ASan/valgrind watch) or give an out-of-range
 * answer. Seeded, so a failure reproduces. */
static void
test_garbage (void)
{
  static const char *const tokens[] = { "RTSP", "HTTP", "/1.0", "/1.1", " ",
    "200", "2", "\r", "\n", "\r\n", "\r\n\r\n", ":",
    "Content-Length:", "content-length: 12", "\"status\"", "\"healthy\"", "\"",
    "\\", "{", "}", "[", "]", ",", "9999999999", "\t", "\0" };
  GRand *r = g_rand_new_with_seed (20261125);

  for (int i = 0; i < 50000; i++) {
    GByteArray *a = g_byte_array_new ();
    guint pieces = g_rand_int_range (r, 0, 24);
    char *b;

    for (guint k = 0; k < pieces; k++) {
      if (g_rand_boolean (r)) {
        const char *t = tokens[g_rand_int_range (r, 0, G_N_ELEMENTS (tokens))];
        g_byte_array_append (a, (const guint8 *) t, t[0] ? strlen (t) : 1);
      } else {
        guint8 c = (guint8) g_rand_int (r);
        g_byte_array_append (a, &c, 1);
      }
    }
    b = exact ((const char *) a->data, a->len);
    run_all (b, a->len);
    /* Every prefix too: that is how a reader sees it arrive. */
    for (size_t n = 0; n < a->len; n += 1 + a->len / 4)
      run_all (b, n);
    g_free (b);
    g_byte_array_unref (a);
  }
  g_rand_free (r);
}

/* A top-level string member, as sent: what rtsp-health-check prints as
 * the reason of a failing answer. */
static void
test_body_member (void)
{
  const struct {
    const char *body;
    long len; /* -1: none */
    const char *text;
  } cases[] = {
    { "{\"status\":\"unhealthy\",\"reason\":\"2 of 4 ports\"}", 12,
        "2 of 4 ports" },
    { "{ \"reason\" : \"\" }", 0, "" },
    /* Nested, or only quoted inside a string: not the server's. */
    { "{\"ports\":[{\"reason\":\"a port's\"}],\"reason\":\"all\"}", 3, "all" },
    { "{\"ports\":[{\"reason\":\"a port's\"}]}", -1, NULL },
    { "{\"x\":\"\\\"reason\\\":\\\"no\\\"\"}", -1, NULL },
    /* Escapes are kept as sent. */
    { "{\"reason\":\"say \\\"hi\\\"\"}", 10, "say \\\"hi\\\"" },
    { "{\"reason\":3}", -1, NULL },
    { "{\"reason\":\"cut off", -1, NULL },
    { "[\"reason\",\"x\"]", -1, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const char *v = NULL;
    long n =
        wire_body_member (cases[i].body, strlen (cases[i].body), "reason", &v);
    g_assert_cmpint (n, ==, cases[i].len);
    if (n >= 0) {
      g_autofree char *got = g_strndup (v, (gsize) n);
      g_assert_cmpstr (got, ==, cases[i].text);
    }
  }
}

/* Deep nesting and long runs: no recursion, no quadratic surprise. */
static void
test_large_inputs (void)
{
  const size_t n = 1 << 20;
  char *b = g_malloc (n);

  memset (b, '{', n);
  g_assert_false (wire_body_is_healthy (b, n));
  memset (b, '[', n);
  b[0] = '{';
  g_assert_false (wire_body_is_healthy (b, n));
  memset (b, '\r', n);
  g_assert_cmpuint (wire_header_end (b, n), ==, 0);
  g_assert_cmpint (wire_content_length (b, n), ==, -1);
  memset (b, '\n', n);
  g_assert_cmpint (wire_content_length (b, n), ==, -1);
  memset (b, '"', n);
  g_assert_false (wire_body_is_healthy (b, n));
  g_free (b);
}

/* A live camera's PLAY answer names the keyframe its reader starts on
 * (rtsp_servers.c: join_before_answer); the rest stays. */
typedef struct {
  const char *in, *control, *want;
} RtpInfoCase;

/* wire_rtpinfo_set_seq() with SEQ gives each case's WANT. */
static void
check_rtpinfo (const RtpInfoCase *cases, guint n, long seq)
{
  for (guint i = 0; i < n; i++) {
    char *got = wire_rtpinfo_set_seq (cases[i].in, cases[i].control, seq);
    g_test_message ("'%s' -> '%s'", cases[i].in, got ? got : "(none)");
    g_assert_cmpstr (got, ==, cases[i].want);
    free (got);
  }
}

static void
test_rtpinfo_set_seq (void)
{
  const RtpInfoCase cases[] = {
    { "url=rtsp://h:1/stream/stream=0;seq=25677;rtptime=2411844320", "stream=0",
        "url=rtsp://h:1/stream/stream=0;seq=7;rtptime=2411844320" },
    { "url=rtsp://h:1/s/stream=0;seq=1;rtptime=2, "
      "url=rtsp://h:1/s/stream=1;seq=3;rtptime=4",
        "stream=0",
        "url=rtsp://h:1/s/stream=0;seq=7;rtptime=2, "
        "url=rtsp://h:1/s/stream=1;seq=3;rtptime=4" },
    { "url=rtsp://h:1/s/stream=0;seq=1;rtptime=2, "
      "url=rtsp://h:1/s/stream=1;seq=3;rtptime=4",
        "stream=1",
        "url=rtsp://h:1/s/stream=0;seq=1;rtptime=2, "
        "url=rtsp://h:1/s/stream=1;seq=7;rtptime=4" },
    /* seq last, or alone. */
    { "url=rtsp://h/a/stream=0;rtptime=2;seq=1", "stream=0",
        "url=rtsp://h/a/stream=0;rtptime=2;seq=7" },
    { "url=rtsp://h/a/stream=0;seq=65535", "stream=0",
        "url=rtsp://h/a/stream=0;seq=7" },
    /* Only audio set up: nothing to change. */
    { "url=rtsp://h/a/stream=1;seq=1;rtptime=2", "stream=0", NULL },
    /* A segment that only ends like it. */
    { "url=rtsp://h/a/xstream=0;seq=1;rtptime=2", "stream=0", NULL },
    { "url=rtsp://h/a/stream=0;rtptime=2", "stream=0", NULL },
    { "", "stream=0", NULL },
    { ",,,", "stream=0", NULL },
    { "url=", "stream=0", NULL },
    { "url=stream=0;", "stream=0", NULL },
    { "url=stream=0;seq=", "stream=0", "url=stream=0;seq=7" },
    /* A comma inside a client's URL: the pieces name no url, untouched. */
    { "url=rtsp://h/a,b/stream=0;seq=1;rtptime=2", "stream=0", NULL },
    { "url=rtsp://h/a/stream=0,x;seq=1;rtptime=2", "stream=0", NULL },
  };

  check_rtpinfo (cases, G_N_ELEMENTS (cases), 7);
}

/* A negative seq takes the parameter out: a live camera's answer that
 * cannot name its reader's first packet names none. */
static void
test_rtpinfo_drop_seq (void)
{
  const RtpInfoCase cases[] = {
    { "url=rtsp://h:1/stream/stream=0;seq=25677;rtptime=2411844320", "stream=0",
        "url=rtsp://h:1/stream/stream=0;rtptime=2411844320" },
    { "url=rtsp://h:1/s/stream=0;seq=1;rtptime=2, "
      "url=rtsp://h:1/s/stream=1;seq=3;rtptime=4",
        "stream=1",
        "url=rtsp://h:1/s/stream=0;seq=1;rtptime=2, "
        "url=rtsp://h:1/s/stream=1;rtptime=4" },
    { "url=rtsp://h/a/stream=0;rtptime=2;seq=1", "stream=0",
        "url=rtsp://h/a/stream=0;rtptime=2" },
    { "url=rtsp://h/a/stream=0;seq=65535", "stream=0",
        "url=rtsp://h/a/stream=0" },
    { "url=rtsp://h/a/stream=0;rtptime=2", "stream=0", NULL },
  };

  check_rtpinfo (cases, G_N_ELEMENTS (cases), -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wire/header-end/basic", test_header_end_basic);
  g_test_add_func ("/wire/header-end/split", test_header_end_split);
  g_test_add_func ("/wire/status-code/valid", test_status_code_valid);
  g_test_add_func ("/wire/status-code/protocols", test_status_code_protocols);
  g_test_add_func ("/wire/status-code/malformed", test_status_code_malformed);
  g_test_add_func ("/wire/status-code/truncated", test_status_code_truncated);
  g_test_add_func ("/wire/content-length/valid", test_content_length_valid);
  g_test_add_func ("/wire/content-length/absent", test_content_length_absent);
  g_test_add_func ("/wire/content-length/malformed",
      test_content_length_malformed);
  g_test_add_func ("/wire/content-length/truncated",
      test_content_length_truncated);
  g_test_add_func ("/wire/body/healthy", test_body_healthy);
  g_test_add_func ("/wire/body/unhealthy", test_body_unhealthy);
  g_test_add_func ("/wire/body/split", test_body_split);
  g_test_add_func ("/wire/body/member", test_body_member);
  g_test_add_func ("/wire/response-split", test_response_split);
  g_test_add_func ("/wire/garbage", test_garbage);
  g_test_add_func ("/wire/large-inputs", test_large_inputs);
  g_test_add_func ("/wire/rtpinfo-set-seq", test_rtpinfo_set_seq);
  g_test_add_func ("/wire/rtpinfo-drop-seq", test_rtpinfo_drop_seq);
  return g_test_run ();
}
