/* Integration tests of sender: what readers of a loop camera get, packet
 * by packet (tests/rtsp_reader.c), from the real server. Joining readers
 * start on a keyframe at once and nobody else is re-keyed for it; RTP-Info
 * says where each starts; sender reports match the streams; a reader that
 * stops taking data for a moment loses nothing; one that stops for longer
 * neither holds the others back nor gets a broken picture afterwards; nor
 * does a reader of a camera that stalled. */
#include "rtsp_reader.h"
#include "testutil.h"

#define TOKEN "sender-test-token"
#define FPS 30
#define GOP 30

/* R's counters so far in ST, said aloud as WHAT's. */
static void
stats_said (RtsReader *r, const char *what, RtsReaderStats *st)
{
  rts_reader_stats (r, st);
  g_test_message ("%s: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
                  " gaps, %" G_GUINT64_FORMAT " packets missed",
      what, st->frames, st->gaps, st->lost);
}

static RtsReader *
reader (TsServer *s, RtsReaderTransport t)
{
  g_autoptr (GError) err = NULL;
  RtsReader *r = rts_reader_play (s->rtsp_ports[0], "/stream", t, 10, &err);

  g_assert_no_error (err);
  rts_reader_start_thread (r);
  return r;
}

static guint fault (TsServer *s, const char *method, const char *body);

/* A joining reader's first frame is a keyframe, and the packet RTP-Info
 * announced, whatever point of the GOP the camera is at; readers already
 * watching get one keyframe a GOP, no more, however many join. SLOW: every
 * answer is held 150 ms (the slow fault), the PLAY's before its sender
 * plans it, while the reader's transport has joined the stream: a UDP
 * reader was then sent the stream from where the sender first saw it, and
 * then from the planned start (packets from before RTP-Info's first). */
static void
join (gboolean slow)
{
  const char *args[] = { "--rtsp-ports=0", "--control-token=" TOKEN, NULL };
  TsServer *s = ts_server_start (args);
  RtsReader *first;
  RtsReader *joiners[6];
  RtsReaderStats st;

  g_assert_nonnull (s);
  first = reader (s, RTS_READER_TCP);
  g_assert_true (rts_reader_wait_frames (first, 10, 10));
  if (slow)
    g_assert_cmpuint (fault (s, "POST", "{\"type\":\"slow\",\"ms\":150}"), ==,
        200);
  /* Spread over more than a GOP, so they land at different points of
   * it. */
  for (guint i = 0; i < G_N_ELEMENTS (joiners); i++) {
    gint64 t0;
    g_usleep (230 * 1000);
    t0 = g_get_monotonic_time ();
    joiners[i] = reader (s, i % 2 ? RTS_READER_UDP : RTS_READER_TCP);
    /* Four answers (OPTIONS to PLAY), each held. */
    if (slow)
      g_assert_cmpint (g_get_monotonic_time () - t0, >=, 4 * 150 * 1000);
  }
  for (guint i = 0; i < G_N_ELEMENTS (joiners); i++) {
    g_assert_true (rts_reader_wait_frames (joiners[i], 2 * GOP, 10));
    rts_reader_stats (joiners[i], &st);
    g_test_message ("joiner %u (%s): first frame %s, %" G_GUINT64_FORMAT
                    " keyframes in %" G_GUINT64_FORMAT " frames; RTP-Info "
                    "seq %u rtptime %u, first packet seq %u ts %u",
        i, i % 2 ? "udp" : "tcp", st.first_frame_key ? "key" : "delta",
        st.keyframes, st.frames, st.rtpinfo_seq, st.rtpinfo_ts, st.first_seq,
        st.first_ts);
    g_assert_true (st.first_frame_key);
    g_assert_true (st.have_rtpinfo);
    g_assert_cmpuint (st.rtpinfo_seq, ==, st.first_seq);
    g_assert_cmpuint (st.rtpinfo_ts, ==, st.first_ts);
    g_assert_cmpuint (st.gaps_mid_frame, ==, 0);
    g_assert_cmpuint (st.delta_after_gap, ==, 0);
    if (i % 2 == 0)
      g_assert_cmpuint (st.lost, ==, 0);
  }
  rts_reader_stats (first, &st);
  g_test_message ("the first reader: %" G_GUINT64_FORMAT
                  " keyframes in %" G_GUINT64_FORMAT " frames while %u "
                  "joined",
      st.keyframes, st.frames, (guint) G_N_ELEMENTS (joiners));
  g_assert_true (st.first_frame_key);
  g_assert_cmpuint (st.lost, ==, 0);
  /* One a GOP, the first included: a keyframe forced for each joiner would
   * make six more. */
  g_assert_cmpuint (st.keyframes, <=, st.frames / GOP + 1);
  for (guint i = 0; i < G_N_ELEMENTS (joiners); i++)
    rts_reader_close (joiners[i], RTS_VANISH_TEARDOWN);
  rts_reader_close (first, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static void
test_join (void)
{
  join (FALSE);
}

static void
test_join_slow (void)
{
  join (TRUE);
}

/* A player's pause and resume: PAUSE, then PLAY on the same session; and
 * a PLAY while playing. The reader goes on from the first keyframe it was
 * not sent, the packet the new RTP-Info names, its sequence numbers and
 * timestamps only going forward, over TCP and UDP (sequence numbers went
 * back to the GOP's start before: -85, packets it had sent again; a PLAY
 * while playing gave the keyframe the timestamp of the frame just sent).
 * A session of audio alone too (its place was not looked at: -14), and
 * quick PAUSE and PLAY cycles. */
static void
replay_check (const char *what, RtsReaderStats *st, gboolean exact)
{
  g_test_message ("%s: RTP-Info seq %u, first packet %u; %" G_GUINT64_FORMAT
                  " jumps, %" G_GUINT64_FORMAT
                  " back, timestamps %" G_GUINT64_FORMAT
                  " back and %" G_GUINT64_FORMAT " repeated, %" G_GUINT64_FORMAT
                  " frames, %" G_GUINT64_FORMAT " keyframes",
      what, st->rtpinfo_seq, st->replay_seq, st->gaps, st->backwards,
      st->ts_backwards, st->ts_repeated, st->frames, st->keyframes);
  g_assert_true (st->have_rtpinfo);
  g_assert_true (st->have_replay_seq);
  /* Over UDP a PLAY while playing can be overtaken: packets sent just
   * before it was planned may be read after its answer. */
  if (exact)
    g_assert_cmpuint (st->replay_seq, ==, st->rtpinfo_seq);
  g_assert_cmpuint (st->backwards, ==, 0);
  g_assert_cmpuint (st->ts_backwards, ==, 0);
  g_assert_cmpuint (st->ts_repeated, ==, 0);
  g_assert_cmpuint (st->gaps_mid_frame, ==, 0);
}

static void
test_replay (void)
{
  const char *args[] = { "--rtsp-ports=0", NULL };
  const char *args_audio[] = { "--rtsp-ports=0", "--audio=opus", NULL };
  TsServer *s = ts_server_start (args);

  g_assert_nonnull (s);
  for (guint i = 0; i < 4; i++) {
    g_autoptr (GError) err = NULL;
    RtsReaderTransport t = i % 2 ? RTS_READER_UDP : RTS_READER_TCP;
    gboolean pause = i < 2;
    g_autofree char *what = g_strdup_printf ("%s: after %s",
        i % 2 ? "udp" : "tcp", pause ? "PAUSE and PLAY" : "PLAY while playing");
    RtsReader *r = rts_reader_play (s->rtsp_ports[0], "/stream", t, 10, &err);
    RtsReaderStats st;

    g_assert_no_error (err);
    /* Into the GOP: the one playing now began before this reader's
     * position. */
    g_assert_true (rts_reader_receive (r, 200, 10));
    g_assert_true (
        pause ? rts_reader_replay (r, 10) : rts_reader_play_again (r, 10));
    g_assert_true (rts_reader_receive (r, 400, 10));
    rts_reader_stats (r, &st);
    replay_check (what, &st, pause || t == RTS_READER_TCP);
    g_assert_cmpuint (st.delta_after_gap, ==, 0);
    rts_reader_close (r, RTS_VANISH_TEARDOWN);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);

  s = ts_server_start (args_audio);
  g_assert_nonnull (s);
  {
    g_autoptr (GError) err = NULL;
    RtsReader *r =
        rts_reader_play_audio (s->rtsp_ports[0], "/stream", 10, &err);
    RtsReaderStats st;

    g_assert_no_error (err);
    g_assert_true (rts_reader_receive (r, 20, 10));
    for (guint k = 0; k < 10; k++) {
      g_assert_true (
          k % 2 ? rts_reader_replay (r, 10) : rts_reader_play_again (r, 10));
      g_assert_true (rts_reader_receive (r, 20 + 5 * (k + 1), 10));
    }
    rts_reader_stream_stats (r, 1, &st);
    replay_check ("audio alone, 10 PLAYs, every other after a PAUSE", &st,
        TRUE);
    rts_reader_close (r, RTS_VANISH_TEARDOWN);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* A SETUP on a session that is playing (a client asking for another
 * transport mid-play) is answered 455 and changes nothing: the stream goes
 * on where it went, no packet missed. gst-rtsp-server 1.22 answered it 200
 * and swapped the transport under the sender, which went on sending to
 * the old port. After a PAUSE the same SETUP is taken, and the next PLAY
 * sends to the new transport (a new UDP port pair), going on from the
 * packet its RTP-Info names. Over TCP and UDP. */
static void
test_setup_while_playing (void)
{
  const char *args[] = { "--rtsp-ports=0", NULL };
  TsServer *s = ts_server_start (args);

  g_assert_nonnull (s);
  for (guint i = 0; i < 2; i++) {
    g_autoptr (GError) err = NULL;
    RtsReaderTransport t = i ? RTS_READER_UDP : RTS_READER_TCP;
    RtsReader *r = rts_reader_play (s->rtsp_ports[0], "/stream", t, 10, &err);
    guint refused = ts_server_log_count (s, "is playing");
    RtsReaderStats st;
    int status;

    g_assert_no_error (err);
    g_assert_true (rts_reader_receive (r, 100, 10));
    status = rts_reader_setup_again (r, FALSE, 10, &err);
    g_assert_no_error (err);
    g_assert_cmpint (status, ==, 455);
    g_assert_true (ts_server_wait_log (s, "is playing", refused + 1, 5));
    g_assert_true (rts_reader_receive (r, 300, 10));
    rts_reader_stats (r, &st);
    g_test_message ("%s: SETUP while playing: %d; %" G_GUINT64_FORMAT
                    " packets after it, %" G_GUINT64_FORMAT " jumps",
        i ? "udp" : "tcp", status, st.packets, st.gaps);
    g_assert_cmpuint (st.gaps, ==, 0);

    status = rts_reader_setup_again (r, TRUE, 10, &err);
    g_assert_no_error (err);
    g_assert_cmpint (status, ==, 200);
    g_assert_true (rts_reader_receive (r, 500, 10));
    rts_reader_stats (r, &st);
    replay_check (i ? "udp: PAUSE, SETUP, PLAY" : "tcp: PAUSE, SETUP, PLAY",
        &st, TRUE);
    rts_reader_close (r, RTS_VANISH_TEARDOWN);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* Every reader's sender reports carry its stream's SSRC and a timestamp
 * that matches its packets (whatever point of the clip each reader is
 * at), from the first packets on, over TCP and UDP. */
static void
test_reports (void)
{
  const char *args[] = { "--rtsp-ports=0", NULL };
  TsServer *s = ts_server_start (args);
  RtsReader *r[2];
  RtsReaderStats st;

  g_assert_nonnull (s);
  r[0] = reader (s, RTS_READER_TCP);
  g_usleep (400 * 1000);
  r[1] = reader (s, RTS_READER_UDP);
  for (guint i = 0; i < 2; i++) {
    g_assert_true (rts_reader_wait_frames (r[i], GOP, 10));
    rts_reader_stats (r[i], &st);
    g_test_message ("%s reader: %" G_GUINT64_FORMAT " sender reports, "
                    "largest skew %.2f ms",
        i ? "udp" : "tcp", st.reports, st.report_skew_ms);
    g_assert_cmpuint (st.reports, >=, 1);
    /* A frame is 33 ms; a wrong mapping would be off by far more. */
    g_assert_cmpfloat (st.report_skew_ms, <, 50);
    /* One CNAME, the camera's, in the SDP and the reports (RFC 5576; the
     * SDP once said rtpbin's "user...@host"). */
    g_assert_cmpstr (st.sdp_cname, ==, "cam1");
    g_assert_cmpstr (st.rtcp_cname, ==, "cam1");
  }
  for (guint i = 0; i < 2; i++)
    rts_reader_close (r[i], RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);

  /* A live camera's reports are rtpbin's own: the same name. */
  {
    const char *live[] = { "--rtsp-ports=0", "--source=live", NULL };
    g_autoptr (GError) err = NULL;
    RtsReader *lr;
    s = ts_server_start (live);
    g_assert_nonnull (s);
    lr =
        rts_reader_play (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 10, &err);
    g_assert_no_error (err);
    g_assert_true (rts_reader_wait_reports (lr, 15));
    rts_reader_stats (lr, &st);
    g_test_message ("live camera: CNAME %s in the SDP, %s in the reports",
        st.sdp_cname, st.rtcp_cname);
    g_assert_cmpstr (st.sdp_cname, ==, "cam1");
    g_assert_cmpstr (st.rtcp_cname, ==, "cam1");
    rts_reader_close (lr, RTS_VANISH_TEARDOWN);
    g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
    ts_server_free (s);
  }
}

/* The wall-clock time (s) stream ST gives RTP time TS, by its first
 * report. */
static double
wall_of (const RtsReaderStats *st, guint32 ts, guint rate)
{
  return st->first_report_wall
      + (double) (gint32) (ts - st->first_report_ts) / rate;
}

/* A reader of a camera with audio: RTP-Info gives both streams' RTP time
 * at one instant, the keyframe's (RFC 2326: the time of the Range), though
 * the audio's first packet comes up to a packet later; sender reports of
 * both streams agree on it. ffmpeg maps the streams by RTP-Info until its
 * first report of each: with the audio's own first packet there, the
 * video's timestamps jumped by up to an audio packet (21 ms) when the
 * reports came in audio first, and ffprobe read 15 fps as 45. Joins
 * spread over several keyframes of a GOP of 7 frames (233 ms, no whole
 * number of 1024-sample AAC packets). */
static void
test_av_timeline (void)
{
  const char *args[] = { "--rtsp-ports=0", "--audio=aac", "--gop=7", NULL };
  TsServer *s = ts_server_start (args);
  double worst = 0;

  g_assert_nonnull (s);
  for (guint n = 0; n < 6; n++) {
    g_autoptr (GError) err = NULL;
    RtsReader *r;
    RtsReaderStats st[2];
    double v, a;

    g_usleep (110 * 1000);
    r = rts_reader_play_av (s->rtsp_ports[0], "/stream", 10, &err);
    g_assert_no_error (err);
    g_assert_true (rts_reader_wait_reports (r, 5));
    for (guint i = 0; i < 2; i++) {
      rts_reader_stream_stats (r, i, &st[i]);
      g_assert_true (st[i].have_rtpinfo);
    }
    rts_reader_close (r, RTS_VANISH_TEARDOWN);
    /* The video starts on the keyframe RTP-Info names, the audio within
     * one packet (1,024 samples) after that instant. */
    g_assert_true (st[0].first_frame_key);
    g_assert_cmpuint (st[0].first_ts, ==, st[0].rtpinfo_ts);
    g_assert_cmpuint (st[0].first_seq, ==, st[0].rtpinfo_seq);
    g_assert_cmpuint (st[1].first_seq, ==, st[1].rtpinfo_seq);
    g_assert_cmpuint (st[1].first_ts - st[1].rtpinfo_ts, <=, 1024);
    v = wall_of (&st[0], st[0].rtpinfo_ts, 90000);
    a = wall_of (&st[1], st[1].rtpinfo_ts, 48000);
    g_test_message ("join %u: RTP-Info's instants, by the reports: video "
                    "%.6f, audio %.6f (%+.3f ms); the audio's first packet "
                    "%u ticks later",
        n, v, a, (a - v) * 1000, st[1].first_ts - st[1].rtpinfo_ts);
    worst = MAX (worst, ABS (a - v));
  }
  /* Half an audio tick of rounding (10 us) and the microsecond clocks. */
  g_assert_cmpfloat (worst, <, 0.0001);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* A reader that stops reading (a small TCP window it does not empty):
 * the others get every frame meanwhile; it misses frames, counted in
 * /metrics, and once it reads again it goes on from a keyframe, every
 * frame whole. */
static void
test_slow_reader (void)
{
  const char *args[] = { "--rtsp-ports=0", NULL };
  TsServer *s = ts_server_start (args);
  g_autoptr (GError) err = NULL;
  RtsReader *fast, *slow;
  RtsReaderStats st;
  double dropped;

  g_assert_nonnull (s);
  fast = reader (s, RTS_READER_TCP);
  slow = rts_reader_play_rcvbuf (s->rtsp_ports[0], "/stream", RTS_READER_TCP,
      4096, 10, &err);
  g_assert_no_error (err);
  /* Not reading: in a second or two the server can write no more to it
   * (its send buffer holds about a second of stream). */
  g_usleep (4 * G_USEC_PER_SEC);
  dropped = ts_metric_sum (s, "rtsp_test_server_reader_frames_dropped_total");
  g_test_message ("frames dropped for the slow reader: %.0f", dropped);
  g_assert_cmpfloat (dropped, >, 0);
  rts_reader_start_thread (slow);
  g_assert_true (rts_reader_wait_frames (slow, 3 * GOP, 10));
  stats_said (slow, "slow reader", &st);
  g_assert_cmpuint (st.gaps, >=, 1);
  g_assert_cmpuint (st.gaps_mid_frame, ==, 0);
  g_assert_cmpuint (st.delta_after_gap, ==, 0);
  stats_said (fast, "fast reader", &st);
  g_assert_cmpuint (st.gaps, ==, 0);
  g_assert_cmpuint (st.frames, >=, 4 * GOP);
  rts_reader_close (slow, RTS_VANISH_RST);
  rts_reader_close (fast, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* The same with frames of a few hundred packets (MJPEG, 1280x720 of
 * noise, about 300 KB each): the sender writes a reader's packets 64 at a
 * time, and a reader full in the middle of a frame then went on from the
 * next keyframe without the rest of that frame (ffmpeg: "corrupt decoded
 * frame"). It finishes the frame first. */
static void
test_slow_reader_big_frames (void)
{
  const char *args[] = { "--rtsp-ports=0", "--codec=mjpeg", "--width=1280",
    "--height=720", "--pattern=snow", NULL };
  TsServer *s = ts_server_start (args);
  RtsReaderStats st;
  guint64 cut = 0, gaps = 0;
  double dropped;

  g_assert_nonnull (s);
  for (guint round = 0; round < 3; round++) {
    g_autoptr (GError) err = NULL;
    RtsReader *slow = rts_reader_play_rcvbuf (s->rtsp_ports[0], "/stream",
        RTS_READER_TCP, 4096, 10, &err);

    g_assert_no_error (err);
    g_assert_true (rts_reader_receive (slow, 1, 10));
    /* Not reading for longer than the sender waits for a full reader. */
    g_usleep (2500 * 1000);
    rts_reader_start_thread (slow);
    g_assert_true (rts_reader_wait_frames (slow, 45, 20));
    stats_said (slow, "slow reader of big frames", &st);
    cut += st.frames_cut;
    gaps += st.gaps;
    rts_reader_close (slow, RTS_VANISH_RST);
  }
  dropped = ts_metric_sum (s, "rtsp_test_server_reader_frames_dropped_total");
  g_test_message ("3 readers, each not reading for 2.5 s: %.0f frames' time "
                  "skipped, %" G_GUINT64_FORMAT " jumps, %" G_GUINT64_FORMAT
                  " frames cut",
      dropped, gaps, cut);
  /* Each went on from a later frame (every MJPEG frame a keyframe: after
   * the one it was sent part of, with no jump in sequence numbers). */
  g_assert_cmpfloat (dropped, >, 0);
  g_assert_cmpuint (cut, ==, 0);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

/* A reader that stops reading only for a moment (a busy machine): once
 * its connection is full its stream waits for it, and when it reads again
 * it catches up, every frame there, nothing skipped. */
static void
test_short_stall (void)
{
  const char *args[] = { "--rtsp-ports=0", NULL };
  TsServer *s = ts_server_start (args);
  g_autoptr (GError) err = NULL;
  RtsReader *r;
  RtsReaderStats st;
  double waits = 0;
  gint64 t0;

  g_assert_nonnull (s);
  r = rts_reader_play_rcvbuf (s->rtsp_ports[0], "/stream", RTS_READER_TCP, 4096,
      10, &err);
  g_assert_no_error (err);
  g_assert_true (rts_reader_receive (r, 1, 10));
  /* Not reading until the server finds its connection full. */
  t0 = g_get_monotonic_time ();
  while (waits == 0 && g_get_monotonic_time () < t0 + 10 * G_USEC_PER_SEC) {
    g_usleep (20 * 1000);
    waits = ts_metric_sum (s, "rtsp_test_server_reader_waits_total");
  }
  g_test_message ("the reader's connection was full after %.1f s",
      (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpfloat (waits, >=, 1);
  rts_reader_start_thread (r);
  g_assert_true (rts_reader_wait_frames (r, 4 * GOP, 10));
  stats_said (r, "after the pause", &st);
  g_assert_cmpuint (st.gaps, ==, 0);
  g_assert_cmpfloat (ts_metric_sum (s,
                         "rtsp_test_server_reader_frames_dropped_total"),
      ==, 0);
  rts_reader_close (r, RTS_VANISH_TEARDOWN);
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

static guint
fault (TsServer *s, const char *method, const char *body)
{
  const char *hdr[] = { "Authorization", "Bearer " TOKEN, NULL };
  return ts_http (s->http_port, method, "/control/cameras/cam1/faults", hdr,
      body, NULL, NULL);
}

/* The stall fault: readers get nothing while it holds and go on from a
 * keyframe after it, every frame whole, over TCP and UDP. */
static void
test_stall (void)
{
  const char *args[] = { "--rtsp-ports=0", "--control-token=" TOKEN, NULL };
  TsServer *s = ts_server_start (args);
  RtsReader *r[2];
  RtsReaderStats st;
  guint64 before[2];

  g_assert_nonnull (s);
  for (guint i = 0; i < 2; i++) {
    r[i] = reader (s, i ? RTS_READER_UDP : RTS_READER_TCP);
    g_assert_true (rts_reader_wait_frames (r[i], 10, 10));
  }
  g_assert_cmpuint (fault (s, "POST", "{\"type\":\"stall\"}"), ==, 200);
  g_usleep (300 * 1000);
  for (guint i = 0; i < 2; i++) {
    rts_reader_stats (r[i], &st);
    before[i] = st.frames;
  }
  g_usleep (700 * 1000);
  for (guint i = 0; i < 2; i++) {
    rts_reader_stats (r[i], &st);
    g_assert_cmpuint (st.frames, ==, before[i]);
  }
  g_assert_cmpuint (fault (s, "DELETE", NULL), ==, 200);
  for (guint i = 0; i < 2; i++) {
    g_assert_true (rts_reader_wait_frames (r[i], before[i] + GOP, 10));
    rts_reader_stats (r[i], &st);
    g_assert_cmpuint (st.gaps, >=, 1);
    g_assert_cmpuint (st.gaps_mid_frame, ==, 0);
    g_assert_cmpuint (st.delta_after_gap, ==, 0);
    rts_reader_close (r[i], RTS_VANISH_TEARDOWN);
  }
  g_assert_cmpint (ts_server_stop (s, 10, NULL), ==, 0);
  ts_server_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sender/join", test_join);
  g_test_add_func ("/sender/join-slow", test_join_slow);
  g_test_add_func ("/sender/replay", test_replay);
  g_test_add_func ("/sender/setup-while-playing", test_setup_while_playing);
  g_test_add_func ("/sender/reports", test_reports);
  g_test_add_func ("/sender/av-timeline", test_av_timeline);
  g_test_add_func ("/sender/slow-reader", test_slow_reader);
  g_test_add_func ("/sender/slow-reader-big-frames",
      test_slow_reader_big_frames);
  g_test_add_func ("/sender/short-stall", test_short_stall);
  g_test_add_func ("/sender/stall", test_stall);
  return g_test_run ();
}
