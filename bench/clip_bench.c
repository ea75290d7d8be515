/* clip-bench: what a loop clip costs. Prints the time to encode one clip
 * per codec (and four at once, as a server start-up does), then the CPU of
 * four players feeding their payloaders for SECONDS (default 10), against
 * four live x264 pipelines like camera.c's for the same time with --live.
 *
 *   build-release/clip-bench [SECONDS] [--live] */
#include "clip.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define N 4

static const char *const patterns[N] = { "smpte", "ball", "pinwheel",
  "colors" };

typedef struct {
  GMainLoop *loop;
  guint pending;
  RtsClip *clips[N];
  gint64 done_at[N];
} Batch;

static void
on_made (GObject *source, GAsyncResult *res, gpointer data)
{
  Batch *b = data;
  g_autoptr (GError) error = NULL;
  guint i;

  for (i = 0; i < N && b->clips[i]; i++)
    ;
  b->clips[i] = rts_clip_make_finish (res, &error);
  if (!b->clips[i])
    g_error ("clip: %s", error->message);
  b->done_at[i] = g_get_monotonic_time ();
  if (--b->pending == 0)
    g_main_loop_quit (b->loop);
}

/* Makes COUNT clips of CODEC at once; returns the wall time in ms. */
static double
make_batch (Batch *b, const char *codec, const char *audio, double seconds,
    guint count)
{
  gint64 t0 = g_get_monotonic_time ();

  memset (b, 0, sizeof *b);
  b->loop = g_main_loop_new (NULL, FALSE);
  b->pending = count;
  for (guint i = 0; i < count; i++) {
    g_autofree char *name = g_strdup_printf ("cam%u", i + 1);
    RtsClipSpec spec = { .codec = codec,
      .width = 640,
      .height = 480,
      .fps = 30,
      .gop = 30,
      .bitrate = 1000,
      .pattern = patterns[i],
      .text = name,
      .seconds = seconds,
      .audio = audio };
    rts_clip_make_async (&spec, NULL, on_made, b);
  }
  g_main_loop_run (b->loop);
  g_main_loop_unref (b->loop);
  return (g_get_monotonic_time () - t0) / 1e3;
}

static void
free_batch (Batch *b)
{
  for (guint i = 0; i < N; i++)
    g_clear_pointer (&b->clips[i], rts_clip_unref);
}

static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* Runs the pipelines for SECONDS; returns the CPU used, % of one core. */
static double
run (GstElement **pipes, guint n, double seconds)
{
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  double cpu0, wall0, cpu;

  for (guint i = 0; i < n; i++)
    gst_element_set_state (pipes[i], GST_STATE_PLAYING);
  /* Start-up is not the steady state. */
  g_timeout_add (500, quit, loop);
  g_main_loop_run (loop);
  cpu0 = cpu_seconds ();
  wall0 = g_get_monotonic_time () / 1e6;
  g_timeout_add ((guint) (seconds * 1000), quit, loop);
  g_main_loop_run (loop);
  cpu = (cpu_seconds () - cpu0) / (g_get_monotonic_time () / 1e6 - wall0);
  for (guint i = 0; i < n; i++)
    gst_element_set_state (pipes[i], GST_STATE_NULL);
  g_main_loop_unref (loop);
  return cpu * 100;
}

static GstPadProbeReturn
count_packets (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  guint *n = data;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    *n += gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
  else
    *n += 1;
  return GST_PAD_PROBE_OK;
}

int
main (int argc, char **argv)
{
  static const char *const codecs[] = { "h264", "h265", "mjpeg" };
  double seconds = argc > 1 && argv[1][0] != '-' ? atof (argv[1]) : 10;
  gboolean live = argc > 1 && g_str_equal (argv[argc - 1], "--live");
  GstElement *pipes[N];
  RtsClipPlayer *players[N];
  guint packets[N] = { 0 };
  Batch b;

  gst_init (&argc, &argv);
  /* Warm the registry and the fonts: the server has done so before its
   * cameras start. */
  make_batch (&b, "h264", NULL, 1, 1);
  free_batch (&b);

  g_print ("encode time, 640x480@30, GOP 30 (ms; one clip / four at once)\n");
  for (guint c = 0; c < G_N_ELEMENTS (codecs); c++) {
    for (double s = 1; s <= 2; s++) {
      double one = make_batch (&b, codecs[c], NULL, s, 1);
      double four;
      free_batch (&b);
      four = make_batch (&b, codecs[c], NULL, s, N);
      free_batch (&b);
      g_print ("  %-5s %.0f s clip: %6.0f ms / %6.0f ms\n", codecs[c], s, one,
          four);
    }
  }
  {
    static const char *const audios[] = { "aac", "opus", "pcmu", "pcma" };
    for (guint a = 0; a < G_N_ELEMENTS (audios); a++) {
      double one = make_batch (&b, "h264", audios[a], 1, 1);
      free_batch (&b);
      g_print ("  h264+%s 1 s clip: %6.0f ms\n", audios[a], one);
    }
  }

  make_batch (&b, "h264", NULL, 1, N);
  for (guint i = 0; i < N; i++) {
    g_autofree char *desc =
        g_strdup_printf ("appsrc name=vsrc ! %s ! fakesink sync=false",
            rts_clip_video_chain (b.clips[i]));
    g_autoptr (GstElement) src = NULL;
    g_autoptr (GstElement) pay = NULL;
    g_autoptr (GstPad) pad = NULL;
    pipes[i] = gst_parse_launch (desc, NULL);
    src = gst_bin_get_by_name (GST_BIN (pipes[i]), "vsrc");
    pay = gst_bin_get_by_name (GST_BIN (pipes[i]), "pay0");
    pad = gst_element_get_static_pad (pay ? pay : src, "src");
    gst_pad_add_probe (pad,
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
        count_packets, &packets[i], NULL);
    players[i] = rts_clip_player_new (b.clips[i], src, NULL);
    if (g_getenv ("LEAD_MS"))
      rts_clip_player_set_lead (players[i],
          atoi (g_getenv ("LEAD_MS")) * GST_MSECOND);
  }
  g_print ("CPU of %u players (h264 640x480@30, 1 s clip, to rtph264pay), "
           "%.0f s: %.2f %% of one core\n",
      N, seconds, run (pipes, N, seconds));
  for (guint i = 0; i < N; i++) {
    g_print ("  player %u: %u RTP packets\n", i + 1, packets[i]);
    rts_clip_player_free (players[i]);
    gst_object_unref (pipes[i]);
  }
  free_batch (&b);

  if (live) {
    for (guint i = 0; i < N; i++) {
      /* camera.c's launch line, encoder and all. */
      g_autofree char *desc = g_strdup_printf (
          "videotestsrc is-live=true pattern=%s "
          "! video/x-raw,format=I420,width=640,height=480,framerate=30/1 "
          "! textoverlay text=cam%u valignment=top halignment=left "
          "font-desc=\"Sans 20\" shaded-background=true "
          "! x264enc tune=zerolatency speed-preset=ultrafast threads=1 "
          "key-int-max=30 bitrate=1000 "
          "! video/x-h264,profile=constrained-baseline "
          "! rtph264pay name=pay0 pt=96 config-interval=-1 "
          "! fakesink sync=false",
          patterns[i], i + 1);
      pipes[i] = gst_parse_launch (desc, NULL);
    }
    g_print ("CPU of %u live x264 pipelines (camera.c's), %.0f s: %.1f %% of "
             "one core\n",
        N, seconds, run (pipes, N, seconds));
    for (guint i = 0; i < N; i++)
      gst_object_unref (pipes[i]);
  }
  return 0;
}
