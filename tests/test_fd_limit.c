/* fd_limit: the soft limit is raised to the hard one; an accept loop is
 * told to take a connection while descriptors outside the reserve are
 * free, to shed it inside the reserve, and to pause when none is left.
 * Runs in a process of its own (meson starts each test binary), whose
 * limits it lowers for good. */
#include "fd_limit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define HARD 200

/* Descriptors opened by the test, closed at its end. */
static GArray *held;

static void
hold_until (int lowest_free)
{
  for (;;) {
    int fd = fcntl (0, F_DUPFD_CLOEXEC, 0);
    g_assert_cmpint (fd, >=, 0);
    if (fd >= lowest_free) {
      close (fd);
      return;
    }
    g_array_append_val (held, fd);
  }
}

static void
test_verdicts (void)
{
  struct rlimit rl = { 100, HARD };
  guint64 before, limit, reserve;
  int sock = socket (AF_INET, SOCK_STREAM, 0);

  g_assert_cmpint (sock, >=, 0);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  limit = rts_fd_limit_init (4, &before);
  g_assert_cmpuint (before, ==, 100);
  g_assert_cmpuint (limit, ==, HARD);
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  g_assert_cmpuint (rl.rlim_cur, ==, HARD);
  /* 64 and two a port, but never more than a quarter of the limit. */
  reserve = rts_fd_limit_reserve ();
  g_assert_cmpuint (reserve, ==, HARD / 4);

  held = g_array_new (FALSE, FALSE, sizeof (int));
  g_assert_cmpint (rts_fd_limit_verdict (sock), ==, RTS_FD_TAKE);
  g_assert_cmpint (rts_fd_limit_verdict_http (sock), ==, RTS_FD_TAKE);
  /* HTTP stops half a reserve earlier. */
  hold_until ((int) (limit - reserve - reserve / 2 - 1));
  g_assert_cmpint (rts_fd_limit_verdict_http (sock), ==, RTS_FD_TAKE);
  hold_until ((int) (limit - reserve - reserve / 2));
  g_assert_cmpint (rts_fd_limit_verdict_http (sock), ==, RTS_FD_SHED);
  g_assert_cmpint (rts_fd_limit_verdict_http_deep (sock), ==, RTS_FD_TAKE);
  /* The last free descriptor outside the reserve. */
  hold_until ((int) (limit - reserve - 1));
  g_assert_cmpint (rts_fd_limit_verdict (sock), ==, RTS_FD_TAKE);
  hold_until ((int) (limit - reserve));
  g_assert_cmpint (rts_fd_limit_verdict (sock), ==, RTS_FD_SHED);
  /* HTTP let in beyond its share may go on into three quarters of the
   * reserve. */
  g_assert_cmpint (rts_fd_limit_verdict_http_deep (sock), ==, RTS_FD_TAKE);
  hold_until ((int) (limit - reserve / 4));
  g_assert_cmpint (rts_fd_limit_verdict_http_deep (sock), ==, RTS_FD_SHED);
  hold_until ((int) limit - 1);
  g_assert_cmpint (rts_fd_limit_verdict (sock), ==, RTS_FD_SHED);
  /* Not one left. */
  {
    int last = fcntl (0, F_DUPFD_CLOEXEC, 0);
    g_assert_cmpint (last, ==, (int) limit - 1);
    g_array_append_val (held, last);
  }
  g_assert_cmpint (fcntl (0, F_DUPFD_CLOEXEC, 0), ==, -1);
  g_assert_cmpint (errno, ==, EMFILE);
  g_assert_cmpint (rts_fd_limit_verdict (sock), ==, RTS_FD_PAUSE);
  g_assert_cmpint (rts_fd_limit_verdict_http (sock), ==, RTS_FD_PAUSE);
  g_assert_cmpint (rts_fd_limit_verdict_http_deep (sock), ==, RTS_FD_PAUSE);

  /* Counted, and said once a second at most. */
  g_assert_false (rts_fd_limit_shedding ());
  rts_fd_limit_note (RTS_FD_SHED, "RTSP port 1");
  rts_fd_limit_note (RTS_FD_SHED, "RTSP port 1");
  rts_fd_limit_note (RTS_FD_PAUSE, "HTTP port 2");
  rts_fd_limit_note (RTS_FD_TAKE, "HTTP port 2");
  g_assert_cmpuint (rts_fd_limit_shed (), ==, 2);
  g_assert_cmpuint (rts_fd_limit_pauses (), ==, 1);
  g_assert_true (rts_fd_limit_shedding ());

  for (guint i = 0; i < held->len; i++)
    close (g_array_index (held, int, i));
  g_array_free (held, TRUE);
  g_assert_cmpint (rts_fd_limit_verdict (sock), ==, RTS_FD_TAKE);
  close (sock);
}

static void
test_camera_cost (void)
{
  /* Measured: 16 for video only, 28 with audio; the estimate is above. */
  g_assert_cmpuint (rts_fd_limit_camera_cost (1), >=, 16);
  g_assert_cmpuint (rts_fd_limit_camera_cost (2), >=, 28);
  g_assert_cmpuint (rts_fd_limit_open (), >=, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fd-limit/verdicts", test_verdicts);
  g_test_add_func ("/fd-limit/camera-cost", test_camera_cost);
  return g_test_run ();
}
