/* Tests of rtp_clip: the packets a clip is made into, and the arithmetic of
 * positions that the sender replays them by, across many loops. (That the
 * packets decode across loop points is tests/test_clip.c's.) */
#include "clip.h"
#include "clipmake.h"
#include "rtp_clip.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <string.h>

#define LOOPS 4

static RtsRtpClip *
make (const char *audio)
{
  RtsClipSpec spec = {
    .codec = "h264",
    .width = 160,
    .height = 120,
    .fps = 30,
    .gop = 9,
    .bitrate = 200,
    .pattern = "ball",
    .seconds = 0.3,
    .audio = audio,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (RtsClip) clip = ts_clip_make (&spec, &error);
  RtsRtpClip *rc;

  g_assert_no_error (error);
  rc = rts_rtp_clip_new (clip, &error);
  g_assert_no_error (error);
  return rc;
}

/* Every packet is RTP as the payloader made it: its payload type, the
 * marker on the last packet of each frame, a keyframe start where the
 * keys say. */
static void
test_packets (void)
{
  g_autoptr (RtsRtpClip) rc = make ("aac");
  const RtsRtpTrack *v = rts_rtp_clip_track (rc, 0);
  const RtsRtpTrack *a = rts_rtp_clip_track (rc, 1);
  guint markers = 0, keys = 0;

  g_assert_nonnull (v);
  g_assert_nonnull (a);
  g_assert_null (rts_rtp_clip_track (rc, 2));
  g_assert_cmpuint (v->clock_rate, ==, 90000);
  g_assert_cmpuint (v->pt, ==, 96);
  g_assert_cmpuint (a->clock_rate, ==, 48000);
  g_assert_cmpuint (a->pt, ==, 97);
  g_assert_cmpuint (v->frames, ==, 9);
  g_assert_cmpuint (v->length, ==, gst_util_uint64_scale (9, GST_SECOND, 30));
  /* SDP material, without the payloader's random numbers. */
  g_assert_nonnull (
      gst_structure_get_string (gst_caps_get_structure (v->caps, 0),
          "sprop-parameter-sets"));
  g_assert_false (
      gst_structure_has_field (gst_caps_get_structure (v->caps, 0), "ssrc"));
  for (guint i = 0; i < v->n; i++) {
    const RtsRtpPacket *p = &v->packets[i];
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    g_autoptr (GstBuffer) buf = gst_buffer_new_memdup (p->data, p->size);

    g_assert_true (gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp));
    g_assert_cmpuint (gst_rtp_buffer_get_payload_type (&rtp), ==, 96);
    g_assert_cmpint (gst_rtp_buffer_get_marker (&rtp), ==, p->marker);
    /* The header the sender rewrites is exactly 12 bytes. */
    g_assert_cmpuint (gst_rtp_buffer_get_header_len (&rtp), ==, 12);
    gst_rtp_buffer_unmap (&rtp);
    g_assert_cmpuint (p->size, <=, 1400);
    markers += p->marker;
    keys += p->key;
    /* A keyframe starts a frame. */
    if (p->key && i > 0)
      g_assert_true (v->packets[i - 1].marker);
  }
  g_assert_cmpuint (markers, ==, 9);
  g_assert_cmpuint (keys, ==, v->n_keys);
  g_assert_cmpuint (v->n_keys, ==, 1); /* one GOP of 9 */
  g_assert_true (v->packets[0].key);
  g_assert_true (v->packets[v->n - 1].marker);
  /* Audio: any packet may start a stream. */
  g_assert_cmpuint (a->n_keys, ==, a->n);
}

/* Due times and timestamps keep rising across loop points, and a loop's
 * worth of ticks is exact however many loops have gone by. */
static void
test_timeline (void)
{
  g_autoptr (RtsRtpClip) rc = make ("aac");

  for (guint k = 0; k < 2; k++) {
    const RtsRtpTrack *t = rts_rtp_clip_track (rc, k);
    guint32 loop_ticks = (guint32) gst_util_uint64_scale_round (t->length,
        t->clock_rate, GST_SECOND);

    for (guint64 g = 1; g < LOOPS * (guint64) t->n; g++) {
      const RtsRtpPacket *p = rts_rtp_track_packet (t, g);
      const RtsRtpPacket *prev = rts_rtp_track_packet (t, g - 1);
      gint32 step = (gint32) (rts_rtp_track_ticks (t, g)
          - rts_rtp_track_ticks (t, g - 1));
      g_assert_cmpuint (rts_rtp_track_due (t, g), >=,
          rts_rtp_track_due (t, g - 1));
      /* Packets of one frame share a timestamp; the next frame's is later
       * (no B-frames here). */
      if (k == 0 && !prev->marker)
        g_assert_cmpint (step, ==, 0);
      else
        g_assert_cmpint (step, >, 0);
      (void) p;
    }
    g_assert_cmpuint (rts_rtp_track_due (t, t->n), ==, t->length);
    for (guint64 g = 0; g < t->n; g++) {
      /* A million loops on (a camera up for days): the same position in
       * the loop, exactly a million loops of ticks later. */
      guint64 far = g + 1000000 * (guint64) t->n;
      g_assert_cmpuint (rts_rtp_track_ticks (t, far), ==,
          (guint32) (rts_rtp_track_ticks (t, g) + 1000000u * loop_ticks));
      g_assert_cmpuint (rts_rtp_track_due (t, far), ==,
          rts_rtp_track_due (t, g) + 1000000 * t->length);
    }
  }
}

/* The lookups the sender plans readers with. */
static void
test_lookups (void)
{
  g_autoptr (RtsRtpClip) rc = make ("opus");

  for (guint k = 0; k < 2; k++) {
    const RtsRtpTrack *t = rts_rtp_clip_track (rc, k);
    for (guint64 g = 0; g < LOOPS * (guint64) t->n; g++) {
      GstClockTime due = rts_rtp_track_due (t, g);
      guint64 after = rts_rtp_track_at_or_after (t, due);
      guint64 before = rts_rtp_track_at_or_before (t, due);
      guint64 kb = rts_rtp_track_key_at_or_before (t, g);
      guint64 ka = rts_rtp_track_key_at_or_after (t, g);

      /* The first and last packet due at that time, G among them. */
      g_assert_cmpuint (after, <=, g);
      g_assert_cmpuint (before, >=, g);
      g_assert_cmpuint (rts_rtp_track_due (t, after), ==, due);
      g_assert_cmpuint (rts_rtp_track_due (t, before), ==, due);
      if (after > 0)
        g_assert_cmpuint (rts_rtp_track_due (t, after - 1), <, due);
      g_assert_cmpuint (rts_rtp_track_due (t, before + 1), >, due);
      /* Between packets: the next one, and the one before. */
      g_assert_cmpuint (rts_rtp_track_at_or_after (t, due + 1), >, before);
      g_assert_cmpuint (rts_rtp_track_at_or_before (t, due + 1), ==, before);

      g_assert_true (rts_rtp_track_packet (t, kb)->key);
      g_assert_true (rts_rtp_track_packet (t, ka)->key);
      g_assert_cmpuint (kb, <=, g);
      g_assert_cmpuint (ka, >=, g);
      for (guint64 x = kb + 1; x <= g; x++)
        g_assert_false (rts_rtp_track_packet (t, x)->key);
      for (guint64 x = g; x < ka; x++)
        g_assert_false (rts_rtp_track_packet (t, x)->key);
    }
    g_assert_cmpint (rts_rtp_track_ticks_in (t, GST_SECOND), ==, t->clock_rate);
    g_assert_cmpint (rts_rtp_track_ticks_in (t, -(gint64) GST_SECOND / 2), ==,
        -(gint64) t->clock_rate / 2);
  }
}

/* The SDP names the stream's profile and level, read from its SPS: a
 * client without them must assume H.264 Baseline level 1.0 or H.265 Main
 * level 3.1. */
static void
test_profile_level (void)
{
  struct {
    const char *codec, *profile;
    guint width, height;
    const char *field, *want;
  } cases[] = {
    /* Constrained Baseline (42, constraint flags c0), then the level. */
    { "h264", NULL, 160, 120, "profile-level-id", "42c0" },
    /* High (64). */
    { "h264", "high", 160, 120, "profile-level-id", "6400" },
    /* Main (1), level 3.0 (90: 30 x 3). */
    { "h265", NULL, 320, 240, "profile-id", "1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    RtsClipSpec spec = {
      .codec = cases[i].codec,
      .profile = cases[i].profile,
      .width = cases[i].width,
      .height = cases[i].height,
      .fps = 15,
      .gop = 5,
      .bitrate = 200,
      .pattern = "ball",
      .seconds = 0.3,
    };
    g_autoptr (GError) error = NULL;
    g_autoptr (RtsClip) clip = ts_clip_make (&spec, &error);
    g_autoptr (RtsRtpClip) rc = NULL;
    g_autofree char *text = NULL;
    const GstStructure *s;

    g_assert_no_error (error);
    rc = rts_rtp_clip_new (clip, &error);
    g_assert_no_error (error);
    s = gst_caps_get_structure (rts_rtp_clip_track (rc, 0)->caps, 0);
    text = gst_structure_to_string (s);
    g_test_message ("%s %s: %s", cases[i].codec,
        cases[i].profile ? cases[i].profile : "", text);
    if (g_str_equal (cases[i].codec, "h264")) {
      const char *id = gst_structure_get_string (s, cases[i].field);
      g_assert_nonnull (id);
      g_assert_true (g_str_has_prefix (id, cases[i].want));
      /* A level as x264 chose it for the size and rate: 1.0 to 3.0. */
      g_assert_cmpuint (strlen (id), ==, 6);
      g_assert_cmpint (g_ascii_strtoll (id + 4, NULL, 16), >=, 10);
      g_assert_cmpint (g_ascii_strtoll (id + 4, NULL, 16), <=, 30);
    } else {
      g_assert_cmpstr (gst_structure_get_string (s, cases[i].field), ==,
          cases[i].want);
      g_assert_cmpstr (gst_structure_get_string (s, "tier-flag"), ==, "0");
      g_assert_nonnull (gst_structure_get_string (s, "level-id"));
    }
  }
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtp_clip/packets", test_packets);
  g_test_add_func ("/rtp_clip/timeline", test_timeline);
  g_test_add_func ("/rtp_clip/lookups", test_lookups);
  g_test_add_func ("/rtp_clip/profile-level", test_profile_level);
  return g_test_run ();
}
