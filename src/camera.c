/* camera: see camera.h. */
#include "camera.h"

#include "sender.h"

#include <gst/gst.h>
#include <math.h>

static void
camera_free (gpointer data)
{
  g_free (data);
}

GPtrArray *
rts_cameras_new (const RtsConfig *cfg)
{
  GPtrArray *cameras = g_ptr_array_new_with_free_func (camera_free);

  for (guint i = 0; i < cfg->n_cameras; i++) {
    const RtsCameraConfig *c = &cfg->cameras[i];
    RtsCamera *cam = g_new0 (RtsCamera, 1);
    cam->index = i;
    cam->name = c->name;
    cam->port = c->port;
    cam->path = c->path;
    cam->pattern = c->pattern;
    cam->source = c->source;
    cam->file = c->file;
    cam->codec = c->codec;
    cam->profile = c->profile;
    cam->width = c->width;
    cam->height = c->height;
    cam->fps = c->fps;
    cam->fps_n = c->fps;
    cam->fps_d = 1;
    cam->gop = c->gop;
    cam->bitrate = c->bitrate;
    cam->overlay = c->overlay;
    cam->audio = c->audio;
    cam->auth = c->auth;
    cam->user = c->user;
    cam->password = c->password;
    cam->transports = c->transport_mask;
    cam->mcast_group = c->mcast_group;
    cam->mcast_port_min = c->mcast_port_min;
    cam->mcast_port_last = rts_config_mcast_last_port (c);
    cam->mcast_port_max = c->mcast_port_max;
    cam->mcast_ttl = c->mcast_ttl;
    cam->clip_seconds = c->clip_seconds;
    g_ptr_array_add (cameras, cam);
  }
  return cameras;
}

/* Elements each choice needs, and the Debian package that has them. */
static const struct {
  const char *choice;
  const char *elements;
  const char *package;
} needs[] = {
  { "live", "videotestsrc textoverlay", "gstreamer1.0-plugins-base" },
  { "loop", "videotestsrc textoverlay appsrc", "gstreamer1.0-plugins-base" },
  { "file", "appsrc filesrc", "gstreamer1.0-plugins-base" },
  { "h264", "x264enc", "gstreamer1.0-plugins-ugly" },
  { "h264", "rtph264pay", "gstreamer1.0-plugins-good" },
  { "h265", "x265enc", "gstreamer1.0-plugins-bad" },
  { "h265", "rtph265pay", "gstreamer1.0-plugins-good" },
  { "mjpeg", "jpegenc rtpjpegpay", "gstreamer1.0-plugins-good" },
  { "aac", "voaacenc", "gstreamer1.0-plugins-bad" },
  { "aac", "aacparse rtpmp4gpay", "gstreamer1.0-plugins-good" },
  { "opus", "opusenc rtpopuspay", "gstreamer1.0-plugins-base and -good" },
  { "pcmu", "mulawenc rtppcmupay", "gstreamer1.0-plugins-good" },
  { "pcma", "alawenc rtppcmapay", "gstreamer1.0-plugins-good" },
  { "audio", "audiotestsrc audioconvert audioresample",
      "gstreamer1.0-plugins-base" },
};

/* A camera whose elements are missing is a configuration error now, not
 * a pipeline that fails after the ports opened. Needs gst_init(). */
static gboolean
check_elements (const RtsCameraConfig *c, GError **error)
{
  const char *choices[] = { c->source, c->codec, c->audio,
    g_strcmp0 (c->audio, "none") ? "audio" : NULL };

  for (guint i = 0; i < G_N_ELEMENTS (needs); i++) {
    gboolean wanted = FALSE;
    for (guint j = 0; j < G_N_ELEMENTS (choices); j++)
      wanted |= g_strcmp0 (choices[j], needs[i].choice) == 0;
    if (!wanted)
      continue;
    g_auto (GStrv) names = g_strsplit (needs[i].elements, " ", -1);
    for (guint k = 0; names[k]; k++) {
      g_autoptr (GstElementFactory) f = gst_element_factory_find (names[k]);
      if (!f) {
        g_set_error (error, RTS_CONFIG_ERROR, 0,
            "camera '%s': %s needs the GStreamer element %s, which is not "
            "installed (Debian: %s)",
            c->name, needs[i].choice, names[k], needs[i].package);
        return FALSE;
      }
    }
  }
  return TRUE;
}

gboolean
rts_cameras_check (const RtsConfig *cfg, GError **error)
{
  for (guint i = 0; i < cfg->n_cameras; i++) {
    const RtsCameraConfig *c = &cfg->cameras[i];
    if (!check_elements (c, error))
      return FALSE;
  }
  return TRUE;
}

void
rts_cameras_free (GPtrArray *cameras)
{
  if (cameras)
    g_ptr_array_unref (cameras);
}

/* Encoder and payloader of each video codec. zerolatency drops B-frames
 * and lookahead, which RTP readers and low latency want; one thread per
 * encoder keeps many cameras from fighting over a few cores.
 * config-interval=-1 repeats the parameter sets before every keyframe so a
 * reader joining mid-stream decodes from its first keyframe. */
static char *
video_chain (const RtsCamera *cam)
{
  if (g_strcmp0 (cam->codec, "h265") == 0)
    return g_strdup_printf (
        "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=%u "
        "bitrate=%u option-string=\"pools=1:frame-threads=1\" "
        "! video/x-h265,profile=main "
        "! rtph265pay name=pay0 pt=96 config-interval=-1",
        cam->gop, cam->bitrate);
  if (g_strcmp0 (cam->codec, "mjpeg") == 0)
    return g_strdup (RTS_JPEG_INPUT " ! jpegenc quality=" G_STRINGIFY (
        RTS_MJPEG_QUALITY) " ! rtpjpegpay name=pay0 pt=26");
  /* The ultrafast preset turns CABAC off, which is what makes a stream
   * baseline: main needs it back, high also the 8x8 transform; x264
   * writes the profile the tools it used allow, whatever the caps say. */
  const char *tools = "";
  if (g_strcmp0 (cam->profile, "main") == 0)
    tools = "cabac=true ";
  else if (g_strcmp0 (cam->profile, "high") == 0)
    tools = "cabac=true dct8x8=true ";
  return g_strdup_printf ("x264enc tune=zerolatency speed-preset=ultrafast "
                          "threads=1 %s"
                          "key-int-max=%u bitrate=%u ! video/x-h264,profile=%s "
                          "! rtph264pay name=pay0 pt=96 config-interval=-1",
      tools, cam->gop, cam->bitrate,
      !cam->profile || g_strcmp0 (cam->profile, "baseline") == 0
          ? "constrained-baseline"
          : cam->profile);
}

/* A 440 Hz tone, quiet, mono: what a camera's microphone in a silent room
 * would be, but audible enough to check the track plays. */
static char *
audio_chain (const RtsCamera *cam)
{
  const char *rate = "48000", *enc = NULL, *spb = "1024";

  if (g_strcmp0 (cam->audio, "aac") == 0)
    enc = "voaacenc bitrate=64000 ! aacparse ! rtpmp4gpay name=pay1 pt=97";
  else if (g_strcmp0 (cam->audio, "opus") == 0)
    enc = "opusenc ! rtpopuspay name=pay1 pt=98";
  else if (g_strcmp0 (cam->audio, "pcmu") == 0)
    rate = "8000", enc = "mulawenc ! rtppcmupay name=pay1 pt=0";
  else if (g_strcmp0 (cam->audio, "pcma") == 0)
    rate = "8000", enc = "alawenc ! rtppcmapay name=pay1 pt=8";
  if (!enc)
    return g_strdup ("");
  /* G.711 goes out as it comes: 20 ms buffers make the 20 ms packets
   * phones and cameras send (1024 samples were 128 ms packets). */
  if (g_str_equal (rate, "8000"))
    spb = "160";
  return g_strdup_printf (" audiotestsrc is-live=true wave=sine freq=440 "
                          "volume=0.2 samplesperbuffer=%s "
                          "! audio/x-raw,rate=%s,channels=1 ! "
                          "audioconvert ! audioresample ! %s",
      spb, rate, enc);
}

/* The test picture: pattern, size, rate and the camera's name, as the
 * live encoder and the loop's stills see it. */
static char *
picture_chain (const RtsCamera *cam, const char *source_props)
{
  return g_strdup_printf ("videotestsrc %s pattern=%s "
                          "! video/x-raw,format=I420,width=%u,height=%u,"
                          "framerate=%u/1 "
                          "! textoverlay name=label text=\"%s\" "
                          "valignment=top halignment=left "
                          "font-desc=\"Sans 20\" shaded-background=true",
      source_props, cam->pattern, cam->width, cam->height, cam->fps, cam->name);
}

char *
rts_camera_stills_launch (const RtsCamera *cam)
{
  g_autofree char *picture = picture_chain (cam, "");

  return g_strdup_printf ("%s ! " RTS_JPEG_INPUT " ! jpegenc quality=70 "
                          "! appsink name=stills sync=false",
      picture);
}

char *
rts_camera_file_stills_launch (const RtsCamera *cam, GError **error)
{
  /* A URI is escaped: no quote or space of a file name reaches the launch
   * line. The video pad alone is linked; a demuxer goes on while one of
   * its streams is. */
  g_autofree char *path = g_canonicalize_filename (cam->file, NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, error);

  if (!uri)
    return NULL;
  return g_strdup_printf ("uridecodebin uri=\"%s\" caps=video/x-raw "
                          "! " RTS_JPEG_INPUT " ! jpegenc quality=70 "
                          "! appsink name=stills sync=false",
      uri);
}

RtsClipSpec *
rts_camera_clip_spec (const RtsCamera *cam)
{
  RtsClipSpec *spec;

  if (g_strcmp0 (cam->source, "live") == 0)
    return NULL;
  spec = g_new0 (RtsClipSpec, 1);
  spec->codec = cam->codec;
  /* A file's profile is the file's: not one to make. */
  spec->profile = g_strcmp0 (cam->source, "file") == 0 ? NULL : cam->profile;
  spec->width = cam->width;
  spec->height = cam->height;
  spec->fps = cam->fps;
  spec->gop = cam->gop;
  spec->bitrate = cam->bitrate;
  spec->pattern = cam->pattern;
  spec->text = cam->name;
  spec->seconds = cam->clip_seconds;
  spec->audio = cam->audio;
  spec->file = g_strcmp0 (cam->source, "file") == 0 ? cam->file : NULL;
  return spec;
}

char *
rts_camera_launch (const RtsCamera *cam, RtsClip *clip)
{
  if (clip) {
    /* No encoder, no payloader: the sender (sender.h) sends the clip's
     * packets, made once; these only stand where the payloaders would. */
    return g_strdup_printf ("( " RTS_FEED_SRC " name=pay0 %s)",
        rts_clip_audio_chain (clip) ? RTS_FEED_SRC " name=pay1 " : "");
  }

  g_autofree char *picture = picture_chain (cam, "is-live=true");
  g_autofree char *video = video_chain (cam);
  g_autofree char *audio = audio_chain (cam);

  /* The label's text is replaced per frame when the camera has an overlay
   * (rtsp_servers: frame counter and wall clock). The snapshot branch
   * (rtsp_servers lets one frame a second through) is leaky, so a slow JPEG
   * encoder never holds the video back. */
  return g_strdup_printf ("( %s ! tee name=t ! %s "
                          "t. ! queue name=snapq leaky=downstream "
                          "max-size-buffers=1 "
                          "! " RTS_JPEG_INPUT " ! jpegenc quality=70 "
                          "! appsink name=snap sync=false async=false "
                          "max-buffers=1 drop=true%s )",
      picture, video, audio);
}

char *
rts_rate_text (guint n, guint d)
{
  char *text;
  char *end;

  if (d <= 1 || n % d == 0)
    return g_strdup_printf ("%u", d ? n / d : n);
  text = g_strdup_printf ("%.3f", (double) n / d);
  end = text + strlen (text);
  while (end[-1] == '0')
    *--end = '\0';
  if (end[-1] == '.')
    end[-1] = '\0';
  return text;
}

void
rts_camera_take_file_video (RtsCamera *cam, RtsClip *clip)
{
  GstCaps *caps = rts_clip_video_caps (clip);
  const GstStructure *st = caps && gst_caps_get_size (caps)
      ? gst_caps_get_structure (caps, 0)
      : NULL;
  const char *profile;
  gint w = 0, h = 0, num = 0, den = 0;
  GstClockTime length = rts_clip_duration (clip);

  if (!cam->file || !st)
    return;
  if (gst_structure_has_name (st, "video/x-h264"))
    cam->codec = "h264";
  else if (gst_structure_has_name (st, "video/x-h265"))
    cam->codec = "h265";
  /* Any profile the file has (high-10, main-10...), for the log; the
   * camera's strings live as long as it does, the caps' may not. */
  profile = gst_structure_get_string (st, "profile");
  cam->profile = profile ? g_intern_string (profile) : NULL;
  if (gst_structure_get_int (st, "width", &w) && w > 0)
    cam->width = (guint) w;
  if (gst_structure_get_int (st, "height", &h) && h > 0)
    cam->height = (guint) h;
  /* The rate the clip has: its frames over its loop's length. The caps'
   * rate is exact (30000/1001) where it agrees; where it does not (a
   * variable rate, which Matroska calls its first frame's; an MP4's edit
   * list, by which qtdemux counted frames it then dropped: 94/3 for 30),
   * the measured one is told, as an average. */
  double measured = length > 0
      ? (double) rts_clip_n_frames (clip) * GST_SECOND / (double) length
      : 0;
  gboolean caps_rate = gst_structure_get_fraction (st, "framerate", &num, &den)
      && num > 0 && den > 0;

  cam->fps_average = FALSE;
  if (measured > 0
      && (!caps_rate
          || fabs ((double) num / den - measured) > 0.01 * measured)) {
    /* Frames over milliseconds, reduced: 52 frames in 3.9 s are 40/3. */
    guint64 a = (guint64) rts_clip_n_frames (clip) * 1000;
    guint64 b = MAX ((length + GST_MSECOND / 2) / GST_MSECOND, 1);
    guint64 g = (guint64) gst_util_greatest_common_divisor_int64 ((gint64) a,
        (gint64) b);
    num = (gint) MIN (a / g, G_MAXINT);
    den = (gint) MIN (b / g, G_MAXINT);
    cam->fps_average = TRUE;
  } else if (!caps_rate) {
    num = den = 0;
  }
  if (num > 0 && den > 0) {
    cam->fps_n = (guint) num;
    cam->fps_d = (guint) den;
    cam->fps = MAX ((guint) ((num + den / 2) / den), 1);
  }
}
