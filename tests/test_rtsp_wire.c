/* Unit tests of rtsp_wire: response parsing shared by the probe and
 * rtsp-health-check, fed whole, split and hostile buffers. */
#include "rtsp_wire.h"

#include <glib.h>
#include <string.h>

#define S(x) (x), strlen (x)

static void
test_header_end (void)
{
  const char *full = "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\nbody";

  g_assert_cmpuint (wire_header_end (S (full)), ==, strlen (full) - 4);
  g_assert_cmpuint (wire_header_end (S ("RTSP/1.0 200 OK\r\nCSeq: 1\r\n")), ==,
      0);
  g_assert_cmpuint (wire_header_end (S ("")), ==, 0);
  g_assert_cmpuint (wire_header_end (S ("\r\n\r")), ==, 0);
  g_assert_cmpuint (wire_header_end (S ("\r\n\r\n")), ==, 4);
  /* Every split point of a response: either incomplete or the full end. */
  for (size_t i = 0; i <= strlen (full); i++) {
    size_t end = wire_header_end (full, i);
    g_assert_true (end == 0 || end == strlen (full) - 4);
  }
}

static void
test_status_code (void)
{
  g_assert_cmpint (wire_status_code (S ("RTSP/1.0 200 OK\r\n"), "RTSP"), ==,
      200);
  g_assert_cmpint (wire_status_code (S ("RTSP/1.0 503 Service Unavailable\r\n"),
          "RTSP"), ==, 503);
  g_assert_cmpint (wire_status_code (S ("HTTP/1.1 200 OK\r\n"), "HTTP"), ==,
      200);
  g_assert_cmpint (wire_status_code (S ("HTTP/1.0 404 Not Found\r\n"), "HTTP"),
      ==, 404);
  g_assert_cmpint (wire_status_code (S ("HTTP/1.1 200 OK\r\n"), "RTSP"), ==,
      -1);
  g_assert_cmpint (wire_status_code (S ("RTSP/2.0 200 OK\r\n"), "RTSP"), ==,
      -1);
  g_assert_cmpint (wire_status_code (S ("RTSP/1.0 20"), "RTSP"), ==, -1);
  g_assert_cmpint (wire_status_code (S ("RTSP/1.0 2000 OK\r\n"), "RTSP"), ==,
      -1);
  g_assert_cmpint (wire_status_code (S ("RTSP/1.0 099 x\r\n"), "RTSP"), ==, -1);
  g_assert_cmpint (wire_status_code (S ("RTSP/1.0 abc\r\n"), "RTSP"), ==, -1);
  g_assert_cmpint (wire_status_code (S (""), "RTSP"), ==, -1);
  g_assert_cmpint (wire_status_code (S (" RTSP/1.0 200 OK\r\n"), "RTSP"), ==,
      -1);
}

static void
test_content_length (void)
{
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\nContent-Length: "
              "12\r\n\r\n")), ==, 12);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\ncontent-length:"
              "0\r\n\r\n")), ==, 0);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\nCONTENT-LENGTH:"
              "  7 \r\n\r\n")), ==, 7);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\nX-Content-Length:"
              " 7\r\n\r\n")), ==, -1);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\n\r\n")), ==, -1);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\nContent-Length: "
              "x\r\n\r\n")), ==, -2);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\nContent-Length: "
              "-1\r\n\r\n")), ==, -2);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\nContent-Length: "
              "99999999999999999999\r\n\r\n")), ==, -2);
  g_assert_cmpint (wire_content_length (S ("HTTP/1.1 200 OK\r\nContent-Length: "
              "5 5\r\n\r\n")), ==, -2);
}

static void
test_body_is_healthy (void)
{
  g_assert_true (wire_body_is_healthy (S ("{\"status\":\"healthy\"}")));
  g_assert_true (wire_body_is_healthy (S ("{ \"status\" :\n \"healthy\", "
              "\"open_ports\":4}")));
  g_assert_false (wire_body_is_healthy (S ("{\"status\":\"unhealthy\"}")));
  g_assert_false (wire_body_is_healthy (S ("{\"status\":\"healthyish\"}")));
  g_assert_false (wire_body_is_healthy (S ("{\"state\":\"healthy\"}")));
  g_assert_false (wire_body_is_healthy (S ("{\"status\":")));
  g_assert_false (wire_body_is_healthy (S ("{\"status\":\"heal")));
  g_assert_false (wire_body_is_healthy (S ("")));
  g_assert_false (wire_body_is_healthy (S ("healthy")));
}

/* Random bytes must never read out of bounds (ASan watches) or crash. */
static void
test_garbage (void)
{
  GRand *r = g_rand_new_with_seed (42);

  for (int i = 0; i < 20000; i++) {
    size_t len = g_rand_int_range (r, 0, 64);
    char *buf = g_malloc (len ? len : 1);
    const char *alphabet = "RTSP/1.0 2\r\n:Content-Length\"status\"healthy";
    for (size_t j = 0; j < len; j++)
      buf[j] = g_rand_boolean (r) ? alphabet[g_rand_int_range (r, 0,
              strlen (alphabet))] : (char) g_rand_int (r);
    wire_header_end (buf, len);
    wire_status_code (buf, len, "RTSP");
    wire_content_length (buf, len);
    wire_body_is_healthy (buf, len);
    g_free (buf);
  }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wire/header-end", test_header_end);
  g_test_add_func ("/wire/status-code", test_status_code);
  g_test_add_func ("/wire/content-length", test_content_length);
  g_test_add_func ("/wire/body-is-healthy", test_body_is_healthy);
  g_test_add_func ("/wire/garbage", test_garbage);
  return g_test_run ();
}
