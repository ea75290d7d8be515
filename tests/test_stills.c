/* Tests of stills: each GOP's still is exactly the frame the clip starts
 * that GOP with (the picture sought to it, not rendered frame by frame),
 * byte for byte the JPEG of that frame; a camera that goes away stops its
 * render; a pipeline that cannot start leaves no still and no crash; the
 * heap trim after start-up runs whenever it is asked for. */
#include "camera.h"
#include "stills.h"

#include <gst/app/gstappsink.h>
#include <string.h>

#define FPS 30
#define GOP 9
#define GOPS 3

static RtsCamera
camera (const char *pattern)
{
  RtsCamera cam = {
    .name = (char *) "still",
    .width = 160,
    .height = 120,
    .fps = FPS,
    .gop = GOP,
    .pattern = (char *) pattern,
  };
  return cam;
}

/* Every frame of LAUNCH's first FRAMES, as JPEGs, played from the start:
 * the way stills were made before (every frame rendered). */
static GPtrArray *
every_frame (const char *launch, guint frames)
{
  g_autofree char *limited = NULL;
  g_auto (GStrv) parts = g_strsplit (launch, "videotestsrc ", 2);
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) sink = NULL;
  GPtrArray *out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GstSample *sample;

  g_assert_nonnull (parts[1]);
  limited = g_strdup_printf ("%svideotestsrc num-buffers=%u %s", parts[0],
      frames, parts[1]);
  pipeline = gst_parse_launch (limited, NULL);
  g_assert_nonnull (pipeline);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "stills");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              5 * GST_SECOND))) {
    GstMapInfo map;
    GstBuffer *buf = gst_sample_get_buffer (sample);
    g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
    g_ptr_array_add (out, g_bytes_new (map.data, map.size));
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_cmpuint (out->len, ==, frames);
  return out;
}

static void
test_frames (void)
{
  const char *patterns[] = { "ball", "smpte", "pinwheel", "colors",
    "checkers-8", "circular", "spokes", "gradient", "snow", "black", "white" };

  for (guint p = 0; p < G_N_ELEMENTS (patterns); p++) {
    RtsCamera cam = camera (patterns[p]);
    g_autofree char *launch = rts_camera_stills_launch (&cam);
    g_autoptr (GPtrArray) ref = every_frame (launch, (GOPS - 1) * GOP + 1);
    RtsStills *stills = rts_stills_new (cam.name, launch, GOPS, GOP, FPS);
    /* Noise (snow, and smpte's strip of it) draws from a sequence that
     * advances with each frame rendered, which a seek does not replay:
     * those stills are the right picture but for the noise. */
    gboolean exact = !g_str_equal (patterns[p], "smpte")
        && !g_str_equal (patterns[p], "snow");

    rts_stills_wait_idle ();
    g_assert_cmpuint (rts_stills_count (stills), ==, GOPS);
    for (guint k = 0; k < GOPS; k++) {
      g_autoptr (GBytes) got = rts_stills_get (stills, k);
      g_autoptr (GBytes) again = rts_stills_get (stills, k + GOPS);
      g_assert_nonnull (got);
      if (exact && !g_bytes_equal (got, ref->pdata[k * GOP]))
        g_error ("pattern %s: the still of GOP %u is not frame %u", patterns[p],
            k, k * GOP);
      /* Round and round, as the loop plays. */
      g_assert_true (g_bytes_equal (got, again));
    }
    /* The ball moves: each GOP has its own picture. */
    if (g_str_equal (patterns[p], "ball")) {
      g_autoptr (GBytes) a = rts_stills_get (stills, 0);
      g_autoptr (GBytes) b = rts_stills_get (stills, 1);
      g_assert_false (g_bytes_equal (a, b));
    }
    rts_stills_free (stills);
  }
  g_test_message ("%u patterns: each GOP's still is its first frame, byte "
                  "for byte (snow and smpte: but for their noise)",
      (guint) G_N_ELEMENTS (patterns));
}

/* Many cameras at once, freed before they are done: the renders stop, and
 * nothing waits for them. */
static void
test_cancel (void)
{
  RtsCamera cam = camera ("snow");
  g_autofree char *launch = rts_camera_stills_launch (&cam);
  RtsStills *many[16];

  for (guint i = 0; i < G_N_ELEMENTS (many); i++)
    many[i] = rts_stills_new (cam.name, launch, 1000, GOP, FPS);
  for (guint i = 0; i < G_N_ELEMENTS (many); i++)
    rts_stills_free (many[i]);
  rts_stills_wait_idle ();
}

/* A pipeline that cannot be made: no still, said in the log, no crash. */
static void
test_broken (void)
{
  RtsStills *stills = rts_stills_new ("broken",
      "nosuchelement ! appsink name=stills", 2, GOP, FPS);

  rts_stills_wait_idle ();
  g_assert_cmpuint (rts_stills_count (stills), ==, 0);
  g_assert_null (rts_stills_get (stills, 0));
  /* Said as failed, so a snapshot says "none", not "not yet". */
  g_assert_true (rts_stills_failed (stills));
  rts_stills_free (stills);
}

/* The trim once start-up's stills are asked for: whether the renders are
 * over when it is asked (its own job) or not (the last render does it);
 * either way once, and waited for. (GThreadPool takes no NULL job: the
 * first form once asserted in the container's log.) */
static void
test_trim (void)
{
  RtsCamera cam = camera ("ball");
  g_autofree char *launch = rts_camera_stills_launch (&cam);

  for (guint over = 0; over < 2; over++) {
    RtsStills *stills = rts_stills_new (cam.name, launch, GOPS, GOP, FPS);
    if (over)
      rts_stills_wait_idle ();
    rts_stills_trim_when_done ();
    rts_stills_wait_idle ();
    g_assert_cmpuint (rts_stills_count (stills), ==, GOPS);
    g_assert_false (rts_stills_failed (stills));
    rts_stills_free (stills);
  }
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stills/frames", test_frames);
  g_test_add_func ("/stills/cancel", test_cancel);
  g_test_add_func ("/stills/broken", test_broken);
  g_test_add_func ("/stills/trim", test_trim);
  return g_test_run ();
}
