/* Hostile wire input against the real server: bounded storms of random
 * bytes, oversized request lines and headers, bad CSeq, absurd
 * Content-Length, unknown mounts, pipelined garbage, half-open and slow
 * connections, on every RTSP port and the HTTP port. Throughout, a
 * well-behaved reader on every camera receives every frame the camera sends
 * (no sequence gap; its frame count matches the server's own count),
 * /health/live answers 200 and the process lives; afterwards its fds,
 * threads and RSS are back near where they started.
 *
 * Also the limits of issue 7, part 5: tests for each, skipped (naming the
 * missing setting) until the server has it. */
#include "procstat.h"
#include "rtsp_reader.h"
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Transient at any moment: a health probe's connection per port and the
 * storm's last sockets in the server's close path. */
#define FD_SLACK 8
/* GLib and gst-rtsp-server pools keep idle threads for a while (GLib's
 * default is 15 s) before they exit. */
#define THREAD_SLACK 6
/* The storms send a few MiB through the server (1 MiB lines, 64 KiB header
 * blocks); glibc keeps freed memory in its arenas rather than returning it
 * (test_churn.c measures this: malloc_trim gives it back). 8 MiB is that
 * retention with room; a leak per request (hundreds of requests, some of a
 * MiB) would pass it. */
#define RSS_SLACK_KIB (8 * 1024)

#define MIB (1024 * 1024)

/* ------------------------------------------------------------------ */
/* Watching the server while it is attacked. */

typedef struct {
  TsServer *s;
  RtsReader *readers[5]; /* TCP on each camera, UDP on cam1 */
  double sent0[4];       /* the server's frames_sent_total at the start */
  RtsReaderStats stats0[5];
  GThread *live_thread;
  gint stop;
  guint live_ok, live_bad;
  gint64 live_worst_us;
  TsProcStat base;
  GPid pid;
  gboolean asan;
} Watch;

/* The server's counter NAME (without its prefix) for camera CAM. */
static double
camera_metric (TsServer *s, const char *name, guint cam)
{
  g_autofree char *body = NULL;
  g_autofree char *err = NULL;
  g_autofree char *key =
      g_strdup_printf ("rtsp_test_server_%s{camera=\"cam%u\",port=\"%u\"}",
          name, cam + 1, s->rtsp_ports[cam]);
  g_autoptr (GHashTable) samples =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  double *v;

  g_assert_cmpuint (ts_http (s->http_port, "GET", "/metrics", NULL, NULL, &body,
                        NULL),
      ==, 200);
  if (ts_prom_parse (body, samples, &err) < 0)
    g_error ("/metrics does not parse: %s", err);
  v = g_hash_table_lookup (samples, key);
  g_assert_nonnull (v);
  return *v;
}

static gpointer
live_poller (gpointer data)
{
  Watch *w = data;

  while (!g_atomic_int_get (&w->stop)) {
    gint64 t0 = g_get_monotonic_time ();
    guint status = ts_http (w->s->http_port, "GET", "/health/live", NULL, NULL,
        NULL, NULL);
    gint64 took = g_get_monotonic_time () - t0;

    if (status == 200)
      w->live_ok++;
    else
      w->live_bad++;
    w->live_worst_us = MAX (w->live_worst_us, took);
    g_usleep (100 * 1000);
  }
  return NULL;
}

static void
watch_start (Watch *w, TsServer *s)
{
  memset (w, 0, sizeof *w);
  w->s = s;
  w->pid = ts_pid_of (s->proc);
  w->asan = ts_proc_has_asan (w->pid);
  g_assert_true (ts_server_wait_log (s, "readiness: ready", 1, 20));
  /* Start-up's stills made and their memory trimmed: RSS judged from a
   * process at rest. */
  g_assert_true (ts_server_wait_log (s, "snapshots: stills of", 1, 20));
  for (guint i = 0; i < 5; i++) {
    g_autoptr (GError) err = NULL;
    w->readers[i] = rts_reader_play (s->rtsp_ports[i % 4], "/stream",
        i < 4 ? RTS_READER_TCP : RTS_READER_UDP, 10, &err);
    g_assert_no_error (err);
    g_assert_true (rts_reader_receive (w->readers[i], 1, 10));
    rts_reader_start_thread (w->readers[i]);
  }
  /* Let every reader reach steady state before the counts start. */
  g_usleep (G_USEC_PER_SEC);
  /* Readers first, the server's count after: every frame the server
   * counts from here on arrives after the readers' snapshot. */
  for (guint i = 0; i < 5; i++)
    rts_reader_stats (w->readers[i], &w->stats0[i]);
  for (guint i = 0; i < 4; i++)
    w->sent0[i] = camera_metric (s, "frames_sent_total", i);
  g_assert_true (ts_proc_stat (w->pid, &w->base));
  w->live_thread = g_thread_new ("live", live_poller, w);
}

/* For the post-mortem of fds that did not come back: the server's TCP
 * sockets by state and peer. */
static void
show_sockets (GPid pid)
{
  g_autofree char *filter = g_strdup_printf ("pid=%d,", pid);
  const char *argv[] = { "ss", "-tanp", NULL };
  g_autoptr (GBytes) out = NULL;
  g_auto (GStrv) lines = NULL;

  if (ts_run (argv, 10, &out, NULL, NULL) != 0 || !out)
    return;
  lines = g_strsplit (g_bytes_get_data (out, NULL), "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], filter))
      g_test_message ("  %s", lines[i]);
}

/* Every reader got every frame the camera sent meanwhile, /health/live
 * never failed, the process lives and gives back what it took. */
static void
watch_finish (Watch *w, const char *what)
{
  TsProcStat after;
  gboolean settled;

  g_atomic_int_set (&w->stop, 1);
  g_thread_join (w->live_thread);
  g_assert_true (ts_proc_stat (w->pid, &after));
  /* The server's count first, the readers' after a moment: every frame it
   * counted by then has reached every reader. */
  RtsReaderStats st[5];
  double sent[5], secs[5];
  guint64 frames[5];
  for (guint i = 0; i < 5; i++)
    sent[i] =
        camera_metric (w->s, "frames_sent_total", i % 4) - w->sent0[i % 4];
  /* A reader thread starved on a busy machine reads them a little later:
   * up to 5 s, counted, not slept. */
  for (gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;;) {
    guint behind = 0;
    for (guint i = 0; i < 5; i++) {
      rts_reader_stats (w->readers[i], &st[i]);
      behind += st[i].frames - w->stats0[i].frames < sent[i];
    }
    if (!behind || g_get_monotonic_time () > end)
      break;
    g_usleep (100 * 1000);
  }
  for (guint i = 0; i < 5; i++) {
    guint cam = i % 4;
    g_autofree char *line = NULL;

    frames[i] = st[i].frames - w->stats0[i].frames;
    secs[i] = (st[i].last_us - w->stats0[i].last_us) / 1e6;
    line = g_strdup_printf ("%s: reader %u (cam%u %s): %" G_GUINT64_FORMAT
                            " frames in %.1f s (%.1f fps), server sent %.0f; "
                            "%" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
                            " gaps, %" G_GUINT64_FORMAT
                            " lost; the camera's readers waited %.0f times, "
                            "skipped %.0f frames%s%s",
        what, i, cam + 1, i < 4 ? "tcp" : "udp", frames[i], secs[i],
        frames[i] / secs[i], sent[i], st[i].packets - w->stats0[i].packets,
        st[i].gaps, st[i].lost, camera_metric (w->s, "reader_waits_total", cam),
        camera_metric (w->s, "reader_frames_dropped_total", cam),
        rts_reader_error (w->readers[i]) ? "; error: " : "",
        rts_reader_error (w->readers[i]) ? rts_reader_error (w->readers[i])
                                         : "");
    g_test_message ("%s", line);
    /* TAP output is not shown when a test fails: the figures that tell
     * why go where they are. */
    if (rts_reader_error (w->readers[i]) || st[i].gaps || frames[i] < sent[i])
      g_printerr ("%s (the server said %u times that it did not run)\n", line,
          ts_server_log_count (w->s, "the process did not run"));
  }
  for (guint i = 0; i < 5; i++) {
    g_assert_null (rts_reader_error (w->readers[i]));
    g_assert_cmpuint (st[i].gaps, ==, 0);
    g_assert_cmpuint (st[i].lost, ==, 0);
    /* At least every frame the server counted: one lost frame fails.
     * At most what three seconds more bring (the snapshots' order above
     * leaves some on the reader's side). */
    g_assert_cmpfloat ((double) frames[i], >=, sent[i]);
    g_assert_cmpfloat ((double) frames[i], <=, sent[i] + 90);
    /* And the camera kept its rate: 30 fps, generously bounded for a
     * loaded machine. */
    g_assert_cmpfloat (frames[i], >=, 30 * secs[i] * 0.7);
    rts_reader_close (w->readers[i], RTS_VANISH_TEARDOWN);
  }
  g_test_message ("%s: /health/live %u x 200, %u failed, slowest %.0f ms", what,
      w->live_ok, w->live_bad, w->live_worst_us / 1e3);
  g_assert_cmpuint (w->live_bad, ==, 0);
  g_assert_cmpuint (w->live_ok, >, 0);

  settled =
      ts_proc_settle (w->pid, &w->base, FD_SLACK, THREAD_SLACK, 20, &after);
  g_test_message ("%s: RSS %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                  " KiB%s, fds %u -> %u, threads %u -> %u",
      what, w->base.rss_kib, after.rss_kib,
      w->asan ? " [ASan: RSS not judged]" : "", w->base.fds, after.fds,
      w->base.threads, after.threads);
  if (!settled)
    show_sockets (w->pid);
  g_assert_true (settled);
  if (!w->asan)
    g_assert_cmpint ((gint64) after.rss_kib - (gint64) w->base.rss_kib, <,
        RSS_SLACK_KIB);
  g_assert_cmpint (ts_server_stop (w->s, 10, NULL), ==, 0);
  ts_server_free (w->s);
}

/* ------------------------------------------------------------------ */
/* Attacks: many connections at once, each sends its bytes; then the
 * answers are collected against one deadline. */

typedef struct {
  const char *name;
  GBytes *payload;
  gboolean shut_wr;  /* half-close after sending */
  gboolean want_eof; /* keep reading until the server closes */
  gboolean quiet;    /* no answer is due: take what came, wait for none */
  guint answers;     /* answers to wait for (pipelined requests); 0 = 1 */
  GSocket *sock;
  GString *answer;
  gboolean send_failed;
  gboolean closed; /* EOF or reset */
  int status;      /* first status code, 0 if none */
} Attack;

static GSocket *
connect_to (guint port)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, port);
  g_autoptr (GError) err = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);

  g_assert_no_error (err);
  g_socket_set_timeout (sock, 10);
  g_socket_connect (sock, sa, NULL, &err);
  g_assert_no_error (err);
  return sock;
}

static gboolean
heads_complete (Attack *a)
{
  guint n = 0;
  for (const char *p = a->answer->str; (p = strstr (p, "\r\n\r\n")); p++)
    n++;
  return n >= MAX (a->answers, 1);
}

static void
collect (Attack *a, gint64 deadline)
{
  char buf[16384];

  while (!a->closed && (a->want_eof || !heads_complete (a))) {
    /* Past the deadline, what has already arrived still counts: the
     * answers of many connections come in while one is waited for. */
    gint64 left = MAX (deadline - g_get_monotonic_time (), 0);
    gssize n;
    if (!g_socket_condition_timed_wait (a->sock, G_IO_IN, left, NULL, NULL))
      break;
    n = g_socket_receive (a->sock, buf, sizeof buf, NULL, NULL);
    if (n <= 0)
      a->closed = TRUE;
    else
      g_string_append_len (a->answer, buf, n);
  }
  if (g_str_has_prefix (a->answer->str, "RTSP/1.0 ")
      || g_str_has_prefix (a->answer->str, "HTTP/1."))
    a->status = atoi (a->answer->str + 9);
}

/* Runs every attack in A at once against PORT and waits up to WAIT
 * seconds for the answers. */
static void
storm (guint port, Attack *a, guint n, double wait)
{
  gint64 deadline;

  for (guint i = 0; i < n; i++) {
    gsize len;
    const char *data = g_bytes_get_data (a[i].payload, &len);
    g_autoptr (GError) err = NULL;

    a[i].sock = connect_to (port);
    a[i].answer = g_string_new (NULL);
    /* A server that refuses a MiB midway resets the connection: that is
     * an answer, not a test failure. */
    while (len > 0) {
      gssize sent = g_socket_send (a[i].sock, data, len, NULL, &err);
      if (sent <= 0) {
        a[i].send_failed = TRUE;
        break;
      }
      data += sent;
      len -= sent;
    }
    if (a[i].shut_wr)
      g_socket_shutdown (a[i].sock, FALSE, TRUE, NULL);
  }
  deadline = g_get_monotonic_time () + (gint64) (wait * 1e6);
  for (guint i = 0; i < n; i++)
    if (!a[i].quiet)
      collect (&a[i], deadline);
  for (guint i = 0; i < n; i++) {
    if (a[i].quiet)
      collect (&a[i], 0);
    g_socket_close (a[i].sock, NULL);
    g_clear_object (&a[i].sock);
  }
}

static void
attacks_free (Attack *a, guint n)
{
  for (guint i = 0; i < n; i++) {
    g_bytes_unref (a[i].payload);
    if (a[i].answer)
      g_string_free (a[i].answer, TRUE);
  }
  g_free (a);
}

static GBytes *
random_bytes (gsize len)
{
  guint8 *d = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    d[i] = (guint8) g_test_rand_int_range (0, 256);
  return g_bytes_new_take (d, len);
}

static GBytes *text (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static GBytes *
text (const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return g_bytes_new_take (s, strlen (s));
}

/* PREFIX, then LEN bytes of FILL (a repeated line or a byte), then
 * SUFFIX. */
static GBytes *
big (const char *prefix, const char *fill, gsize len, const char *suffix)
{
  GString *s = g_string_sized_new (len + 256);
  gsize f = strlen (fill);

  g_string_append (s, prefix);
  while (s->len < len + strlen (prefix))
    g_string_append_len (s, fill, f);
  g_string_append (s, suffix);
  return g_string_free_to_bytes (s);
}

/* ------------------------------------------------------------------ */
/* RTSP */

/* BIG: 0 none, 1 a 1 MiB request line, 2 a 1 MiB header. Each costs the
 * server 1.5 s of CPU (GstRTSPConnection parses byte by byte), so a storm
 * carries one, not dozens. */
static Attack *
rtsp_attacks (guint port, guint with_big, guint *n_out)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (Attack));
  g_autofree char *url = g_strdup_printf ("rtsp://127.0.0.1:%u/stream", port);
  Attack x;

#define ADD(NAME, PAYLOAD, ...)                                                \
  do {                                                                         \
    x = (Attack){ .name = NAME, .payload = PAYLOAD, __VA_ARGS__ };             \
    g_array_append_val (a, x);                                                 \
  } while (0)

  for (guint i = 0; i < 40; i++)
    ADD ("random bytes", random_bytes (g_test_rand_int_range (1, 16384)),
        .quiet = TRUE);
  for (guint i = 0; i < 10; i++) {
    g_autoptr (GBytes) junk = random_bytes (2048);
    g_autofree char *j = g_strndup (g_bytes_get_data (junk, NULL), 2048);
    ADD ("request line then random", text ("OPTIONS %s RTSP/1.0\r\n%s", url, j),
        .quiet = TRUE);
  }
  if (with_big == 1)
    ADD ("1 MiB request line",
        big ("DESCRIBE rtsp://127.0.0.1/", "a", MIB,
            " RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
  if (with_big == 2)
    ADD ("1 MiB header",
        big ("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: ", "b", MIB, "\r\n\r\n"));
  ADD ("64 KiB of header lines",
      big ("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n", "X-A: b\r\n", 64 * 1024,
          "\r\n"));
  const char *cseqs[] = { "CSeq: abc\r\n", "CSeq: -1\r\n", "CSeq: \r\n",
    "CSeq: 99999999999999999999999\r\n", "CSeq: 1\r\nCSeq: 2\r\n",
    "CSeq: 1 2 3\r\n" };
  for (guint i = 0; i < G_N_ELEMENTS (cseqs); i++)
    ADD ("bad CSeq", text ("OPTIONS %s RTSP/1.0\r\n%s\r\n", url, cseqs[i]));
  ADD ("no CSeq", text ("OPTIONS %s RTSP/1.0\r\n\r\n", url), .want_eof = TRUE);
  ADD ("Content-Length 4294967295",
      text ("SET_PARAMETER %s RTSP/1.0\r\nCSeq: 2\r\nContent-Length: "
            "4294967295\r\n\r\nabc",
          url));
  ADD ("Content-Length -5",
      text ("SET_PARAMETER %s RTSP/1.0\r\nCSeq: 2\r\nContent-Length: "
            "-5\r\n\r\n",
          url));
  ADD ("Content-Length 99999999999999999999",
      text ("SET_PARAMETER %s RTSP/1.0\r\nCSeq: 2\r\nContent-Length: "
            "99999999999999999999\r\n\r\n",
          url));
  ADD ("Content-Length abc",
      text ("SET_PARAMETER %s RTSP/1.0\r\nCSeq: 2\r\nContent-Length: "
            "abc\r\n\r\n",
          url));
  ADD ("unknown mount",
      text ("DESCRIBE rtsp://127.0.0.1:%u/nope RTSP/1.0\r\n"
            "CSeq: 3\r\n\r\n",
          port));
  ADD ("unknown mount SETUP",
      text ("SETUP rtsp://127.0.0.1:%u/nope/stream=0 RTSP/1.0\r\nCSeq: 3\r\n"
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
          port));
  ADD ("unknown session PLAY",
      text ("PLAY %s RTSP/1.0\r\nCSeq: 3\r\nSession: nosuchsession\r\n\r\n",
          url));
  ADD ("dot-dot mount",
      text ("DESCRIBE rtsp://127.0.0.1:%u/stream/../../etc "
            "RTSP/1.0\r\nCSeq: 3\r\n\r\n",
          port));
  ADD ("pipelined garbage",
      text ("OPTIONS %s RTSP/1.0\r\nCSeq: 1\r\n\r\n\x01\x02garbage\xff\xfe\r\n"
            "\r\nOPTIONS %s RTSP/1.0\r\nCSeq: 2\r\n\r\n",
          url, url));
  {
    GString *many = g_string_new (NULL);
    for (guint i = 1; i <= 50; i++)
      g_string_append_printf (many, "OPTIONS %s RTSP/1.0\r\nCSeq: %u\r\n\r\n",
          url, i);
    ADD ("50 pipelined OPTIONS", g_string_free_to_bytes (many), .answers = 50);
  }
  for (guint i = 0; i < 5; i++) {
    /* RTP/RTCP frames from a client that never set up a session. */
    GString *d = g_string_new (NULL);
    for (guint f = 0; f < 16; f++) {
      g_autoptr (GBytes) r = random_bytes (4096);
      g_string_append_c (d, '$');
      g_string_append_c (d, (char) g_test_rand_int_range (0, 256));
      g_string_append_c (d, 0x10);
      g_string_append_c (d, 0x00);
      g_string_append_len (d, g_bytes_get_data (r, NULL), 4096);
    }
    ADD ("interleaved garbage", g_string_free_to_bytes (d), .quiet = TRUE);
  }
  ADD ("HTTP on the RTSP port", text ("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (guint i = 0; i < 3; i++)
    ADD ("RTSP-over-HTTP tunnel GET",
        text ("GET /stream HTTP/1.0\r\nx-sessioncookie: hostile%u\r\n"
              "Accept: application/x-rtsp-tunnelled\r\n\r\n",
            i),
        .quiet = TRUE);
  for (guint i = 0; i < 5; i++)
    ADD ("half-open (partial request, FIN)",
        text ("DESCRIBE %s RTSP/1.0\r\nCSe", url), .shut_wr = TRUE,
        .want_eof = TRUE);
#undef ADD
  *n_out = a->len;
  return (Attack *) g_array_free (a, FALSE);
}

static Attack *
find (Attack *a, guint n, const char *name)
{
  for (guint i = 0; i < n; i++)
    if (g_str_equal (a[i].name, name))
      return &a[i];
  g_error ("no attack %s", name);
}

static void
expect_status (Attack *a, guint n, const char *name, int status)
{
  Attack *x = find (a, n, name);
  if (x->status != status)
    g_error ("%s: expected %d, got %d (%s%.60s)", name, status, x->status,
        x->closed ? "closed; " : "", x->answer->str);
}

static void
expect_answer (Attack *a, guint n, const char *name, const char *needle)
{
  Attack *x = find (a, n, name);
  if (!strstr (x->answer->str, needle))
    g_error ("%s: no '%s' in the answer: %.300s", name, needle, x->answer->str);
}

static guint
count_answers (Attack *a, const char *prefix)
{
  guint n = 0;
  for (const char *p = a->answer->str; (p = strstr (p, prefix)); p++)
    n++;
  return n;
}

static void
test_rtsp_storm (void)
{
  TsServer *s = ts_server_start (NULL);
  Watch w;
  guint total = 0, rounds = 3;
  guint64 bytes = 0;

  g_assert_nonnull (s);
  watch_start (&w, s);
  for (guint round = 0; round < rounds; round++) {
    for (guint p = 0; p < 4; p++) {
      guint n;
      /* Each port gets one MiB-sized request in all: the first round
       * sends lines, the second headers. */
      guint with_big = round == 0 ? 1 + p % 2 : round == 1 ? 2 - p % 2 : 0;
      if (g_getenv ("RTS_HOSTILE_NO_BIG"))
        with_big = 0;
      Attack *a = rtsp_attacks (s->rtsp_ports[p], with_big, &n);

      storm (s->rtsp_ports[p], a, n, 20);
      total += n;
      for (guint i = 0; i < n; i++)
        bytes += g_bytes_get_size (a[i].payload);
      if (round == 0 && p < 2) {
        for (guint i = 0; i < n; i++)
          if (i == 0 || !g_str_equal (a[i].name, a[i - 1].name))
            g_test_message ("  %-36s -> %d%s%s", a[i].name, a[i].status,
                a[i].closed ? ", closed" : "",
                a[i].send_failed ? ", send failed" : "");
      }
      /* What the server answers, where a clear answer is due. */
      if (with_big == 1)
        expect_status (a, n, "1 MiB request line", 400);
      expect_status (a, n, "no CSeq", 400);
      expect_status (a, n, "Content-Length 4294967295", 413);
      expect_status (a, n, "Content-Length -5", 400);
      expect_status (a, n, "unknown mount", 404);
      expect_status (a, n, "unknown mount SETUP", 404);
      expect_status (a, n, "unknown session PLAY", 454);
      expect_status (a, n, "pipelined garbage", 200);
      g_assert_cmpuint (count_answers (find (a, n, "50 pipelined OPTIONS"),
                            "RTSP/1.0 200 OK"),
          ==, 50);
      for (guint i = 0; i < n; i++)
        if (a[i].shut_wr)
          g_assert_true (a[i].closed);
      attacks_free (a, n);
    }
    /* A fresh, well-behaved client is served at once after each round. */
    for (guint p = 0; p < 4; p++) {
      g_autoptr (GError) err = NULL;
      RtsReader *r = rts_reader_play (s->rtsp_ports[p], "/stream",
          RTS_READER_TCP, 10, &err);
      g_assert_no_error (err);
      g_assert_true (rts_reader_receive (r, 1, 10));
      rts_reader_close (r, RTS_VANISH_TEARDOWN);
    }
  }
  g_test_message ("RTSP storm: %u connections (%u per port per round, %u "
                  "rounds), %.1f MiB sent",
      total, total / rounds / 4, rounds, bytes / (double) MIB);
  watch_finish (&w, "RTSP storm");
}

/* ------------------------------------------------------------------ */
/* HTTP */

static Attack *
http_attacks (guint *n_out)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (Attack));
  Attack x;

#define ADD(NAME, PAYLOAD, ...)                                                \
  do {                                                                         \
    x = (Attack){ .name = NAME, .payload = PAYLOAD, __VA_ARGS__ };             \
    g_array_append_val (a, x);                                                 \
  } while (0)

  for (guint i = 0; i < 40; i++)
    ADD ("random bytes", random_bytes (g_test_rand_int_range (1, 16384)),
        .quiet = TRUE);
  for (guint i = 0; i < 2; i++) {
    ADD ("1 MiB request line",
        big ("GET /", "a", MIB, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    ADD ("1 MiB header",
        big ("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", "b", MIB,
            "\r\n\r\n"));
    ADD ("1 MiB of header lines",
        big ("GET /health HTTP/1.1\r\nHost: x\r\n", "X-A: b\r\n", MIB, "\r\n"));
  }
  ADD ("Content-Length 99999999999999",
      text ("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: "
            "99999999999999\r\n\r\nabc"),
      .quiet = TRUE);
  ADD ("8 MiB body",
      big ("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: "
           "8388608\r\n\r\n",
          "x", 8 * MIB, ""));
  ADD ("chunked body",
      text ("POST /control/cameras/cam1/faults HTTP/1.1\r\n"
            "Host: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\n\r\n"));
  ADD ("Content-Length -1",
      text ("POST /health HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: -1\r\n\r\n"),
      .quiet = TRUE);
  /* libsoup reads both as length -1: once let any body in, buffered. */
  ADD ("Content-Length -1, 8 MiB body",
      big ("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
          "x", 8 * MIB, ""));
  ADD ("Content-Length 2^67, 8 MiB body",
      big ("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: "
           "147573952589676412928\r\n\r\n",
          "x", 8 * MIB, ""));
  ADD ("unknown path", text ("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  ADD ("dot-dot path",
      text ("GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"));
  ADD ("bad method", text ("DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ADD ("made-up method", text ("BREW /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ADD ("HTTP/9.9", text ("GET /health HTTP/9.9\r\nHost: x\r\n\r\n"));
  ADD ("RTSP on the HTTP port",
      text ("OPTIONS rtsp://127.0.0.1/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
  ADD ("pipelined garbage",
      text ("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02garbage\xff"
            "\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  ADD ("control without a token",
      text ("POST /control/cameras/cam1/faults HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: 16\r\n\r\n{\"type\":\"stall\"}"));
  for (guint i = 0; i < 5; i++)
    ADD ("half-open (GET, FIN)",
        text ("GET /health/live HTTP/1.1\r\nHost: x\r\n"
              "\r\n"),
        .shut_wr = TRUE, .want_eof = TRUE);
#undef ADD
  *n_out = a->len;
  return (Attack *) g_array_free (a, FALSE);
}

static void
test_http_storm (void)
{
  TsServer *s = ts_server_start (NULL);
  Watch w;
  guint total = 0, rounds = 3;
  guint64 bytes = 0;

  g_assert_nonnull (s);
  watch_start (&w, s);
  for (guint round = 0; round < rounds; round++) {
    guint n;
    Attack *a = http_attacks (&n);

    storm (s->http_port, a, n, 3);
    total += n;
    for (guint i = 0; i < n; i++)
      bytes += g_bytes_get_size (a[i].payload);
    if (round == 0)
      for (guint i = 0; i < n; i++)
        if (i == 0 || !g_str_equal (a[i].name, a[i - 1].name))
          g_test_message ("  %-36s -> %d%s%s", a[i].name, a[i].status,
              a[i].closed ? ", closed" : "",
              a[i].send_failed ? ", send failed" : "");
    for (guint i = 0; i < n; i++) {
      /* Oversized requests are refused: a 4xx or a closed connection,
       * never served. */
      if (g_str_has_prefix (a[i].name, "1 MiB"))
        g_assert_true (a[i].closed || a[i].status >= 400);
      if (a[i].shut_wr) {
        g_assert_cmpint (a[i].status, ==, 200);
        g_assert_true (a[i].closed);
      }
    }
    /* Refused before it is read: a body is held in memory whole. */
    expect_status (a, n, "8 MiB body", 413);
    expect_status (a, n, "chunked body", 411);
    expect_status (a, n, "Content-Length -1, 8 MiB body", 400);
    expect_status (a, n, "Content-Length 2^67, 8 MiB body", 413);
    /* Answered by the server itself, not libsoup: as libsoup's are. */
    expect_answer (a, n, "8 MiB body", "\"status\":413}");
    expect_answer (a, n, "chunked body", "\"status\":411}");
    expect_answer (a, n, "Content-Length -1, 8 MiB body", "\r\nDate: ");
    expect_status (a, n, "unknown path", 404);
    expect_status (a, n, "bad method", 405);
    expect_status (a, n, "pipelined garbage", 200);
    expect_status (a, n, "control without a token", 404);
    attacks_free (a, n);
    g_assert_cmpuint (ts_http (s->http_port, "GET", "/health", NULL, NULL, NULL,
                          NULL),
        ==, 200);
  }
  g_test_message ("HTTP storm: %u connections (%u per round, %u rounds), "
                  "%.1f MiB sent",
      total, total / rounds, rounds, bytes / (double) MIB);
  watch_finish (&w, "HTTP storm");
}

/* ------------------------------------------------------------------ */
/* Slow and half-open connections */

#define SLOW_PER_PORT 24
#define SLOW_SECONDS 10

/* Slowloris: connections that send a request one byte at a time and never
 * finish it, and connections that never send anything, on every port at
 * once. The server must go on serving everyone else. Whether it closes
 * them (it should, after an idle timeout) is reported, and tested in
 * /limits/idle-timeout. */
static void
test_slowloris (void)
{
  TsServer *s = ts_server_start (NULL);
  Watch w;
  GPtrArray *socks = g_ptr_array_new_with_free_func (g_object_unref);
  guint ports[5];
  guint closed_rtsp = 0, closed_http = 0, served = 0;
  const char *rtsp_req = "DESCRIBE rtsp://127.0.0.1/stream RTSP/1.0\r\nCSeq: "
                         "1\r\nUser-Agent: slow";
  const char *http_req = "GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: slow";
  gint64 t0;

  g_assert_nonnull (s);
  watch_start (&w, s);
  for (guint p = 0; p < 4; p++)
    ports[p] = s->rtsp_ports[p];
  ports[4] = s->http_port;
  for (guint p = 0; p < 5; p++)
    for (guint i = 0; i < SLOW_PER_PORT; i++)
      g_ptr_array_add (socks, connect_to (ports[p]));

  t0 = g_get_monotonic_time ();
  for (guint tick = 0; g_get_monotonic_time () - t0 < SLOW_SECONDS * 1e6;
       tick++) {
    for (guint i = 0; i < socks->len; i++) {
      GSocket *sock = g_ptr_array_index (socks, i);
      gboolean http = i / SLOW_PER_PORT == 4;
      const char *req = http ? http_req : rtsp_req;
      /* Half of them only ever connect: idle, not slow. */
      if (i % 2 || !sock || tick >= strlen (req))
        continue;
      g_socket_send (sock, req + tick, 1, NULL, NULL);
    }
    /* Meanwhile, everyone else is served. */
    if (tick % 5 == 0) {
      g_autoptr (GError) err = NULL;
      RtsReader *r = rts_reader_play (ports[tick / 5 % 4], "/stream",
          RTS_READER_TCP, 10, &err);
      g_assert_no_error (err);
      g_assert_true (rts_reader_receive (r, 1, 10));
      rts_reader_close (r, RTS_VANISH_TEARDOWN);
      g_assert_cmpuint (ts_http (s->http_port, "GET", "/health", NULL, NULL,
                            NULL, NULL),
          ==, 200);
      served++;
    }
    g_usleep (250 * 1000);
  }
  for (guint i = 0; i < socks->len; i++) {
    GSocket *sock = g_ptr_array_index (socks, i);
    char buf[256];
    gssize n = g_socket_condition_check (sock, G_IO_IN | G_IO_HUP)
        ? g_socket_receive_with_blocking (sock, buf, sizeof buf, FALSE, NULL,
            NULL)
        : -1;
    if (n == 0) {
      if (i / SLOW_PER_PORT == 4)
        closed_http++;
      else
        closed_rtsp++;
    }
  }
  g_test_message ("slowloris: %u slow/idle connections held for %d s (%u per "
                  "port); the server closed %u of %u RTSP and %u of %u HTTP; "
                  "%u well-behaved clients served meanwhile",
      socks->len, SLOW_SECONDS, SLOW_PER_PORT, closed_rtsp, 4 * SLOW_PER_PORT,
      closed_http, SLOW_PER_PORT, served);
  g_ptr_array_unref (socks);
  watch_finish (&w, "slowloris");
}

/* RTS_HOSTILE_LONG=1: gst-rtsp-server closes an RTSP connection that has
 * no session and sends no complete request for 60 s (a constant in
 * rtsp-client.c, not a setting); the HTTP port has no such timeout. Takes
 * over a minute, so not in CI. */
static void
test_idle_close_60s (void)
{
  TsServer *s;
  GSocket *rtsp, *http, *slow;
  gint64 t0;
  double closed_at[3] = { -1, -1, -1 };

  if (!g_getenv ("RTS_HOSTILE_LONG")) {
    g_test_skip ("takes 75 s: set RTS_HOSTILE_LONG=1");
    return;
  }
  s = ts_server_start (NULL);
  g_assert_nonnull (s);
  rtsp = connect_to (s->rtsp_ports[0]);
  http = connect_to (s->http_port);
  slow = connect_to (s->rtsp_ports[1]);
  t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 75 * G_USEC_PER_SEC) {
    GSocket *all[3] = { rtsp, http, slow };
    g_socket_send (slow, "O", 1, NULL, NULL);
    for (guint i = 0; i < 3; i++) {
      char buf[64];
      if (closed_at[i] < 0 && g_socket_condition_check (all[i], G_IO_IN)
          && g_socket_receive_with_blocking (all[i], buf, sizeof buf, FALSE,
                 NULL, NULL)
              <= 0)
        closed_at[i] = (g_get_monotonic_time () - t0) / 1e6;
    }
    g_usleep (G_USEC_PER_SEC);
  }
  g_test_message ("idle RTSP closed after %.0f s, idle HTTP after %.0f s, "
                  "slow RTSP after %.0f s (-1: still open at 75 s)",
      closed_at[0], closed_at[1], closed_at[2]);
  g_assert_cmpfloat (closed_at[0], >, 50);
  g_assert_cmpfloat (closed_at[0], <, 70);
  g_assert_cmpfloat (closed_at[2], >, 50);
  g_assert_cmpfloat (closed_at[2], <, 70);
  g_object_unref (rtsp);
  g_object_unref (http);
  g_object_unref (slow);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* ------------------------------------------------------------------ */
/* Limits (issue 7, part 5). Each test first checks that --help names its
 * setting, and fails, naming it, when it does not. */

static gboolean
need_flag (const char *flag, const char *feature)
{
  const char *argv[] = { g_getenv ("RTS_SERVER"), "--help", NULL };
  g_autoptr (GBytes) out = NULL;

  if (ts_run (argv, 10, &out, NULL, NULL) == 0
      && g_strstr_len (g_bytes_get_data (out, NULL), g_bytes_get_size (out),
          flag))
    return TRUE;
  g_test_fail_printf ("%s: --help names no %s setting", feature, flag);
  return FALSE;
}

/* Beyond the limit a reader gets 453 Not Enough Bandwidth (RFC 2326's
 * answer for "no more room"), the refusal is counted, readers within the
 * limit keep playing. */
static void
check_reader_limit (const char *flag, guint per_port_of_first)
{
  const char *args[] = { flag, NULL };
  TsServer *s = ts_server_start (args);
  RtsReader *ok[2];
  g_autoptr (GError) err = NULL;
  double refused0;

  g_assert_nonnull (s);
  refused0 = ts_metric_sum (s, "rtsp_test_server_refused_total");
  for (guint i = 0; i < 2; i++) {
    ok[i] = rts_reader_play (s->rtsp_ports[i * per_port_of_first], "/stream",
        RTS_READER_TCP, 10, &err);
    g_assert_no_error (err);
  }
  g_assert_null (rts_reader_play (s->rtsp_ports[per_port_of_first ? 1 : 0],
      "/stream", RTS_READER_TCP, 10, &err));
  g_assert_nonnull (strstr (err->message, "453"));
  g_assert_cmpfloat (ts_metric_sum (s, "rtsp_test_server_refused_total"), ==,
      refused0 + 1);
  for (guint i = 0; i < 2; i++) {
    g_assert_true (rts_reader_receive (ok[i], 30, 10));
    rts_reader_close (ok[i], RTS_VANISH_TEARDOWN);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static void
test_limit_readers_per_camera (void)
{
  if (need_flag ("--max-readers-per-camera",
          "a cap on readers per camera (RTSP 453 beyond it)"))
    check_reader_limit ("--max-readers-per-camera=2", 0);
}

static void
test_limit_readers_total (void)
{
  if (need_flag ("--max-readers", "a cap on readers in total"))
    check_reader_limit ("--max-readers=2", 1);
}

/* The server today answers a request with 1 MiB of short header lines 200
 * (gst-rtsp-server keeps every line: ~13 MiB of RSS per MiB sent, kept by
 * malloc afterwards) and reads a body as long as Content-Length says, up to
 * 4 GiB, into memory. With a cap: 413 (or 400) and the connection closed,
 * and RSS does not move. */
static void
test_limit_rtsp_request_size (void)
{
  const char *args[] = { "--max-request-bytes=65536", NULL };
  TsServer *s;
  TsProcStat before, after;
  Attack a[2] = { { 0 } };
  guint port;

  if (!need_flag ("--max-request-bytes",
          "a cap on RTSP request size (headers and body)"))
    return;
  s = ts_server_start (args);
  g_assert_nonnull (s);
  port = s->rtsp_ports[0];
  /* Not while start-up's stills are made and trimmed (a full suite run:
   * +4.8 MiB measured from before they began). */
  g_assert_true (ts_server_wait_log (s, "snapshots: stills of", 1, 20));
  ts_proc_stat (ts_pid_of (s->proc), &before);
  a[0].name = "1 MiB of header lines";
  a[0].payload =
      big ("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n", "X-A: b\r\n", MIB, "\r\n");
  a[0].want_eof = TRUE;
  a[1].name = "Content-Length 100 MB";
  a[1].payload = text ("SET_PARAMETER rtsp://127.0.0.1:%u/stream RTSP/1.0\r\n"
                       "CSeq: 2\r\nContent-Length: 100000000\r\n\r\n",
      port);
  a[1].want_eof = TRUE;
  storm (port, a, 2, 5);
  for (guint i = 0; i < 2; i++) {
    g_test_message ("%s -> %d%s", a[i].name, a[i].status,
        a[i].closed ? ", closed" : "");
    g_assert_true (a[i].status == 413 || a[i].status == 400);
    g_assert_true (a[i].closed);
    g_bytes_unref (a[i].payload);
    g_string_free (a[i].answer, TRUE);
  }
  /* What is kept, not what is in use at one instant: the memory goes
   * back when the server's loop has handled the connection's close
   * (malloc_trim() there), which on a loaded machine can come after the
   * flood's end is seen here. A fresh-clone suite once saw +7.9 MiB
   * (alone, under load: -0.2 to +0.2, the cause not caught). Sampled
   * until under the bound, 3 s at most. */
  {
    gint64 end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
    gint64 t0 = g_get_monotonic_time ();
    do {
      ts_proc_stat (ts_pid_of (s->proc), &after);
      if ((gint64) after.rss_kib - (gint64) before.rss_kib < 2 * 1024
          || ts_proc_has_asan (ts_pid_of (s->proc)))
        break;
      g_usleep (50 * 1000);
    } while (g_get_monotonic_time () < end);
    g_test_message ("RSS %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                    " KiB %.2f s after the flood%s",
        before.rss_kib, after.rss_kib, (g_get_monotonic_time () - t0) / 1e6,
        ts_proc_has_asan (ts_pid_of (s->proc))
            ? " [ASan: not judged, its quarantine keeps freed memory]"
            : "");
  }
  /* Under ASan, malloc_trim() gives nothing back. */
  if (!ts_proc_has_asan (ts_pid_of (s->proc)))
    g_assert_cmpint ((gint64) after.rss_kib - (gint64) before.rss_kib, <,
        2 * 1024);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Connections that never complete a request are closed after the idle
 * timeout, on the RTSP ports and the HTTP port alike. */
static void
test_limit_idle_timeout (void)
{
  const char *args[] = { "--idle-timeout=2", NULL };
  TsServer *s;
  GSocket *c[2];

  if (!need_flag ("--idle-timeout",
          "an idle timeout for RTSP and HTTP connections (today: RTSP 60 s, "
          "fixed in gst-rtsp-server; HTTP none)"))
    return;
  s = ts_server_start (args);
  g_assert_nonnull (s);
  c[0] = connect_to (s->rtsp_ports[0]);
  c[1] = connect_to (s->http_port);
  for (guint i = 0; i < 2; i++) {
    char buf[64];
    g_autoptr (GError) err = NULL;
    gssize n;
    g_socket_send (c[i], "GET", 3, NULL, NULL);
    g_socket_set_timeout (c[i], 10);
    /* EOF or reset within 10 s; a timeout error here means still open. */
    n = g_socket_receive (c[i], buf, sizeof buf, NULL, &err);
    if (err && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      g_error ("%s connection still open after 10 s", i == 0 ? "RTSP" : "HTTP");
    g_assert_cmpint (n, <=, 0);
    g_object_unref (c[i]);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* RTCP from a sender the server has not seen (a reader whose port
 * changed behind a NAT, a scanner) is dropped quietly: gst-rtsp-server
 * compares its address with every transport's, and the house reader's had
 * none, a GLib critical per packet. The UDP reader plays on. */
static void
test_stray_rtcp (void)
{
  TsServer *s = ts_server_start (NULL);
  g_autoptr (GError) err = NULL;
  RtsReader *r;
  g_autoptr (GSocket) x = NULL;
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = NULL;
  /* A receiver report: V=2, one report block, length 7 words. */
  static const guint8 rr[32] = { 0x81, 201, 0, 7, 0x12, 0x34, 0x56, 0x78, 0, 0,
    0, 1 };
  RtsReaderStats before, after;

  g_assert_nonnull (s);
  r = rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_UDP, 5, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (rts_reader_server_rtcp_port (r), >, 0);
  g_assert_true (rts_reader_receive (r, 30, 5));
  rts_reader_stats (r, &before);
  x = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &err);
  g_assert_no_error (err);
  to =
      g_inet_socket_address_new (lo, (guint16) rts_reader_server_rtcp_port (r));
  for (guint i = 0; i < 20; i++)
    g_assert_cmpint (g_socket_send_to (x, to, (const char *) rr, sizeof rr,
                         NULL, &err),
        ==, sizeof rr);
  g_assert_true (rts_reader_receive (r, before.packets + 60, 5));
  rts_reader_stats (r, &after);
  g_assert_cmpuint (after.lost, ==, before.lost);
  rts_reader_close (r, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  g_assert_cmpuint (ts_server_log_count (s, "assertion"), ==, 0);
  g_assert_cmpuint (ts_server_log_count (s, "CRITICAL"), ==, 0);
  ts_server_free (s);
}

/* Beyond the cap, a new HTTP connection gets 503 (or is closed) while the
 * others are fresh; once they have sat idle a second, the oldest gives way
 * and /health/live answers with all of them still held. */
static void
test_limit_http_connections (void)
{
  const char *args[] = { "--max-http-connections=8", NULL };
  TsServer *s;
  GPtrArray *held;
  GSocket *extra;
  char buf[64];
  gssize n;

  if (!need_flag ("--max-http-connections",
          "a cap on HTTP connections (503 beyond it)"))
    return;
  s = ts_server_start (args);
  g_assert_nonnull (s);
  held = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < 8; i++)
    g_ptr_array_add (held, connect_to (s->http_port));
  extra = connect_to (s->http_port);
  g_socket_send (extra, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 33, NULL,
      NULL);
  n = g_socket_receive (extra, buf, sizeof buf - 1, NULL, NULL);
  g_assert_true (n <= 0 || g_str_has_prefix (buf, "HTTP/1.1 503"));
  g_object_unref (extra);
  g_usleep (1200 * 1000);
  g_assert_cmpuint (ts_http (s->http_port, "GET", "/health/live", NULL, NULL,
                        NULL, NULL),
      ==, 200);
  /* The one that gave way was the first, closed without an answer. */
  g_socket_set_timeout (g_ptr_array_index (held, 0), 5);
  g_assert_cmpint (g_socket_receive (g_ptr_array_index (held, 0), buf,
                       sizeof buf - 1, NULL, NULL),
      ==, 0);
  g_ptr_array_unref (held);
  g_assert_cmpfloat (ts_metric_sum (s, "rtsp_test_server_http_refused_total"),
      >=, 1);
  /* The held connections are gone from the count (the /metrics request
   * itself is the one left). */
  for (guint i = 0;
       i < 50 && ts_metric_sum (s, "rtsp_test_server_http_connections") > 1;
       i++)
    g_usleep (100 * 1000);
  g_assert_cmpfloat (ts_metric_sum (s, "rtsp_test_server_http_connections"), ==,
      1);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Out of open files. Under a limit of 300, 250 idle connections to one
 * camera: the server takes what fits outside the descriptors it keeps
 * (for the cameras, the probes and the readers playing), closes the rest
 * unserved, and neither spins nor hangs: /health answers at once, 503
 * saying why, the reader already playing gets every frame, the log says
 * so once a second at most, and all is well again when the connections
 * go. Then 250 to the HTTP port: HTTP takes what fits in its own share,
 * which stops short of the descriptors kept for RTSP; a request while
 * they are all new gets a fixed 503, one after a second takes the place
 * of the oldest idle connection; the ports still answer their probes
 * (/health 200) and a new reader plays. (Before: GLib and
 * gst-rtsp-server retried the connection they could not accept in a busy
 * loop; 428,000 warnings in 8 s, /health silent. Later: the idle HTTP
 * connections went into the RTSP reserve, the ports shed the server's
 * own probes, and /health said unhealthy for the idle timeout.) */
static void
test_limit_open_files (void)
{
  const char *wrapper[] = { "prlimit", "--nofile=300:300", "--", NULL };
  TsServer *s;
  GPtrArray *flood;
  RtsReader *r;
  RtsReaderStats a, b;
  g_autoptr (GError) err = NULL;
  g_autofree char *body = NULL;
  guint status, lines;

  if (!ts_have_program ("prlimit")) {
    g_test_skip ("prlimit (util-linux) is missing");
    return;
  }
  s = ts_server_start_in (wrapper, NULL);
  g_assert_nonnull (s);
  g_assert_true (ts_server_wait_log (s, "leaves room for about", 1, 1));
  g_assert_nonnull (ts_wait_health (s->http_port, 200, 4, 10));
  /* Not while start-up's stills are made: their pipelines hold
   * descriptors for a while, and gave them back during the flood (under
   * ASan on a busy machine, 2.9 s after the start): the server then had
   * room again, its probes passed, and /health said 200. */
  g_assert_true (ts_server_wait_log (s, "snapshots: stills of", 1, 20));
  r = rts_reader_play (s->rtsp_ports[1], "/stream", RTS_READER_TCP, 10, &err);
  g_assert_no_error (err);
  rts_reader_start_thread (r);

  flood = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < 250; i++)
    g_ptr_array_add (flood, connect_to (s->rtsp_ports[0]));
  g_assert_true (ts_server_wait_log (s, "out of open files", 1, 5));
  rts_reader_stats (r, &a);
  g_usleep (2 * G_USEC_PER_SEC);
  rts_reader_stats (r, &b);
  /* /health says what the last round of probes found, and a round that
   * began before the flood may still be the last one (a round waits out
   * its probe timeout, 2 s, for a port that does not answer): the next
   * is waited for, a probe interval and a timeout at most. */
  {
    gint64 t0 = g_get_monotonic_time ();
    for (;;) {
      g_clear_pointer (&body, g_free);
      status =
          ts_http (s->http_port, "GET", "/health", NULL, NULL, &body, NULL);
      if (status == 503 || g_get_monotonic_time () - t0 > 5 * G_USEC_PER_SEC)
        break;
      g_usleep (100 * 1000);
    }
    g_test_message ("during: /health %u (%.1f s after the 2 s); the reader "
                    "got %" G_GUINT64_FORMAT
                    " frames in 2 s, %" G_GUINT64_FORMAT " lost",
        status, (g_get_monotonic_time () - t0) / 1e6, b.frames - a.frames,
        b.lost - a.lost);
  }
  /* Its own probes are refused like anyone: the ports do not answer. */
  g_assert_cmpuint (status, ==, 503);
  g_assert_nonnull (strstr (body, "out of open files"));
  g_assert_null (rts_reader_error (r));
  g_assert_cmpuint (b.frames - a.frames, >=, 50);
  g_assert_cmpuint (b.lost, ==, 0);
  g_assert_cmpfloat (ts_metric_sum (s,
                         "rtsp_test_server_connections_shed_total"),
      >=, 1);
  g_assert_cmpfloat (ts_metric_sum (s, "rtsp_test_server_open_files_limit"), ==,
      300);

  g_ptr_array_unref (flood);
  g_assert_nonnull (ts_wait_health (s->http_port, 200, 4, 10));

  /* The same on the HTTP port: past what fits, a fixed 503 that says why,
   * until the flood's connections are over a second old. */
  flood = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < 250; i++)
    g_ptr_array_add (flood, connect_to (s->http_port));
  g_clear_pointer (&body, g_free);
  status = ts_http (s->http_port, "GET", "/health", NULL, NULL, &body, NULL);
  g_assert_cmpuint (status, ==, 503);
  g_assert_cmpstr (body, ==,
      "{\"error\":\"out of open files\",\"status\":503}");
  g_usleep (1500 * 1000);
  {
    g_autoptr (JsonObject) h = ts_wait_health (s->http_port, 200, 4, 5);
    RtsReader *r2 =
        rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
    g_assert_no_error (err);
    g_assert_true (rts_reader_receive (r2, 30, 10));
    rts_reader_close (r2, RTS_VANISH_TEARDOWN);
    g_test_message ("250 idle HTTP connections: /health %s, a new reader "
                    "played, %.0f HTTP connections open",
        h ? "200" : "not 200",
        ts_metric_sum (s, "rtsp_test_server_http_connections"));
    g_assert_nonnull (h);
  }
  g_ptr_array_unref (flood);
  g_assert_nonnull (ts_wait_health (s->http_port, 200, 4, 10));
  g_assert_null (rts_reader_error (r));

  lines = ts_server_log_count (s, "out of open files (limit");
  g_test_message ("%u log lines about it", lines);
  g_assert_cmpuint (lines, <=, 12);
  rts_reader_close (r, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Cameras that cannot fit under the hard open-files limit are refused at
 * start, naming the numbers and the remedy (out of descriptors, GStreamer
 * could not make their pipelines and only said so in criticals). */
static void
test_limit_open_files_start (void)
{
  const char *argv[] = { "prlimit", "--nofile=150:150", "--",
    g_getenv ("RTS_SERVER"), "--bind=127.0.0.1", "--http-port=0",
    "--rtsp-ports=0,0,0,0,0,0,0,0", NULL };
  g_autofree char *err = NULL;

  if (!ts_have_program ("prlimit")) {
    g_test_skip ("prlimit (util-linux) is missing");
    return;
  }
  g_assert_cmpint (ts_run (argv, 20, NULL, &err, NULL), ==, 2);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "8 camera(s) need about"));
  g_assert_nonnull (strstr (err, "more than this process may open: 150"));
  g_assert_nonnull (strstr (err, "ulimit"));
  g_assert_null (strstr (err, "CRITICAL"));
  g_clear_pointer (&err, g_free);

  /* --check-config says the same, and fails as the start would (it said
   * OK). */
  {
    const char *check[] = { "prlimit", "--nofile=150:150", "--",
      g_getenv ("RTS_SERVER"), "--bind=127.0.0.1", "--http-port=0",
      "--rtsp-ports=0,0,0,0,0,0,0,0", "--check-config", NULL };
    g_autoptr (GBytes) out = NULL;

    g_assert_cmpint (ts_run (check, 20, &out, &err, NULL), ==, 2);
    g_test_message ("%s", err);
    g_assert_nonnull (strstr (err, "rtsp-test-server: 8 camera(s) need about"));
    g_assert_nonnull (strstr (err, "more than this process may open: 150"));
    g_assert_cmpuint (g_bytes_get_size (out), ==, 0);
  }
}

/* A shorter RTSP session timeout, announced in SETUP as RFC 2326 says
 * (Session: id;timeout=N), so readers that vanish without closing their
 * connection (a NAT forgets them) are reaped sooner than 60 s. */
static void
test_limit_session_timeout (void)
{
  const char *args[] = { "--session-timeout=5", NULL };
  TsServer *s;
  RtsReader *r;
  g_autoptr (GError) err = NULL;

  if (!need_flag ("--session-timeout",
          "a settable RTSP session timeout (today: gst-rtsp-server's 60 s)"))
    return;
  s = ts_server_start (args);
  g_assert_nonnull (s);
  r = rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_UDP, 10, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (rts_reader_session_timeout (r), ==, 5);
  rts_reader_close (r, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Today's session timeout, as SETUP announces it: a fact for the report,
 * and a guard that it stays RFC 2326's 60 s unless someone sets it. */
static void
test_session_timeout_today (void)
{
  TsServer *s = ts_server_start (NULL);
  RtsReader *r;
  g_autoptr (GError) err = NULL;

  g_assert_nonnull (s);
  for (guint t = 0; t < 2; t++) {
    r = rts_reader_play (s->rtsp_ports[0], "/stream",
        t ? RTS_READER_UDP : RTS_READER_TCP, 10, &err);
    g_assert_no_error (err);
    g_test_message ("SETUP over %s: Session timeout=%u s", t ? "udp" : "tcp",
        rts_reader_session_timeout (r));
    g_assert_cmpuint (rts_reader_session_timeout (r), >=, 5);
    g_assert_cmpuint (rts_reader_session_timeout (r), <=, 60);
    rts_reader_close (r, RTS_VANISH_TEARDOWN);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* A reader loses nothing while others join and leave its camera: the
 * storms' fresh clients must not cost the well-behaved reader packets. */
static void
join_leave (gboolean range)
{
  TsServer *s = ts_server_start (NULL);
  g_autoptr (GError) err = NULL;
  RtsReader *a;
  RtsReaderStats st;
  const char *steps[] = { "tcp join", "tcp teardown", "udp join",
    "udp teardown", "tcp join", "tcp rst", "udp join", "udp close" };
  RtsReader *b = NULL;
  guint64 gaps = 0;
  guint bad = 0;

  g_assert_nonnull (s);
  g_assert_true (ts_server_wait_log (s, "readiness: ready", 1, 20));
  a = rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
  g_assert_no_error (err);
  rts_reader_start_thread (a);
  g_usleep (G_USEC_PER_SEC);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
    if (i % 2 == 0) {
      b = rts_reader_play_range (s->rtsp_ports[0], "/stream",
          i % 4 == 0 ? RTS_READER_TCP : RTS_READER_UDP, range, 10, &err);
      g_assert_no_error (err);
      g_assert_true (rts_reader_receive (b, 10, 10));
    } else {
      rts_reader_close (b,
          i == 1 || i == 3 ? RTS_VANISH_TEARDOWN
              : i == 5     ? RTS_VANISH_RST
                           : RTS_VANISH_CLOSE);
    }
    g_usleep (G_USEC_PER_SEC);
    rts_reader_stats (a, &st);
    g_test_message ("after %s: the first reader has %" G_GUINT64_FORMAT
                    " gaps (%" G_GUINT64_FORMAT
                    " inside a frame), %" G_GUINT64_FORMAT
                    " lost, %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
                    " frames; last jump's timestamp step %u",
        steps[i], st.gaps, st.gaps_mid_frame, st.lost, st.packets, st.frames,
        st.last_gap_ts_delta);
    if (st.gaps > gaps)
      bad++;
    gaps = st.gaps;
  }
  rts_reader_close (a, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
  g_assert_cmpuint (bad, ==, 0);
}

static void
test_join_leave (void)
{
  join_leave (FALSE);
}

/* The same, with joiners that send Range as ffmpeg and VLC do. */
static void
test_join_range (void)
{
  join_leave (TRUE);
}

/* The process frozen for 4 s (SIGSTOP: what a debugger, a VM pause or a
 * CPU-throttled container does to it), then let go: every camera must
 * stream again. Cameras used to stop for good a few seconds after the
 * thaw (docs/reliability-hostile.md, fixed). */
static void
test_freeze (void)
{
  TsServer *s = ts_server_start (NULL);
  guint ready_after = 0, streaming = 0;
  gint64 t0;

  g_assert_nonnull (s);
  g_assert_true (ts_server_wait_log (s, "readiness: ready", 1, 20));
  g_subprocess_send_signal (s->proc, SIGSTOP);
  g_usleep (4 * G_USEC_PER_SEC);
  g_subprocess_send_signal (s->proc, SIGCONT);
  /* Ready again, and still streaming 20 s on: the stalls came 5-25 s
   * after the thaw. */
  t0 = g_get_monotonic_time ();
  while (g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC) {
    guint status =
        ts_http (s->http_port, "GET", "/health/ready", NULL, NULL, NULL, NULL);
    if (status == 200 && !ready_after)
      ready_after = (g_get_monotonic_time () - t0) / G_USEC_PER_SEC + 1;
    g_usleep (500 * 1000);
  }
  for (guint i = 0; i < 4; i++) {
    double a = camera_metric (s, "frames_sent_total", i);
    g_usleep (300 * 1000);
    streaming += camera_metric (s, "frames_sent_total", i) > a;
  }
  g_test_message ("after a 4 s freeze: ready within %u s; %u of 4 cameras "
                  "stream 20 s on; %u stall(s) logged",
      ready_after, streaming, ts_server_log_count (s, "stalled: no video"));
  /* Said, for whoever wonders why the readers skipped ahead. */
  g_assert_cmpuint (ts_server_log_count (s, "the process did not run"), >=, 1);
  g_assert_cmpuint (ready_after, >, 0);
  g_assert_cmpuint (streaming, ==, 4);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

int
main (int argc, char **argv)
{
  /* Writing to a connection the server reset must fail the write, not
   * kill the test. */
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hostile/join-leave", test_join_leave);
  g_test_add_func ("/hostile/join-range", test_join_range);
  g_test_add_func ("/hostile/rtsp-storm", test_rtsp_storm);
  g_test_add_func ("/hostile/http-storm", test_http_storm);
  g_test_add_func ("/hostile/slowloris", test_slowloris);
  g_test_add_func ("/hostile/session-timeout", test_session_timeout_today);
  g_test_add_func ("/hostile/freeze", test_freeze);
  g_test_add_func ("/hostile/idle-close-60s", test_idle_close_60s);
  g_test_add_func ("/limits/readers-per-camera", test_limit_readers_per_camera);
  g_test_add_func ("/limits/readers-total", test_limit_readers_total);
  g_test_add_func ("/limits/rtsp-request-size", test_limit_rtsp_request_size);
  g_test_add_func ("/limits/idle-timeout", test_limit_idle_timeout);
  g_test_add_func ("/limits/http-connections", test_limit_http_connections);
  g_test_add_func ("/hostile/stray-rtcp", test_stray_rtcp);
  g_test_add_func ("/limits/session-timeout", test_limit_session_timeout);
  g_test_add_func ("/limits/open-files", test_limit_open_files);
  g_test_add_func ("/limits/open-files-start", test_limit_open_files_start);
  return g_test_run ();
}
