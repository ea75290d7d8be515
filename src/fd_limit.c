/* fd_limit: see fd_limit.h. */
#define _GNU_SOURCE /* F_DUPFD_CLOEXEC */
#include "fd_limit.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Measured (2026-12-06): a loop camera with video only holds 16
 * descriptors (its pipeline's polls and UDP sockets), one with audio 28, a
 * live one with audio 30; rounded up. */
#define CAMERA_BASE 20
#define CAMERA_PER_EXTRA_STREAM 16

/* Used from the main loop only: the accept sources and /metrics. */
static struct {
  guint64 limit;   /* 0: not read yet */
  guint64 reserve; /* the last this many are not given to connections */
  guint64 shed, pauses;
  gint64 last_mono; /* of the last shed or pause */
  gint64 logged_mono;
} fd;

static guint64
soft_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return G_MAXINT;
  return (guint64) rl.rlim_cur;
}

guint64
rts_fd_limit_init (guint ports, guint64 *before)
{
  struct rlimit rl;

  *before = soft_limit ();
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
  fd.limit = soft_limit ();
  /* Each health probe round holds a connection per port for a moment;
   * snapshots, multicast groups and restarted cameras take a few more. */
  fd.reserve = MIN (64 + 2 * (guint64) ports, fd.limit / 4);
  return fd.limit;
}

guint64
rts_fd_limit (void)
{
  return fd.limit ? fd.limit : soft_limit ();
}

guint64
rts_fd_limit_reserve (void)
{
  return fd.reserve;
}

guint
rts_fd_limit_camera_cost (guint streams)
{
  return CAMERA_BASE
      + CAMERA_PER_EXTRA_STREAM * (streams > 1 ? streams - 1 : 0);
}

guint64
rts_fd_limit_open (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint64 n = 0;

  if (!dir)
    return 0;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  /* Less the one the listing itself held open. */
  return n ? n - 1 : 0;
}

static RtsFdVerdict
verdict (int listen_fd, guint64 reserve)
{
  int lowest;

  if (!fd.limit)
    return RTS_FD_TAKE;
  lowest = fcntl (listen_fd, F_DUPFD_CLOEXEC, 0);
  if (lowest < 0)
    return errno == EMFILE || errno == ENFILE ? RTS_FD_PAUSE : RTS_FD_TAKE;
  close (lowest);
  return (guint64) lowest + reserve >= fd.limit ? RTS_FD_SHED : RTS_FD_TAKE;
}

RtsFdVerdict
rts_fd_limit_verdict (int listen_fd)
{
  return verdict (listen_fd, fd.reserve);
}

RtsFdVerdict
rts_fd_limit_verdict_http (int listen_fd)
{
  return verdict (listen_fd, fd.reserve + fd.reserve / 2);
}

RtsFdVerdict
rts_fd_limit_verdict_http_deep (int listen_fd)
{
  return verdict (listen_fd, fd.reserve / 4);
}

gboolean
rts_fd_limit_shedding (void)
{
  return fd.last_mono
      && g_get_monotonic_time () - fd.last_mono < 2 * G_USEC_PER_SEC;
}

void
rts_fd_limit_note (RtsFdVerdict verdict, const char *what)
{
  gint64 now = g_get_monotonic_time ();

  if (verdict == RTS_FD_SHED)
    fd.shed++;
  else if (verdict == RTS_FD_PAUSE)
    fd.pauses++;
  else
    return;
  fd.last_mono = now;
  if (fd.logged_mono && now - fd.logged_mono < G_USEC_PER_SEC)
    return;
  rts_warn ("out of open files (limit %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
            " kept for the cameras, probes and readers playing): %s %s; "
            "since start %" G_GUINT64_FORMAT
            " connection(s) closed unserved, accepting paused "
            "%" G_GUINT64_FORMAT
            " time(s). Raise the limit (ulimit -n; docker run --ulimit "
            "nofile=N:N; an ECS task definition's ulimits) or lower "
            "max-readers",
      fd.limit, fd.reserve, what,
      verdict == RTS_FD_SHED
          ? "closed a new connection unserved"
          : "could not take a new connection: accepting paused for 100 ms",
      fd.shed, fd.pauses);
  fd.logged_mono = now;
}

guint64
rts_fd_limit_shed (void)
{
  return fd.shed;
}

guint64
rts_fd_limit_pauses (void)
{
  return fd.pauses;
}

struct RtsAcceptor {
  GSocket *listener;
  RtsAcceptRoom room;
  char *what;
  const char *shed_answer;
  RtsAcceptTake take;
  gpointer data;
  GSource *source; /* NULL while paused */
  guint resume_id;
};

static void acceptor_start (RtsAcceptor *a);

static gboolean
acceptor_resume (gpointer data)
{
  RtsAcceptor *a = data;

  a->resume_id = 0;
  acceptor_start (a);
  return G_SOURCE_REMOVE;
}

/* A connection is waiting: taken, shed or left waiting (see fd_limit.h).
 * GSocketService and gst-rtsp-server, which this stands in front of,
 * retried a connection they could not accept at once and for ever. */
static gboolean
acceptor_ready (GSocket *listener, GIOCondition cond, gpointer data)
{
  RtsAcceptor *a = data;
  int listen_fd = g_socket_get_fd (listener);
  RtsFdVerdict verdict = a->room ? rts_fd_limit_verdict_http (listen_fd)
                                 : rts_fd_limit_verdict (listen_fd);

  if (verdict == RTS_FD_SHED && a->room && a->room (a->data))
    verdict = rts_fd_limit_verdict_http_deep (listen_fd);

  if (verdict == RTS_FD_TAKE) {
    if (a->take (listener, a->data))
      return G_SOURCE_CONTINUE;
    verdict = RTS_FD_PAUSE;
  } else if (verdict == RTS_FD_SHED) {
    g_autoptr (GError) err = NULL;
    g_autoptr (GSocket) conn = g_socket_accept (listener, NULL, &err);
    if (conn) {
      g_socket_set_blocking (conn, FALSE);
      if (a->shed_answer)
        g_socket_send (conn, a->shed_answer, strlen (a->shed_answer), NULL,
            NULL);
      g_socket_close (conn, NULL);
    } else if (g_error_matches (err, G_IO_ERROR,
                   G_IO_ERROR_TOO_MANY_OPEN_FILES)) {
      verdict = RTS_FD_PAUSE;
    } else {
      return G_SOURCE_CONTINUE; /* that connection's own failure */
    }
  }
  rts_fd_limit_note (verdict, a->what);
  if (verdict == RTS_FD_SHED)
    return G_SOURCE_CONTINUE;
  /* The waiting connection stays readable: polling on would spin. */
  g_clear_pointer (&a->source, g_source_unref);
  a->resume_id = g_timeout_add (RTS_FD_PAUSE_MS, acceptor_resume, a);
  return G_SOURCE_REMOVE;
}

static void
acceptor_start (RtsAcceptor *a)
{
  a->source = g_socket_create_source (a->listener, G_IO_IN, NULL);
  g_source_set_callback (a->source,
      (GSourceFunc) (void (*) (void)) acceptor_ready, a, NULL);
  g_source_attach (a->source, NULL);
}

RtsAcceptor *
rts_acceptor_new (GSocket *listener, RtsAcceptRoom room, const char *what,
    const char *shed_answer, RtsAcceptTake take, gpointer data)
{
  RtsAcceptor *a = g_new0 (RtsAcceptor, 1);

  a->listener = g_object_ref (listener);
  a->room = room;
  a->what = g_strdup (what);
  a->shed_answer = shed_answer;
  a->take = take;
  a->data = data;
  acceptor_start (a);
  return a;
}

void
rts_acceptor_free (RtsAcceptor *a)
{
  if (!a)
    return;
  g_clear_handle_id (&a->resume_id, g_source_remove);
  if (a->source) {
    g_source_destroy (a->source);
    g_clear_pointer (&a->source, g_source_unref);
  }
  g_object_unref (a->listener);
  g_free (a->what);
  g_free (a);
}
