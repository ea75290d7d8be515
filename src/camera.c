/* camera: see camera.h. */
#include "camera.h"

/* Patterns a viewer tells apart at a glance; the ball moves, so a frozen
 * picture is visible too. Cameras past the list reuse it in order. */
static const char *const patterns[] = {
  "smpte",
  "ball",
  "pinwheel",
  "colors",
  "checkers-8",
  "circular",
  "spokes",
  "gradient",
};

static void
camera_free (gpointer data)
{
  RtsCamera *cam = data;
  g_free (cam->name);
  g_free (cam);
}

GPtrArray *
rts_cameras_new (const RtsConfig *cfg)
{
  GPtrArray *cameras = g_ptr_array_new_with_free_func (camera_free);

  for (guint i = 0; i < cfg->n_cameras; i++) {
    RtsCamera *cam = g_new0 (RtsCamera, 1);
    cam->index = i;
    cam->name = g_strdup_printf ("cam%u", i + 1);
    cam->port = cfg->rtsp_ports[i];
    cam->path = RTS_MOUNT_PATH;
    cam->pattern = patterns[i % G_N_ELEMENTS (patterns)];
    cam->codec = "h264";
    cam->width = cfg->width;
    cam->height = cfg->height;
    cam->fps = cfg->fps;
    cam->gop = cfg->gop ? cfg->gop : cfg->fps;
    cam->bitrate = cfg->bitrate;
    g_ptr_array_add (cameras, cam);
  }
  return cameras;
}

void
rts_cameras_free (GPtrArray *cameras)
{
  if (cameras)
    g_ptr_array_unref (cameras);
}

char *
rts_camera_launch (const RtsCamera *cam)
{
  /* zerolatency drops B-frames and lookahead, which RTP readers and low
   * latency want; one thread per encoder keeps four cameras from fighting
   * over two cores. config-interval=-1 repeats SPS/PPS before every IDR so
   * a reader joining mid-stream can decode from its first keyframe. */
  return g_strdup_printf (
      "( videotestsrc is-live=true pattern=%s "
      "! video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 "
      "! textoverlay text=\"%s\" valignment=top halignment=left "
      "font-desc=\"Sans 20\" shaded-background=true "
      "! x264enc tune=zerolatency speed-preset=ultrafast threads=1 "
      "key-int-max=%u bitrate=%u "
      "! video/x-h264,profile=constrained-baseline "
      "! rtph264pay name=pay0 pt=96 config-interval=-1 )",
      cam->pattern, cam->width, cam->height, cam->fps, cam->name, cam->gop,
      cam->bitrate);
}
