/* test_http_connections: the real server's HTTP port gives back every
 * connection a client closes, kept alive or not.
 *
 * While libsoup 3.2 (Debian 12) accepted them itself, each kept-alive
 * connection that its client closed while idle stayed in CLOSE_WAIT for
 * good, one fd each: curl /health in a loop ran the server out of fds.
 * valgrind found it (scripts/valgrind.sh; docs/reliability.md). */
#include "testutil.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECTIONS 200

static guint
count_fds (const char *pid)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%s/fd", pid);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d))
    n++;
  return n;
}

/* One HTTP/1.1 request with keep-alive, its whole answer read, then the
 * client closes first: the case that leaked. */
/* A TCP connection to 127.0.0.1:PORT, its fd. */
static int
connect_loopback (guint port)
{
  struct sockaddr_in sa = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  g_assert_cmpint (fd, >=, 0);
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((guint16) port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  return fd;
}

static void
request_and_close (guint port)
{
  const char req[] = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  char buf[4096];
  size_t got = 0;
  int fd = connect_loopback (port);

  g_assert_cmpint (send (fd, req, sizeof req - 1, MSG_NOSIGNAL), ==,
      (gssize) (sizeof req - 1));
  /* The answer is small; wait for its body's closing brace. */
  while (got < sizeof buf - 1 && !memchr (buf, '}', got)) {
    struct pollfd p = { fd, POLLIN, 0 };
    ssize_t n;

    g_assert_cmpint (poll (&p, 1, 5000), ==, 1);
    n = recv (fd, buf + got, sizeof buf - 1 - got, 0);
    if (n <= 0)
      break;
    got += (size_t) n;
  }
  buf[got] = '\0';
  g_assert_true (g_str_has_prefix (buf, "HTTP/1.1 200"));
  close (fd);
}

static void
test_closed_connections_are_released (void)
{
  TsServer *s = ts_server_start (NULL);
  const char *pid;
  guint before, after = 0;

  g_assert_nonnull (s);
  pid = g_subprocess_get_identifier (s->proc);
  g_assert_nonnull (pid);
  request_and_close (s->http_port);
  g_usleep (200 * 1000);
  before = count_fds (pid);
  for (guint i = 0; i < CONNECTIONS; i++)
    request_and_close (s->http_port);
  /* Probes come and go every 0.5 s: a few fds either way are theirs. */
  for (guint tries = 0; tries < 30; tries++) {
    after = count_fds (pid);
    if (after <= before + 8)
      break;
    g_usleep (100 * 1000);
  }
  if (after > before + 8)
    g_error ("%u fds before %u closed connections, %u after", before,
        CONNECTIONS, after);
  /* Generous: under ASan on a loaded machine a stop once took over 10 s
   * here (not seen outside this test; the stop itself is timed in
   * test_server). */
  g_assert_cmpint (ts_server_stop (s, 30, NULL), ==, 0);
  ts_server_free (s);
}

/* Seconds from sending REQ on a new connection (and nothing more) to the
 * first bytes of an answer that starts with WANT; fails after 5 s. */
static double
first_answer (guint port, const char *req, const char *want)
{
  char buf[256];
  struct pollfd p;
  gint64 t0;
  ssize_t n;
  int fd = connect_loopback (port);

  t0 = g_get_monotonic_time ();
  g_assert_cmpint (send (fd, req, strlen (req), MSG_NOSIGNAL), ==,
      (gssize) strlen (req));
  p = (struct pollfd){ fd, POLLIN, 0 };
  g_assert_cmpint (poll (&p, 1, 5000), ==, 1);
  n = recv (fd, buf, sizeof buf - 1, 0);
  g_assert_cmpint (n, >, 0);
  buf[n] = '\0';
  if (!g_str_has_prefix (buf, want))
    g_error ("answer to %s: %s", req, buf);
  close (fd);
  return (double) (g_get_monotonic_time () - t0) / 1e6;
}

/* The server corks each connection until its answer is written (one
 * segment for header and body). An answer written while the connection
 * stays open (a client waiting for "100 Continue" before it sends its
 * body, or for the refusal of a request whose body it has not sent) must
 * go out at once, not when the kernel's 200 ms cork timer fires; and one
 * followed by a close that resets the connection (bytes left unread)
 * must go out before it, or never does. Not a speed test: corked, every
 * try takes 200 ms or more; uncorked, about a millisecond, and one of
 * three tries under 150 ms is asked. */
static void
test_answers_not_held (void)
{
  const char *args[] = { "--control-token=http-test-token", NULL };
  TsServer *s = ts_server_start (args);
  const char *reqs[][2] = {
    { "POST /control/cameras/cam1/faults HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer http-test-token\r\n"
      "Content-Type: application/json\r\nContent-Length: 17\r\n"
      "Expect: 100-continue\r\n\r\n",
        "HTTP/1.1 100 Continue" },
    { "POST /control/cameras/cam1/faults HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: 100000\r\n\r\n",
        "HTTP/1.1 413" },
    { "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200" },
    /* More than libsoup reads at once after the request: the close
     * resets the connection, and only what was sent before it arrives. */
    { NULL, "HTTP/1.1 200" },
  };
  g_autofree char *junk = g_strnfill (20000, 'z');
  g_autofree char *pipelined =
      g_strconcat ("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", junk, NULL);

  g_assert_nonnull (s);
  reqs[G_N_ELEMENTS (reqs) - 1][0] = pipelined;
  for (guint r = 0; r < G_N_ELEMENTS (reqs); r++) {
    double best = 10;
    for (guint i = 0; i < 3; i++)
      best = MIN (best, first_answer (s->http_port, reqs[r][0], reqs[r][1]));
    g_test_message ("%s: first bytes after %.1f ms (best of 3)", reqs[r][1],
        best * 1000);
    g_assert_cmpfloat (best, <, 0.15);
  }
  g_assert_cmpint (ts_server_stop (s, 30, NULL), ==, 0);
  ts_server_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http/closed-connections-are-released",
      test_closed_connections_are_released);
  g_test_add_func ("/http/answers-not-held", test_answers_not_held);
  return g_test_run ();
}
