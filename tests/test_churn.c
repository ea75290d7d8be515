/* Churn: readers that connect, PLAY, and vanish without TEARDOWN (plain
 * close, TCP reset, killed process), over TCP and UDP, hundreds of times
 * against the real server. Afterwards every session is reaped, the readers
 * gauge in /metrics is back to zero, and RSS, fds and threads are back near
 * where they started.
 *
 * RTS_CHURN_CYCLES=N sets the cycles per test (default 200; the big run is
 * 2000). */
#include "procstat.h"
#include "rtsp_reader.h"
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CYCLES 200
/* One-time allocations (thread pools, the first UDP destinations, GLib
 * caches) happen in the first cycles; they are not growth. */
#define WARM_UP_CYCLES 8
/* The target: under 5 MB after 2,000 cycles. */
#define RSS_BUDGET_KIB (5 * 1024)
/* In flight at any moment: a health probe's connection per port (server
 * side), a log pipe write, a GStreamer task's eventfd. */
#define FD_SLACK 6
/* gst-rtsp-server and GLib pools keep idle threads for a while (GLib's
 * default is 15 s) before they exit; a few may still be around. */
#define THREAD_SLACK 6

static guint
cycles (void)
{
  const char *env = g_getenv ("RTS_CHURN_CYCLES");
  guint n = env ? (guint) atoi (env) : DEFAULT_CYCLES;
  return MAX (n, 4);
}

static const char *
vanish_name (RtsVanish how)
{
  switch (how) {
    case RTS_VANISH_TEARDOWN:
      return "teardown";
    case RTS_VANISH_CLOSE:
      return "close";
    case RTS_VANISH_RST:
      return "rst";
  }
  return "?";
}

typedef struct {
  guint port;
  RtsReaderTransport transport;
  RtsVanish how;
  gboolean kill; /* a child process that gets SIGKILL, not HOW */
  guint cycles;
  guint done;
  guint failed;
  guint reap_checks;
  guint64 leftover_packets; /* RTP that reached a vanished UDP reader */
  char *first_error;
} Worker;

static void
worker_fail (Worker *w, const char *what)
{
  w->failed++;
  if (!w->first_error)
    w->first_error = g_strdup (what);
}

/* A reader in a child process (this test binary with --child), so that
 * the kernel, not our code, closes its sockets when it is killed. */
static void
killed_cycle (Worker *w)
{
  g_autofree char *port = g_strdup_printf ("%u", w->port);
  const char *argv[] = { "/proc/self/exe", "--child", port,
    w->transport == RTS_READER_UDP ? "udp" : "tcp", NULL };
  g_autoptr (GError) err = NULL;
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  child = ts_spawn (argv,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &err);
  if (!child) {
    worker_fail (w, err->message);
    return;
  }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  /* The child bounds itself (10 s to play, then exits), so this read ends. */
  line = g_data_input_stream_read_line (out, NULL, NULL, NULL);
  if (!line || strcmp (line, "playing") != 0)
    worker_fail (w, line ? line : "child died before playing");
  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, NULL);
}

static gpointer
churn_worker (gpointer data)
{
  Worker *w = data;

  for (guint i = 0; i < w->cycles; i++, w->done++) {
    g_autoptr (GError) err = NULL;
    RtsReader *r;

    if (w->kill) {
      killed_cycle (w);
      continue;
    }
    r = rts_reader_play (w->port, "/stream", w->transport, 10, &err);
    if (!r) {
      worker_fail (w, err->message);
      continue;
    }
    /* Playing means packets: the vanishing happens mid-stream. */
    if (!rts_reader_receive (r, 3, 10))
      worker_fail (w,
          "no RTP within 10 s of PLAY (the camera stalled? see "
          "docs/reliability-hostile.md)");
    /* Now and then, prove the UDP session is gone, not just its
     * connection: nothing more reaches the port it was sending to. */
    if (w->transport == RTS_READER_UDP && i % 25 == 1) {
      guint64 late = 0;
      rts_reader_vanish (r, w->how);
      /* The server tears the session down when it sees the close: on a
       * loaded machine that can take a moment, so a quiet second within
       * five is enough. A session left to its 60 s timeout keeps sending
       * the whole time. */
      for (guint t = 0; t < 5; t++)
        if ((late = rts_reader_udp_packets_after (r, 1.0)) == 0)
          break;
      w->leftover_packets += late;
      w->reap_checks++;
    }
    rts_reader_close (r, w->how);
  }
  return NULL;
}

static gboolean
wait_readers_zero (TsServer *s, double timeout, double *last)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout * 1e6);
  do {
    *last = ts_metric_sum (s, "rtsp_test_server_readers{");
    if (*last == 0)
      return TRUE;
    g_usleep (100 * 1000);
  } while (g_get_monotonic_time () < end);
  return FALSE;
}

/* Runs N cycles spread over the four cameras at once (one thread each):
 * readers come and go on every camera while others are mid-handshake. */
static void
run_workers (TsServer *s, RtsReaderTransport t, RtsVanish how, gboolean kill,
    guint n, Worker *total)
{
  Worker w[4];
  GThread *th[4];

  memset (total, 0, sizeof *total);
  for (guint i = 0; i < 4; i++) {
    w[i] = (Worker){ .port = s->rtsp_ports[i],
      .transport = t,
      .how = how,
      .kill = kill,
      .cycles = n / 4 + (i < n % 4) };
    th[i] = g_thread_new ("churn", churn_worker, &w[i]);
  }
  for (guint i = 0; i < 4; i++) {
    g_thread_join (th[i]);
    total->done += w[i].done;
    total->failed += w[i].failed;
    total->reap_checks += w[i].reap_checks;
    total->leftover_packets += w[i].leftover_packets;
    if (w[i].first_error && !total->first_error)
      total->first_error = g_strdup (w[i].first_error);
    g_free (w[i].first_error);
  }
}

/* RTS_CHURN_MALLOC_TRIM=1 (investigation, needs gdb and ptrace): is the
 * growth a leak or memory malloc keeps? glibc's malloc_stats gives the
 * bytes in use (a leak grows them) against the bytes held; malloc_trim
 * hands free pages back, so RSS after it is what is really in use. Called
 * at the baseline and after the churn. */
static void
malloc_experiment (TsServer *s, GPid pid, const char *when, gboolean trim)
{
  g_autofree char *p = g_strdup_printf ("%d", pid);
  const char *argv[] = { "gdb", "-p", p, "-batch", "-ex",
    "call (void) malloc_stats()", "-ex",
    trim ? "call (int) malloc_trim(0)" : "echo", NULL };
  TsProcStat before, now;
  guint blocks = ts_server_log_count (s, "Total (incl. mmap):");
  int status;
  double in_use = -1;

  if (!g_getenv ("RTS_CHURN_MALLOC_TRIM"))
    return;
  ts_proc_stat (pid, &before);
  status = ts_run (argv, 60, NULL, NULL, NULL);
  ts_proc_stat (pid, &now);
  if (ts_server_wait_log (s, "Total (incl. mmap):", blocks + 1, 5)) {
    g_mutex_lock (&s->lock);
    const char *t = g_strrstr (s->log->str, "Total (incl. mmap):");
    const char *u = t ? strstr (t, "in use bytes") : NULL;
    if (u)
      in_use = g_ascii_strtod (strchr (u, '=') + 1, NULL);
    g_mutex_unlock (&s->lock);
  }
  g_test_message ("malloc experiment %s: gdb exited %d; malloc in use %.1f "
                  "MiB; RSS %" G_GUINT64_FORMAT " KiB%s%" G_GUINT64_FORMAT
                  " KiB",
      when, status, in_use / 1048576.0, before.rss_kib,
      trim ? ", after malloc_trim " : " / ", now.rss_kib);
}

static void
churn (RtsReaderTransport t, RtsVanish how, gboolean kill)
{
  TsServer *s = ts_server_start (NULL);
  const char *tname = t == RTS_READER_UDP ? "udp" : "tcp";
  const char *hname = kill ? "kill" : vanish_name (how);
  /* A process per cycle costs more than the churn it measures. */
  guint n = kill ? MAX (cycles () / 4, 4) : cycles ();
  Worker total;
  TsProcStat base, after;
  GPid pid;
  double readers = -1;
  gint64 t0;
  gboolean asan;

  g_assert_nonnull (s);
  pid = ts_pid_of (s->proc);
  asan = ts_proc_has_asan (pid);
  g_assert_true (ts_server_wait_log (s, "readiness: ready", 1, 20));

  run_workers (s, t, how, kill, kill ? 4 : WARM_UP_CYCLES, &total);
  g_assert_cmpuint (total.failed, ==, 0);
  g_free (total.first_error);
  g_assert_true (wait_readers_zero (s, 10, &readers));
  /* The baseline is the process at rest after its warm-up. */
  g_assert_true (ts_proc_stat (pid, &base));
  g_assert_true (ts_proc_settle (pid, &base, 0, 0, 3, &after));
  base.fds = after.fds;
  base.threads = after.threads;
  malloc_experiment (s, pid, "at baseline", FALSE);

  t0 = g_get_monotonic_time ();
  run_workers (s, t, how, kill, n, &total);
  g_test_message ("churn %s/%s: %u cycles in %.1f s, %u failed%s%s; "
                  "%u UDP reap checks, %" G_GUINT64_FORMAT
                  " packets after vanishing",
      tname, hname, total.done, (g_get_monotonic_time () - t0) / 1e6,
      total.failed, total.first_error ? ", first: " : "",
      total.first_error ? total.first_error : "", total.reap_checks,
      total.leftover_packets);
  g_assert_cmpuint (total.done, ==, n);
  /* A camera that stopped for good (docs/reliability-hostile.md, fixed)
   * fails its readers here. */
  g_assert_cmpuint (total.failed, ==, 0);
  g_free (total.first_error);
  /* A vanished UDP reader's session is gone at once (gst-rtsp-server's
   * stop-on-disconnect), not after the 60 s session timeout. */
  g_assert_cmpuint (total.leftover_packets, ==, 0);

  if (!wait_readers_zero (s, 15, &readers))
    g_error ("readers gauge still %.0f 15 s after the churn", readers);
  /* The gauge drops just before the log line is written: wait for it. */
  g_assert_true (ts_server_wait_log (s, "reader disconnected",
      ts_server_log_count (s, "reader connected"), 5));
  g_assert_cmpuint (ts_server_log_count (s, "reader connected"), ==,
      ts_server_log_count (s, "reader disconnected"));

  gboolean settled =
      ts_proc_settle (pid, &base, FD_SLACK, THREAD_SLACK, 20, &after);
  g_test_message ("churn %s/%s after %u cycles: RSS %" G_GUINT64_FORMAT
                  " -> %" G_GUINT64_FORMAT " KiB (%+.1f KiB/cycle)%s, "
                  "fds %u -> %u, threads %u -> %u",
      tname, hname, n, base.rss_kib, after.rss_kib,
      ((double) after.rss_kib - (double) base.rss_kib) / n,
      asan ? " [ASan: RSS not judged]" : "", base.fds, after.fds, base.threads,
      after.threads);
  malloc_experiment (s, pid, "after churn", TRUE);
  g_assert_true (settled);
  if (!asan)
    g_assert_cmpint ((gint64) after.rss_kib - (gint64) base.rss_kib, <,
        RSS_BUDGET_KIB);
  /* Under ASan the exit status also says LeakSanitizer found nothing. */
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static void
test_tcp_close (void)
{
  churn (RTS_READER_TCP, RTS_VANISH_CLOSE, FALSE);
}

static void
test_tcp_rst (void)
{
  churn (RTS_READER_TCP, RTS_VANISH_RST, FALSE);
}

static void
test_udp_close (void)
{
  churn (RTS_READER_UDP, RTS_VANISH_CLOSE, FALSE);
}

static void
test_udp_rst (void)
{
  churn (RTS_READER_UDP, RTS_VANISH_RST, FALSE);
}

static void
test_killed (void)
{
  churn (RTS_READER_TCP, RTS_VANISH_CLOSE, TRUE);
  churn (RTS_READER_UDP, RTS_VANISH_CLOSE, TRUE);
}

/* Fast TCP resets: the bench client's churn, eight readers at a time, each
 * reset the moment its first packet arrives, thousands of cycles a second
 * (the test above does a few hundred a second). A reader reset while its
 * frame was being written once made gst-rtsp-server close a client after
 * it was freed, and the heap corrupted within a few thousand cycles (src/
 * sender.c, hold()). Afterwards the server is alive, healthy, plays, and
 * stops cleanly (under ASan: with no error). */
static void
test_fast_rst (void)
{
  const char *client = g_getenv ("RTS_BENCH_CLIENT");
  TsServer *s = ts_server_start (NULL);
  char *u[4] = { NULL };
  g_autoptr (JsonObject) h = NULL;

  g_assert_nonnull (client);
  g_assert_nonnull (s);
  g_assert_true (ts_server_wait_log (s, "readiness: ready", 1, 20));
  for (guint i = 0; i < 4; i++)
    u[i] = ts_rtsp_url (s, i);
  for (guint round = 0; round < 3; round++) {
    const char *argv[] = { client, "churn", "-n", "2000", "--warmup", "0",
      "--settle", "0", u[0], u[1], u[2], u[3], NULL };
    g_autoptr (GBytes) out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *text = NULL;
    double took = 0;
    int rc = ts_run (argv, 120, &out, &err, &took);

    text = ts_bytes_text (out);
    g_strstrip (text);
    g_test_message ("fast rst round %u: %.1f s: %s", round + 1, took, text);
    g_assert_cmpint (rc, ==, 0);
    g_assert_nonnull (strstr (text, "\"failed\":0,"));
    /* Still running: the server, not its corpse, answers what follows. */
    g_assert_nonnull (g_subprocess_get_identifier (s->proc));
  }
  h = ts_wait_health (s->http_port, 200, -1, 5);
  g_assert_nonnull (h);
  g_assert_cmpstr (json_object_get_string_member (h, "status"), ==, "healthy");
  {
    g_autoptr (GError) err = NULL;
    RtsReader *r =
        rts_reader_play (s->rtsp_ports[1], "/stream", RTS_READER_TCP, 10, &err);
    g_assert_no_error (err);
    g_assert_true (rts_reader_receive (r, 30, 10));
    rts_reader_close (r, RTS_VANISH_CLOSE);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
  for (guint i = 0; i < 4; i++)
    g_free (u[i]);
}

/* --child PORT tcp|udp: play, say "playing", and wait to be killed. */
static int
child_main (const char *port, const char *transport)
{
  g_autoptr (GError) err = NULL;
  RtsReader *r = rts_reader_play ((guint) atoi (port), "/stream",
      g_str_equal (transport, "udp") ? RTS_READER_UDP : RTS_READER_TCP, 10,
      &err);

  if (!r || !rts_reader_receive (r, 3, 10)) {
    printf ("failed: %s\n", err ? err->message : "no RTP");
    return 1;
  }
  printf ("playing\n");
  fflush (stdout);
  /* Bounded: a parent that died without killing us must not leave us. */
  g_usleep (60 * G_USEC_PER_SEC);
  rts_reader_close (r, RTS_VANISH_CLOSE);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && g_str_equal (argv[1], "--child"))
    return child_main (argv[2], argv[3]);

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/churn/tcp-close", test_tcp_close);
  g_test_add_func ("/churn/tcp-rst", test_tcp_rst);
  g_test_add_func ("/churn/udp-close", test_udp_close);
  g_test_add_func ("/churn/udp-rst", test_udp_rst);
  g_test_add_func ("/churn/killed", test_killed);
  g_test_add_func ("/churn/fast-rst", test_fast_rst);
  return g_test_run ();
}
