/* Tests of clip and rtp_clip: each codec and audio option is made for
 * real, made into RTP packets, depayloaded and decoded across several loop
 * points, and every promise of the loop is checked on the way. */
#include "clip.h"
#include "clip_private.h"
#include "clipmake.h"
#include "rtp_clip.h"

#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <glib/gstdio.h>
#include <string.h>

#define FPS 30
#define LOOPS 4 /* loop points crossed: more than three */

/* ------------------------------------------------------------------------ */
/* Making */

/* A clip made synchronously (tests/clipmake.c). */
static RtsClip *
make (const RtsClipSpec *spec, GError **error)
{
  return ts_clip_make (spec, error);
}

static RtsClipSpec
small_spec (const char *codec)
{
  RtsClipSpec spec = {
    .codec = codec,
    .width = 320,
    .height = 240,
    .fps = FPS,
    .gop = 9,
    .bitrate = 300,
    .pattern = "ball",
    .text = "cam \"1\" <test>", /* quotes must not break a launch line */
    .seconds = 0.3,
  };
  return spec;
}

/* ------------------------------------------------------------------------ */
/* Playing: appsrc ! chain ! depayloader ! decoder ! fakesink */

typedef struct {
  const char *what;
  gboolean audio;
  guint packets;
  guint16 seq;
  guint32 ts;
  gboolean marker;
  gint32 reorder; /* how far back a frame may go, in RTP clock ticks */
  guint32 max_ts;
  char *fail; /* first broken promise */
} RtpCheck;

typedef struct {
  guint frames;
  GstClockTime first_pts, last_pts;
  GstClockTime duration; /* audio: decoded length */
  GstCaps *caps;
  gint64 first_at, done_at; /* monotonic µs: first and wanted frame */
  char *fail;
} SinkCheck;

typedef struct {
  GMainLoop *loop;
  guint want_frames;
  RtpCheck rtp[2];
  SinkCheck sink[2];
  char *bus_problem;
  guint timer;
  gboolean eos;
} Play;

static void
set_fail (char **fail, char *msg)
{
  if (!*fail)
    *fail = msg;
  else
    g_free (msg);
}

static gboolean
check_rtp_packet (GstBuffer **buf, guint idx, gpointer data)
{
  RtpCheck *c = data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint16 seq;
  guint32 ts;
  gboolean marker;

  if (!gst_rtp_buffer_map (*buf, GST_MAP_READ, &rtp)) {
    set_fail (&c->fail, g_strdup_printf ("%s: not an RTP packet", c->what));
    return TRUE;
  }
  seq = gst_rtp_buffer_get_seq (&rtp);
  ts = gst_rtp_buffer_get_timestamp (&rtp);
  marker = gst_rtp_buffer_get_marker (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  if (c->packets > 0) {
    gint32 dts = (gint32) (ts - c->ts);
    /* Video: packets of one frame share a timestamp, the marker ends the
     * frame; audio: a packet is a frame. */
    gboolean new_frame = c->audio || c->marker;
    if (seq != (guint16) (c->seq + 1))
      set_fail (&c->fail,
          g_strdup_printf ("%s: RTP seq %u after %u", c->what, seq, c->seq));
    /* With B-frames (a user's file) RTP timestamps, which are presentation
     * times, go back by a few frames, never further. */
    gint32 back = c->reorder ? (gint32) (ts - c->max_ts) : dts;
    if (new_frame ? (dts == 0 || back <= -c->reorder) : dts != 0)
      set_fail (&c->fail,
          g_strdup_printf ("%s: RTP timestamp %u after %u (packet %u)", c->what,
              ts, c->ts, c->packets));
  }
  if (c->packets == 0 || (gint32) (ts - c->max_ts) > 0)
    c->max_ts = ts;
  c->packets++;
  c->seq = seq;
  c->ts = ts;
  c->marker = marker;
  return TRUE;
}

static GstPadProbeReturn
on_rtp (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        check_rtp_packet, data);
  else {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    check_rtp_packet (&buf, 0, data);
  }
  return GST_PAD_PROBE_OK;
}

typedef struct {
  Play *play;
  SinkCheck *c;
  gboolean video;
} SinkProbe;

static GstPadProbeReturn
on_sink (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  SinkProbe *sp = data;
  SinkCheck *c = sp->c;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);

  if (c->frames == 0) {
    c->caps = gst_pad_get_current_caps (pad);
    c->first_pts = pts;
    c->first_at = g_get_monotonic_time ();
  } else if (sp->video && pts <= c->last_pts) {
    set_fail (&c->fail,
        g_strdup_printf ("decoded PTS %" GST_TIME_FORMAT
                         " not after %" GST_TIME_FORMAT,
            GST_TIME_ARGS (pts), GST_TIME_ARGS (c->last_pts)));
  } else if (sp->video) {
    /* The RTP clock (90 kHz) rounds; a frame is 1/FPS apart otherwise. */
    GstClockTime d = pts - c->last_pts;
    if (d < GST_SECOND / FPS - GST_MSECOND
        || d > GST_SECOND / FPS + GST_MSECOND)
      set_fail (&c->fail,
          g_strdup_printf ("decoded frames %" GST_TIME_FORMAT
                           " apart, not 1/%u s",
              GST_TIME_ARGS (d), FPS));
  }
  c->last_pts = pts;
  if (GST_BUFFER_DURATION_IS_VALID (buf))
    c->duration += GST_BUFFER_DURATION (buf);
  c->frames++;
  return GST_PAD_PROBE_OK;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  Play *play = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      play->eos = TRUE;
      g_main_loop_quit (play->loop);
      return G_SOURCE_CONTINUE;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &error, &debug);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &error, &debug);
      break;
    default:
      return G_SOURCE_CONTINUE;
  }
  set_fail (&play->bus_problem,
      g_strdup_printf ("%s from %s: %s (%s)", GST_MESSAGE_TYPE_NAME (msg),
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), error->message,
          debug ? debug : ""));
  g_main_loop_quit (play->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  Play *play = data;
  set_fail (&play->bus_problem,
      g_strdup_printf ("timed out: decoded %u %u", play->sink[0].frames,
          play->sink[1].frames));
  play->timer = 0;
  g_main_loop_quit (play->loop);
  return G_SOURCE_REMOVE;
}

static void
probe (GstElement *pipeline, const char *element, const char *pad_name,
    GstPadProbeType type, GstPadProbeCallback cb, gpointer data)
{
  g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (e, pad_name);
  gst_pad_add_probe (pad, type, cb, data, NULL);
}

static void
assert_caps_int (GstCaps *caps, const char *field, int want)
{
  int got = -1;
  g_assert_nonnull (caps);
  gst_structure_get_int (gst_caps_get_structure (caps, 0), field, &got);
  g_assert_cmpint (got, ==, want);
}

/* Track I's packets for positions 0..N-1, numbered as the sender numbers
 * them (sequence number and timestamp from the position), into SRC, each
 * stamped with its presentation time as a jitter buffer would. */
static void
push_packets (GstElement *src, const RtsRtpTrack *t, guint64 n)
{
  for (guint64 g = 0; g < n; g++) {
    const RtsRtpPacket *p = rts_rtp_track_packet (t, g);
    GstBuffer *buf = gst_buffer_new_memdup (p->data, p->size);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

    g_assert_true (gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp));
    gst_rtp_buffer_set_seq (&rtp, (guint16) (1000 + g));
    gst_rtp_buffer_set_timestamp (&rtp, 12345 + rts_rtp_track_ticks (t, g));
    gst_rtp_buffer_unmap (&rtp);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (rts_rtp_track_ticks (t, g),
        GST_SECOND, t->clock_rate);
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (src), buf), ==,
        GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
}

/* Makes CLIP into RTP packets (rtp_clip.h), sends them for LOOPS loop
 * points and a bit through VIDEO_TAIL (and AUDIO_TAIL: depayloader to
 * decoder), as fast as they decode, and checks it all: every packet in
 * order with the right timestamps, every frame decoded, a frame every 1/FPS
 * across the loop points, the right size, and the tone as long as the
 * picture. */
static void
play_clip (RtsClip *clip, const char *video_tail, const char *audio_tail,
    guint width, guint height, gboolean bframes)
{
  Play play = { 0 };
  g_autofree char *desc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (RtsRtpClip) rc = NULL;
  const RtsRtpTrack *tracks[2];
  SinkProbe sp[2];
  guint watch;
  gboolean audio = audio_tail != NULL;
  gint64 t0 = g_get_monotonic_time ();

  rc = rts_rtp_clip_new (clip, &error);
  g_assert_no_error (error);
  g_test_message ("payloaded in %.2f ms", (g_get_monotonic_time () - t0) / 1e3);
  tracks[0] = rts_rtp_clip_track (rc, 0);
  tracks[1] = rts_rtp_clip_track (rc, 1);
  g_assert_true ((tracks[1] != NULL) == audio);
  /* Every loop starts on a keyframe, and a reader may start on any. */
  g_assert_true (tracks[0]->packets[0].key);
  g_assert_cmpuint (tracks[0]->keys[0], ==, 0);
  g_assert_cmpuint (tracks[0]->frames, ==, rts_clip_n_frames (clip));

  desc = g_strdup_printf ("appsrc name=vsrc format=time max-bytes=0 ! %s "
                          "! fakesink name=vsink sync=false %s%s%s",
      video_tail, audio ? "appsrc name=asrc format=time max-bytes=0 ! " : "",
      audio ? audio_tail : "",
      audio ? " ! fakesink name=asink sync=false" : "");
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);

  play.loop = g_main_loop_new (NULL, FALSE);
  play.want_frames = LOOPS * rts_clip_n_frames (clip) + 2;
  play.rtp[0].what = "video";
  play.rtp[1].what = "audio";
  play.rtp[0].reorder = bframes ? 4 * 90000 / FPS : 0;
  play.rtp[1].audio = TRUE;
  for (guint i = 0; i < (audio ? 2u : 1u); i++) {
    g_autoptr (GstElement) src =
        gst_bin_get_by_name (GST_BIN (pipeline), i ? "asrc" : "vsrc");
    g_autoptr (GstCaps) caps = gst_caps_copy (tracks[i]->caps);
    gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, 0x1234 + i, NULL);
    g_object_set (src, "caps", caps, NULL);
    sp[i] = (SinkProbe){ &play, &play.sink[i], i == 0 };
    probe (pipeline, i ? "asrc" : "vsrc", "src",
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_rtp,
        &play.rtp[i]);
    probe (pipeline, i ? "asink" : "vsink", "sink", GST_PAD_PROBE_TYPE_BUFFER,
        on_sink, &sp[i]);
  }

  bus = gst_pipeline_get_bus (GST_PIPELINE (pipeline));
  watch = gst_bus_add_watch (bus, on_bus, &play);
  play.timer = g_timeout_add_seconds (30, on_timeout, &play);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  {
    /* Whole frames, up to the one that ends frame WANT_FRAMES; as much
     * audio as that lasts. */
    g_autoptr (GstElement) vsrc =
        gst_bin_get_by_name (GST_BIN (pipeline), "vsrc");
    guint64 n = 0;
    guint frames = 0;
    for (; frames < play.want_frames; n++)
      frames += rts_rtp_track_packet (tracks[0], n)->marker;
    /* Up to a keyframe: a cut after a P-frame whose B-frames (shown
     * before it) were not sent would leave a hole at the end. */
    for (guint64 key = rts_rtp_track_key_at_or_after (tracks[0], n); n < key;
         n++)
      frames += rts_rtp_track_packet (tracks[0], n)->marker;
    play.want_frames = frames;
    push_packets (vsrc, tracks[0], n);
    if (audio) {
      g_autoptr (GstElement) asrc =
          gst_bin_get_by_name (GST_BIN (pipeline), "asrc");
      push_packets (asrc, tracks[1],
          rts_rtp_track_at_or_after (tracks[1],
              rts_rtp_track_due (tracks[0], n - 1)));
    }
  }
  g_main_loop_run (play.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_clear_handle_id (&play.timer, g_source_remove);
  g_source_remove (watch);

  g_assert_cmpstr (play.bus_problem, ==, NULL);
  g_assert_true (play.eos);
  for (guint i = 0; i < (audio ? 2u : 1u); i++) {
    g_assert_cmpstr (play.rtp[i].fail, ==, NULL);
    g_assert_cmpstr (play.sink[i].fail, ==, NULL);
  }
  /* Every frame sent was decoded: none lost at a loop point. */
  g_assert_cmpuint (play.sink[0].frames, ==, play.want_frames);

  assert_caps_int (play.sink[0].caps, "width", width);
  assert_caps_int (play.sink[0].caps, "height", height);
  {
    /* Framerate where the bitstream carries it (H.264/H.265 VUI); the
     * decoded frames' spacing is checked for every codec above. */
    int num = 0, den = 1;
    GstStructure *s = gst_caps_get_structure (play.sink[0].caps, 0);
    if (gst_structure_get_fraction (s, "framerate", &num, &den) && num > 0)
      g_assert_cmpint (num, ==, FPS * den);
  }

  if (audio) {
    /* The tone keeps pace with the picture, across its own loop points. */
    double video_s = (play.sink[0].last_pts - play.sink[0].first_pts) / 1e9;
    double audio_s = play.sink[1].duration / 1e9;
    g_test_message ("audio: %u packets, %.3f s decoded against %.3f s of "
                    "video",
        play.rtp[1].packets, audio_s, video_s);
    g_assert_cmpuint (play.rtp[1].packets, >, 0);
    g_assert_true (audio_s > video_s - 0.25 && audio_s < video_s + 0.25);
  }
  for (guint i = 0; i < 2; i++) {
    gst_clear_caps (&play.sink[i].caps);
  }
  g_main_loop_unref (play.loop);
}

/* ------------------------------------------------------------------------ */
/* Cases */

typedef struct {
  const char *name;
  const char *codec;
  const char *profile;
  const char *audio;
  const char *video_tail;
  const char *audio_tail;
} Case;

static const Case cases[] = {
  { "h264-baseline", "h264", NULL, NULL,
      "rtph264depay ! h264parse ! avdec_h264", NULL },
  { "h264-main", "h264", "main", NULL, "rtph264depay ! h264parse ! avdec_h264",
      NULL },
  { "h264-high", "h264", "high", NULL, "rtph264depay ! h264parse ! avdec_h264",
      NULL },
  { "h265", "h265", NULL, NULL, "rtph265depay ! h265parse ! avdec_h265", NULL },
  { "mjpeg", "mjpeg", NULL, NULL, "rtpjpegdepay ! jpegdec", NULL },
  { "h264-aac", "h264", NULL, "aac", "rtph264depay ! h264parse ! avdec_h264",
      "rtpmp4gdepay ! aacparse ! avdec_aac" },
  { "h264-opus", "h264", NULL, "opus", "rtph264depay ! h264parse ! avdec_h264",
      "rtpopusdepay ! opusdec" },
  { "h264-pcmu", "h264", NULL, "pcmu", "rtph264depay ! h264parse ! avdec_h264",
      "rtppcmudepay ! mulawdec" },
  { "h264-pcma", "h264", NULL, "pcma", "rtph264depay ! h264parse ! avdec_h264",
      "rtppcmadepay ! alawdec" },
};

static void
test_codec (gconstpointer data)
{
  const Case *c = data;
  RtsClipSpec spec = small_spec (c->codec);
  g_autoptr (GError) error = NULL;
  g_autoptr (RtsClip) clip = NULL;
  gint64 t0 = g_get_monotonic_time ();

  spec.profile = c->profile;
  spec.audio = c->audio;
  clip = make (&spec, &error);
  g_assert_no_error (error);
  g_test_message ("%s: made in %.0f ms", c->name,
      (g_get_monotonic_time () - t0) / 1e3);

  /* 0.3 s at 30 fps in GOPs of 9: 9 frames (mjpeg: every frame a keyframe). */
  g_assert_cmpuint (rts_clip_n_frames (clip), ==, 9);
  g_assert_cmpuint (rts_clip_duration (clip), ==,
      gst_util_uint64_scale (9, GST_SECOND, FPS));
  if (c->profile) {
    const char *profile =
        gst_structure_get_string (gst_caps_get_structure (rts_clip_video_caps (
                                                              clip),
                                      0),
            "profile");
    g_assert_cmpstr (profile, ==, c->profile);
  }
  g_assert_true ((rts_clip_audio_caps (clip) != NULL) == (c->audio != NULL));
  play_clip (clip, c->video_tail, c->audio_tail, 320, 240, FALSE);
}

/* An H.265 clip's first access unit is one picture with its parameter
 * sets: GStreamer 1.22's x265enc put its stream headers in front (a
 * second VPS, SPS and PPS, and an info SEI with uninitialised memory after
 * its text, start codes among it), sent at every loop point. So: one VPS,
 * and no NAL unit of a reserved or unspecified type. */
static void
test_h265_first_au (void)
{
  RtsClipSpec spec = small_spec ("h265");
  g_autoptr (GError) error = NULL;
  g_autoptr (RtsClip) clip = make (&spec, &error);
  GstMapInfo map;
  guint vps = 0, irap = 0;
  GString *types = g_string_new (NULL);

  g_assert_no_error (error);
  g_assert_true (gst_buffer_map (g_ptr_array_index (clip->video.frames, 0),
      &map, GST_MAP_READ));
  for (gsize i = 0; i + 3 < map.size; i++) {
    if (map.data[i] == 0 && map.data[i + 1] == 0 && map.data[i + 2] == 1) {
      guint type = (map.data[i + 3] >> 1) & 0x3f;
      g_string_append_printf (types, " %u", type);
      vps += type == 32;
      irap += type >= 16 && type <= 21;
      /* Reserved: 10-15, 22-31, 41-47; unspecified: 48-63. */
      if ((type >= 10 && type <= 15) || (type >= 22 && type <= 31)
          || type >= 41)
        g_error ("NAL unit of type %u in the first access unit:%s", type,
            types->str);
      i += 3;
    }
  }
  gst_buffer_unmap (g_ptr_array_index (clip->video.frames, 0), &map);
  g_test_message ("first access unit's NAL unit types:%s", types->str);
  g_assert_cmpuint (vps, ==, 1);
  g_assert_cmpuint (irap, >=, 1);
  g_string_free (types, TRUE);
}

/* Runs DESC (a gst-launch line ending in a filesink to PATH) to EOS. */
static void
write_file (const char *desc)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) p = gst_parse_launch (desc, &error);
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;

  g_assert_no_error (error);
  bus = gst_pipeline_get_bus (GST_PIPELINE (p));
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (p, GST_STATE_NULL);
}

/* A user's MP4: H.264 with B-frames (PTS after DTS) and AAC, looped as it
 * is, with a test tone instead of its own audio. */
static void
test_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test_clip_XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "in.mp4", NULL);
  g_autofree char *desc =
      g_strdup_printf ("videotestsrc num-buffers=20 pattern=ball "
                       "! video/x-raw,width=256,height=192,framerate=30/1 "
                       "! x264enc speed-preset=ultrafast bframes=2 "
                       "key-int-max=10 "
                       "! mp4mux name=mux ! filesink location=\"%s\" "
                       "audiotestsrc num-buffers=30 ! voaacenc ! mux.",
          path);
  RtsClipSpec spec = { .file = path, .audio = "opus" };
  g_autoptr (GError) error = NULL;
  g_autoptr (RtsClip) clip = NULL;

  write_file (desc);
  clip = make (&spec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rts_clip_n_frames (clip), ==, 20);
  g_assert_cmpuint (rts_clip_duration (clip), ==,
      gst_util_uint64_scale (20, GST_SECOND, FPS));
  play_clip (clip, "rtph264depay ! h264parse ! avdec_h264",
      "rtpopusdepay ! opusdec", 256, 192, TRUE);
  g_unlink (path);
  g_rmdir (dir);
}

/* A user's MP4 with B-frames and a variable frame rate: a loop lasts as
 * long as its pictures are shown (it was cut to its decode times, 3.80 s
 * of pictures up to 3.90 s, and the next loop's first pictures came 0.1 s
 * before this one's last). */
static void
test_file_vfr (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test_clip_XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "vfr.mp4", NULL);
  /* 30 frames at 30 fps, 30 at 10 fps: pictures at 0 to 3.9 s. */
  const char *argv[] = { "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
    "-i", "testsrc2=size=160x120:rate=30", "-t", "4", "-vf",
    "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'", "-fps_mode", "vfr", "-c:v",
    "libx264", "-bf", "2", "-g", "30", path, NULL };
  RtsClipSpec spec = { .file = path };
  g_autoptr (GError) error = NULL;
  g_autoptr (RtsClip) clip = NULL;
  g_autofree char *ffmpeg = g_find_program_in_path ("ffmpeg");
  int status = -1;

  if (!ffmpeg) {
    g_test_skip ("no ffmpeg to make a variable-rate file");
    return;
  }
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH,
      NULL, NULL, NULL, NULL, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  clip = make (&spec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rts_clip_n_frames (clip), ==, 60);
  g_test_message ("loop of %.3f s", rts_clip_duration (clip) / 1e9);
  g_assert_cmpuint (rts_clip_duration (clip), >, 3900 * GST_MSECOND);
  g_unlink (path);
  g_rmdir (dir);
}

/* A user's MKV with H.265: its parameter sets in-band, its chain H.265. */
static void
test_file_h265 (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test_clip_XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "in.mkv", NULL);
  g_autofree char *desc =
      g_strdup_printf ("videotestsrc num-buffers=12 "
                       "! video/x-raw,width=128,height=96,framerate=25/1 "
                       "! x265enc speed-preset=ultrafast key-int-max=6 "
                       "log-level=error "
                       "! h265parse ! matroskamux ! filesink location=\"%s\"",
          path);
  RtsClipSpec spec = { .file = path };
  g_autoptr (GError) error = NULL;
  g_autoptr (RtsClip) clip = NULL;

  write_file (desc);
  clip = make (&spec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rts_clip_n_frames (clip), ==, 12);
  g_assert_cmpuint (rts_clip_duration (clip), ==,
      gst_util_uint64_scale (12, GST_SECOND, 25));
  g_assert_cmpstr (rts_clip_video_chain (clip), ==,
      "rtph265pay name=pay0 pt=96");
  g_assert_true (
      gst_structure_has_name (gst_caps_get_structure (rts_clip_video_caps (
                                                          clip),
                                  0),
          "video/x-h265"));
  g_assert_null (rts_clip_audio_chain (clip));
  g_unlink (path);
  g_rmdir (dir);
}

static void
expect_error (const RtsClipSpec *spec, int code, const char *mention,
    const char *mention2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtsClip) clip = make (spec, &error);

  g_assert_null (clip);
  g_assert_error (error, RTS_CLIP_ERROR, code);
  g_test_message ("error: %s", error->message);
  if (!strstr (error->message, mention)
      || (mention2 && !strstr (error->message, mention2)))
    g_error ("'%s' does not mention '%s' and '%s'", error->message, mention,
        mention2 ? mention2 : "");
}

static void
test_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test_clip_XXXXXX", NULL);
  g_autofree char *mjpeg = g_build_filename (dir, "mjpeg.mkv", NULL);
  g_autofree char *sound = g_build_filename (dir, "sound.mkv", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.mp4", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.mp4", NULL);
  g_autofree char *d1 =
      g_strdup_printf ("videotestsrc num-buffers=5 ! "
                       "video/x-raw,width=64,height=64 ! jpegenc "
                       "! matroskamux ! filesink location=\"%s\"",
          mjpeg);
  g_autofree char *d2 = g_strdup_printf ("audiotestsrc num-buffers=5 "
                                         "! opusenc ! matroskamux "
                                         "! filesink location=\"%s\"",
      sound);
  RtsClipSpec spec = small_spec ("h264");

  spec.codec = "vp8";
  expect_error (&spec, RTS_CLIP_ERROR_INVALID, "vp8", "h264");
  spec = small_spec ("h265");
  spec.profile = "high";
  expect_error (&spec, RTS_CLIP_ERROR_INVALID, "profile", "only h264");
  spec = small_spec ("h264");
  spec.audio = "mp3";
  expect_error (&spec, RTS_CLIP_ERROR_INVALID, "mp3", "opus");
  spec = small_spec ("h264");
  spec.pattern = "plaid";
  expect_error (&spec, RTS_CLIP_ERROR_INVALID, "plaid", NULL);

  write_file (d1);
  write_file (d2);
  g_assert_true (g_file_set_contents (junk, "not a video", -1, NULL));
  spec = (RtsClipSpec){ .file = mjpeg };
  expect_error (&spec, RTS_CLIP_ERROR_FILE, mjpeg, "image/jpeg");
  spec.file = sound;
  expect_error (&spec, RTS_CLIP_ERROR_FILE, sound, "no video");
  spec.file = junk;
  expect_error (&spec, RTS_CLIP_ERROR_FILE, junk, "MP4 or MKV");
  spec.file = missing;
  expect_error (&spec, RTS_CLIP_ERROR_FILE, missing, NULL);
  g_unlink (mjpeg);
  g_unlink (sound);
  g_unlink (junk);
  g_rmdir (dir);
}

typedef struct {
  GMainLoop *loop;
  RtsClip *clip;
  GError *error;
} Cancelled;

static void
on_cancelled_made (GObject *source, GAsyncResult *res, gpointer data)
{
  Cancelled *made = data;
  made->clip = rts_clip_make_finish (res, &made->error);
  g_main_loop_quit (made->loop);
}

/* Cancelled while encoding: the caller hears so, and nothing leaks. */
static void
test_cancel (void)
{
  RtsClipSpec spec = small_spec ("h264");
  GCancellable *cancel = g_cancellable_new ();
  Cancelled made = { g_main_loop_new (NULL, FALSE), NULL, NULL };

  spec.seconds = 10;
  rts_clip_make_async (&spec, cancel, on_cancelled_made, &made);
  g_cancellable_cancel (cancel);
  g_main_loop_run (made.loop);
  g_assert_null (made.clip);
  g_assert_error (made.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&made.error);
  g_object_unref (cancel);
  g_main_loop_unref (made.loop);
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/clip/play/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_codec);
  }
  g_test_add_func ("/clip/play/file-mp4", test_file);
  g_test_add_func ("/clip/file-h265", test_file_h265);
  g_test_add_func ("/clip/h265-first-au", test_h265_first_au);
  g_test_add_func ("/clip/file-vfr", test_file_vfr);
  g_test_add_func ("/clip/errors", test_errors);
  g_test_add_func ("/clip/cancel", test_cancel);
  return g_test_run ();
}
