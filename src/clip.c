/* clip: see clip.h. */
#include "clip.h"

#include "clip_cache.h"
#include "clip_private.h"
#include "config.h"

#include <gst/app/gstappsink.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (rts - clip - error - quark, rts_clip_error)

/* ------------------------------------------------------------------------ */
/* The clip */

static void
track_clear (Track *t)
{
  g_clear_pointer (&t->frames, g_ptr_array_unref);
  gst_clear_caps (&t->caps);
  g_clear_pointer (&t->chain, g_free);
}

RtsClip *
rts_clip_ref (RtsClip *clip)
{
  g_atomic_int_inc (&clip->ref);
  return clip;
}

void
rts_clip_unref (RtsClip *clip)
{
  if (!clip || !g_atomic_int_dec_and_test (&clip->ref))
    return;
  track_clear (&clip->video);
  track_clear (&clip->audio);
  g_free (clip->cache_file);
  g_free (clip->cache_problem);
  g_free (clip->file_start);
  g_free (clip->file_audio);
  g_free (clip);
}

GstCaps *
rts_clip_video_caps (RtsClip *clip)
{
  return clip->video.caps;
}

GstCaps *
rts_clip_audio_caps (RtsClip *clip)
{
  return clip->audio.caps;
}

const char *
rts_clip_video_chain (RtsClip *clip)
{
  return clip->video.chain;
}

const char *
rts_clip_audio_chain (RtsClip *clip)
{
  return clip->audio.chain;
}

GstClockTime
rts_clip_duration (RtsClip *clip)
{
  return clip->video.length;
}

guint
rts_clip_n_frames (RtsClip *clip)
{
  return clip->video.frames->len;
}

GstClockTime
rts_clip_longest_gap (RtsClip *clip)
{
  GPtrArray *f = clip->video.frames;
  GstClockTime first = GST_CLOCK_TIME_NONE, prev = 0, gap = 0;

  for (guint i = 0; i < f->len; i++) {
    GstClockTime t = GST_BUFFER_DTS_OR_PTS (GST_BUFFER (f->pdata[i]));
    if (!GST_CLOCK_TIME_IS_VALID (t))
      continue;
    if (!GST_CLOCK_TIME_IS_VALID (first))
      first = t;
    else if (t > prev)
      gap = MAX (gap, t - prev);
    prev = t;
  }
  /* The last frame to the first of the next loop. */
  if (GST_CLOCK_TIME_IS_VALID (first) && clip->video.length + first > prev)
    gap = MAX (gap, clip->video.length + first - prev);
  return gap;
}

void
rts_clip_get_origin (RtsClip *clip, RtsClipOrigin *origin)
{
  origin->from_cache = clip->from_cache;
  origin->saved = clip->saved;
  origin->cache_file = clip->cache_file;
  origin->cache_problem = clip->cache_problem;
  origin->file_start = clip->file_start;
  origin->file_audio = clip->file_audio;
  origin->ms = clip->make_us / 1e3;
}

/* ------------------------------------------------------------------------ */
/* Making a clip: one small pipeline per track, each ending in an appsink
 * that collects whole access units. */

typedef struct Make Make;

typedef struct {
  Make *make;
  const char *what; /* "video", "audio": for messages */
  GstElement *pipeline;
  GSource *watch;
  GMutex lock; /* buffers, caps and problem: written on streaming threads */
  GPtrArray *buffers;
  GstCaps *caps;
  char *problem;     /* file source: why its video cannot be used */
  char *audio_left;  /* file source: its own audio's caps name, not sent */
  gboolean linked;   /* file source: a video pad was linked */
  gboolean finished; /* EOS seen */
} Job;

struct Make {
  GTask *task;
  char *codec, *profile, *pattern, *text, *audio, *file;
  guint width, height, fps, gop, bitrate, frames;
  /* The tone (audio_plan): samples a second and a frame, the loop's
   * frames, and the frames encoded before and after them. */
  guint audio_rate, audio_spb, audio_frames, audio_lead;
  Job video, audio_job;
  GSource *cancel_source;
  GSource *file_timer; /* file: no video found in FILE_FIND_S */
  gboolean done;
  gint64 started;      /* monotonic µs */
  char *cache_key;     /* NULL: no cache (off, or a file's clip) */
  char *cache_file;    /* where the clip is read from or written to */
  char *cache_problem; /* why the cache could not be used, for the log */
  char *file_start;    /* store_track(): how a file's start was made clean */
};

static void
job_stop (Job *job)
{
  if (job->watch) {
    g_source_destroy (job->watch);
    g_clear_pointer (&job->watch, g_source_unref);
  }
  if (job->pipeline) {
    gst_element_set_state (job->pipeline, GST_STATE_NULL);
    gst_clear_object (&job->pipeline);
  }
}

static void
job_clear (Job *job)
{
  job_stop (job);
  g_clear_pointer (&job->buffers, g_ptr_array_unref);
  gst_clear_caps (&job->caps);
  g_clear_pointer (&job->problem, g_free);
  g_clear_pointer (&job->audio_left, g_free);
  g_mutex_clear (&job->lock);
}

static void
make_free (Make *m)
{
  job_clear (&m->video);
  job_clear (&m->audio_job);
  if (m->cancel_source) {
    g_source_destroy (m->cancel_source);
    g_source_unref (m->cancel_source);
  }
  if (m->file_timer) {
    g_source_destroy (m->file_timer);
    g_source_unref (m->file_timer);
  }
  g_free (m->codec);
  g_free (m->profile);
  g_free (m->pattern);
  g_free (m->text);
  g_free (m->audio);
  g_free (m->file);
  g_free (m->cache_key);
  g_free (m->cache_file);
  g_free (m->cache_problem);
  g_free (m->file_start);
  g_free (m);
}

/* Ends the make once, with CLIP or ERROR (taken). The task owns M from here
 * on and frees it with itself. */
static void
make_return (Make *m, RtsClip *clip, GError *error)
{
  GTask *task = m->task;

  if (m->done) {
    g_clear_error (&error);
    rts_clip_unref (clip);
    return;
  }
  m->done = TRUE;
  job_stop (&m->video);
  job_stop (&m->audio_job);
  if (clip) {
    clip->cache_file = g_strdup (m->cache_file);
    clip->cache_problem = g_strdup (m->cache_problem);
    clip->file_start = g_strdup (m->file_start);
    g_mutex_lock (&m->video.lock);
    clip->file_audio = g_strdup (m->video.audio_left);
    g_mutex_unlock (&m->video.lock);
    clip->make_us = g_get_monotonic_time () - m->started;
  }
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, clip, (GDestroyNotify) rts_clip_unref);
  g_object_unref (task);
}

static void
make_fail (Make *m, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
make_fail (Make *m, int code, const char *format, ...)
{
  va_list args;
  char *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  make_return (m, NULL, g_error_new_literal (RTS_CLIP_ERROR, code, msg));
  g_free (msg);
}

/* Buffers every make has taken: see rts_clip_progress. */
static guint64 progress;

guint64
rts_clip_progress (void)
{
  return __atomic_load_n (&progress, __ATOMIC_RELAXED);
}

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer data)
{
  Job *job = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);

  if (!sample)
    return GST_FLOW_EOS;
  g_mutex_lock (&job->lock);
  g_ptr_array_add (job->buffers,
      gst_buffer_ref (gst_sample_get_buffer (sample)));
  gst_caps_replace (&job->caps, gst_sample_get_caps (sample));
  g_mutex_unlock (&job->lock);
  __atomic_fetch_add (&progress, 1, __ATOMIC_RELAXED);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static gboolean on_bus (GstBus *bus, GstMessage *msg, gpointer data);

/* Starts JOB's pipeline (already built, its appsink named "sink"). */
static gboolean
job_start (Make *m, Job *job)
{
  GstAppSinkCallbacks cbs = { .new_sample = on_new_sample };
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;

  sink = gst_bin_get_by_name (GST_BIN (job->pipeline), "sink");
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cbs, job, NULL);
  bus = gst_pipeline_get_bus (GST_PIPELINE (job->pipeline));
  job->watch = gst_bus_create_watch (bus);
  g_source_set_callback (job->watch, G_SOURCE_FUNC (on_bus), job, NULL);
  g_source_attach (job->watch, g_task_get_context (m->task));
  if (gst_element_set_state (job->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* The bus usually holds the reason; this is the fallback. */
    make_fail (m, RTS_CLIP_ERROR_ENCODE, "%s: the %s pipeline did not start",
        m->file ? m->file : m->codec, job->what);
    return FALSE;
  }
  return TRUE;
}

static gboolean
have_element (Make *m, const char *name, const char *package)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (name);

  if (f)
    return TRUE;
  make_fail (m, RTS_CLIP_ERROR_MISSING,
      "the GStreamer element %s is not installed (Debian package %s)", name,
      package);
  return FALSE;
}

static GstElement *
launch (Make *m, const char *desc)
{
  g_autoptr (GError) error = NULL;
  GstElement *p =
      gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);

  if (!p) {
    make_fail (m, RTS_CLIP_ERROR_MISSING, "cannot build \"%s\": %s", desc,
        error->message);
    return NULL;
  }
  return p;
}

/* The encoder part of the video pipeline: its output is whole access units,
 * keyframes with their parameter sets in-band (x264 and x265 repeat them
 * before every keyframe in byte-stream; store_track() checks), so a reader
 * may start at any keyframe. No parser: h264 and mjpeg clips need nothing
 * from gstreamer1.0-plugins-bad, which the container image leaves out. */
static char *
video_encoder (Make *m)
{
  if (g_str_equal (m->codec, "h264")) {
    /* ultrafast has no CABAC nor 8x8 transforms, i.e. it is baseline
     * whatever the profile says; superfast keeps main/high honest. */
    gboolean baseline = g_str_equal (m->profile, "baseline");
    return g_strdup_printf (
        "x264enc tune=zerolatency speed-preset=%s bframes=0 "
        "key-int-max=%u bitrate=%u "
        "! video/x-h264,profile=%s,stream-format=byte-stream,alignment=au",
        baseline ? "ultrafast" : "superfast", m->gop, m->bitrate,
        baseline ? "constrained-baseline" : m->profile);
  }
  if (g_str_equal (m->codec, "h265"))
    return g_strdup_printf (
        "x265enc tune=zerolatency speed-preset=ultrafast log-level=error "
        "key-int-max=%u bitrate=%u option-string=repeat-headers=1 "
        "! video/x-h265,stream-format=byte-stream,alignment=au",
        m->gop, m->bitrate);
  return g_strdup (
      RTS_JPEG_INPUT " ! jpegenc quality=" G_STRINGIFY (RTS_MJPEG_QUALITY));
}

/* The whole video pipeline but for the pattern and the text, which are
 * set as properties (no quoting of a name in a launch line). */
static char *
video_desc (Make *m)
{
  g_autofree char *enc = video_encoder (m);

  return g_strdup_printf (
      "videotestsrc name=src num-buffers=%u "
      "! video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 %s "
      "! %s ! appsink name=sink sync=false",
      m->frames, m->width, m->height, m->fps,
      m->text ? "! textoverlay name=overlay valignment=top halignment=left "
                "font-desc=\"Sans 20\" shaded-background=true"
              : "",
      enc);
}

static gboolean
start_test_pattern (Make *m)
{
  g_autofree char *desc = NULL;
  g_autoptr (GstElement) src = NULL;
  GParamSpec *pspec;
  GEnumValue *value;

  if (g_str_equal (m->codec, "h264")
      && !have_element (m, "x264enc", "gstreamer1.0-plugins-ugly"))
    return FALSE;
  if (g_str_equal (m->codec, "h265")
      && !have_element (m, "x265enc", "gstreamer1.0-plugins-bad"))
    return FALSE;
  if (g_str_equal (m->codec, "mjpeg")
      && !have_element (m, "jpegenc", "gstreamer1.0-plugins-good"))
    return FALSE;
  if (m->text && !have_element (m, "textoverlay", "gstreamer1.0-x"))
    return FALSE;

  desc = video_desc (m);
  m->video.pipeline = launch (m, desc);
  if (!m->video.pipeline)
    return FALSE;

  src = gst_bin_get_by_name (GST_BIN (m->video.pipeline), "src");
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (src), "pattern");
  value = g_enum_get_value_by_nick (G_PARAM_SPEC_ENUM (pspec)->enum_class,
      m->pattern);
  if (!value) {
    make_fail (m, RTS_CLIP_ERROR_INVALID, "unknown videotestsrc pattern \"%s\"",
        m->pattern);
    return FALSE;
  }
  g_object_set (src, "pattern", value->value, NULL);
  if (m->text) {
    g_autoptr (GstElement) overlay =
        gst_bin_get_by_name (GST_BIN (m->video.pipeline), "overlay");
    /* textoverlay reads Pango markup: a name is text. */
    g_autofree char *escaped = g_markup_escape_text (m->text, -1);
    g_object_set (overlay, "text", escaped, NULL);
  }
  return job_start (m, &m->video);
}

/* parsebin's pads, on a streaming thread: the first H.264/H.265 video goes
 * to the appsink through its parser; anything else is drained into a
 * fakesink so the demuxer keeps going. Neither sink prerolls: the demuxer
 * feeds both from one thread, and a sink waiting in preroll would stop it
 * before the other sink ever got data. */
static void
on_file_pad (GstElement *parsebin, GstPad *pad, gpointer data)
{
  Job *job = data;
  GstElement *bin = GST_ELEMENT (gst_element_get_parent (parsebin));
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *name = "unknown";
  const char *parser = NULL;
  g_autofree char *desc = NULL;
  GstElement *chain;
  GstPad *sinkpad;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps && gst_caps_get_size (caps) > 0)
    name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  g_mutex_lock (&job->lock);
  if (!job->linked && g_str_equal (name, "video/x-h264"))
    parser = "h264parse";
  else if (!job->linked && g_str_equal (name, "video/x-h265"))
    parser = "h265parse";
  else if (!job->linked && !job->problem
      && (g_str_has_prefix (name, "video/")
          || g_str_has_prefix (name, "image/")))
    job->problem =
        g_strdup_printf ("its video is %s, not H.264 or H.265", name);
  if (parser)
    job->linked = TRUE;
  if (!job->audio_left && g_str_has_prefix (name, "audio/"))
    job->audio_left = g_strdup (name);
  g_mutex_unlock (&job->lock);

  if (parser)
    desc = g_strdup_printf ("%s config-interval=-1 "
                            "! %s,stream-format=byte-stream,alignment=au "
                            "! appsink name=sink sync=false async=false",
        parser, name);
  else
    desc = g_strdup ("fakesink sync=false async=false");
  chain = gst_parse_bin_from_description (desc, TRUE, NULL);
  if (chain) {
    gst_bin_add (GST_BIN (bin), chain);
    sinkpad = gst_element_get_static_pad (chain, "sink");
    gst_pad_link (pad, sinkpad);
    gst_object_unref (sinkpad);
    if (parser) {
      /* The appsink is inside CHAIN; set it up before data flows. */
      GstAppSinkCallbacks cbs = { .new_sample = on_new_sample };
      g_autoptr (GstElement) sink =
          gst_bin_get_by_name (GST_BIN (chain), "sink");
      gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cbs, job, NULL);
    }
    gst_element_sync_state_with_parent (chain);
  }
  gst_object_unref (bin);
}

/* Every pad is known: without a usable video, say so on the bus, where the
 * main context ends the make. */
static void
on_file_no_more_pads (GstElement *parsebin, gpointer data)
{
  Job *job = data;
  gboolean linked;

  g_mutex_lock (&job->lock);
  linked = job->linked;
  g_mutex_unlock (&job->lock);
  if (!linked)
    gst_element_post_message (parsebin,
        gst_message_new_application (GST_OBJECT (parsebin),
            gst_structure_new_empty ("rts-clip-no-video")));
}

/* A file shows its video stream in milliseconds (its header read). A
 * damaged one (an MP4 cut before its index) is refused at once, but now
 * and then (5 of 120 starts, more under load) parsebin 1.22 lost the
 * demuxer's error: no pad, no error, no end, and the start waited for
 * good. */
#define FILE_FIND_S 5

static gboolean
on_file_timer (gpointer data)
{
  Make *m = data;
  G_GNUC_UNUSED g_autoptr (GTask) hold = g_object_ref (m->task);
  g_autofree char *problem = NULL;
  gboolean linked;

  g_clear_pointer (&m->file_timer, g_source_unref);
  g_mutex_lock (&m->video.lock);
  linked = m->video.linked;
  problem = g_strdup (m->video.problem);
  g_mutex_unlock (&m->video.lock);
  if (!linked)
    make_fail (m, RTS_CLIP_ERROR_FILE,
        "%s: no video stream found within %d s of opening it (%s)", m->file,
        FILE_FIND_S, problem ? problem : "a damaged or truncated file?");
  return G_SOURCE_REMOVE;
}

static gboolean
start_file (Make *m)
{
  GstElement *src, *parsebin;
  GstBus *bus;

  if (!have_element (m, "parsebin", "gstreamer1.0-plugins-base")
      || !have_element (m, "h264parse", "gstreamer1.0-plugins-bad"))
    return FALSE;
  if (!g_file_test (m->file, G_FILE_TEST_IS_REGULAR)) {
    make_fail (m, RTS_CLIP_ERROR_FILE, "%s: no such file", m->file);
    return FALSE;
  }
  m->video.pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("filesrc", NULL);
  parsebin = gst_element_factory_make ("parsebin", NULL);
  g_object_set (src, "location", m->file, NULL);
  gst_bin_add_many (GST_BIN (m->video.pipeline), src, parsebin, NULL);
  gst_element_link (src, parsebin);
  g_signal_connect (parsebin, "pad-added", G_CALLBACK (on_file_pad), &m->video);
  g_signal_connect (parsebin, "no-more-pads", G_CALLBACK (on_file_no_more_pads),
      &m->video);

  bus = gst_pipeline_get_bus (GST_PIPELINE (m->video.pipeline));
  m->video.watch = gst_bus_create_watch (bus);
  gst_object_unref (bus);
  g_source_set_callback (m->video.watch, G_SOURCE_FUNC (on_bus), &m->video,
      NULL);
  g_source_attach (m->video.watch, g_task_get_context (m->task));
  m->file_timer = g_timeout_source_new_seconds (FILE_FIND_S);
  g_source_set_callback (m->file_timer, on_file_timer, m, NULL);
  g_source_attach (m->file_timer, g_task_get_context (m->task));
  gst_element_set_state (m->video.pipeline, GST_STATE_PLAYING);
  return TRUE;
}

/* The element AUDIO needs, and its Debian package. voaacenc (plugins-bad)
 * is there wherever x265enc is; libav's AAC encoder is the fallback. */
static const char *
audio_element (const char *audio, const char **package)
{
  if (g_str_equal (audio, "aac")) {
    g_autoptr (GstElementFactory) vo = gst_element_factory_find ("voaacenc");
    *package = "gstreamer1.0-libav";
    return vo ? "voaacenc" : "avenc_aac";
  }
  if (g_str_equal (audio, "opus")) {
    *package = "gstreamer1.0-plugins-base";
    return "opusenc";
  }
  *package = "gstreamer1.0-plugins-good";
  return g_str_equal (audio, "pcmu") ? "mulawenc" : "alawenc";
}

/* The tone's frequency: its period, 48 samples at 48 kHz and 8 at 8 kHz,
 * must divide the loop for the loop to join without a click. */
#define TONE_HZ 1000

/* Audio frames encoded before and after the loop's: an AAC or Opus
 * encoder's first frames are its priming (silence, or a short first
 * packet), which replayed at every loop point was a 15-20 ms drop-out. The
 * loop is cut from the steady middle of a longer run of the same periodic
 * tone, so its last frame leads into its first as into the next. Opus
 * settles for longer than its priming: a lead of 4 frames still left a
 * 20 ms dip at each loop point, half a second none. */
#define AUDIO_LEAD_FRAMES 25

/* The loop, in whole audio frames: as near the video's LENGTH as the
 * tone's period allows (a 2 s clip: 93 AAC frames, 1.984 s; the tracks
 * loop each on its own timeline). Sets the make's audio fields. */
static void
audio_plan (Make *m, GstClockTime length)
{
  gboolean pcm =
      !g_str_equal (m->audio, "aac") && !g_str_equal (m->audio, "opus");
  guint period;
  guint64 n;

  m->audio_rate = pcm ? 8000 : 48000;
  /* 20 ms, the usual G.711 and Opus packet; AAC's frame is 1024. */
  m->audio_spb = pcm ? 160 : g_str_equal (m->audio, "opus") ? 960 : 1024;
  period = m->audio_rate / TONE_HZ;
  n = MAX (gst_util_uint64_scale_round (length, m->audio_rate,
               (guint64) GST_SECOND * m->audio_spb),
      1);
  while (n > 1 && (n * m->audio_spb) % period)
    n--;
  while ((n * m->audio_spb) % period)
    n++;
  m->audio_frames = (guint) n;
  m->audio_lead = pcm ? 0 : AUDIO_LEAD_FRAMES;
}

/* A test tone: the loop's frames, with the lead before and after them. */
static char *
audio_desc (Make *m, GstClockTime length)
{
  const char *package;
  const char *element = audio_element (m->audio, &package);
  g_autofree char *enc = NULL;

  audio_plan (m, length);
  if (g_str_equal (m->audio, "aac"))
    enc = g_strdup_printf ("%s bitrate=64000 "
                           "! audio/mpeg,mpegversion=4,stream-format=raw",
        element);
  else if (g_str_equal (m->audio, "opus"))
    enc = g_strdup ("opusenc bitrate=32000 frame-size=20");
  else
    enc = g_strdup (element);
  return g_strdup_printf (
      "audiotestsrc wave=sine freq=%u volume=0.2 samplesperbuffer=%u "
      "num-buffers=%u "
      "! audio/x-raw,format=S16LE,rate=%u,channels=1,layout=interleaved "
      "! %s ! appsink name=sink sync=false",
      TONE_HZ, m->audio_spb, m->audio_frames + 2 * m->audio_lead, m->audio_rate,
      enc);
}

/* The loop's frames out of the encoded run: from the first whose time is
 * the lead's end, AUDIO_FRAMES of them, each stamped as one frame after
 * the other (Opus's first packet is short, and its length had been taken
 * for the frame's). FALSE when the encoder made too few. */
static gboolean
cut_audio_loop (Make *m, Job *job)
{
  GPtrArray *in = job->buffers;
  GstClockTime lead =
      gst_util_uint64_scale ((guint64) m->audio_lead * m->audio_spb, GST_SECOND,
          m->audio_rate);
  guint first = 0;
  g_autoptr (GPtrArray) out = NULL;

  if (m->audio_lead == 0)
    return TRUE;
  while (first < in->len
      && (!GST_BUFFER_PTS_IS_VALID ((GstBuffer *) in->pdata[first])
          || GST_BUFFER_PTS ((GstBuffer *) in->pdata[first]) + GST_MSECOND
              < lead))
    first++;
  if (first + m->audio_frames > in->len)
    return FALSE;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  for (guint i = 0; i < m->audio_frames; i++) {
    GstBuffer *buf =
        gst_buffer_make_writable (gst_buffer_ref (in->pdata[first + i]));
    GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) =
        gst_util_uint64_scale ((guint64) i * m->audio_spb, GST_SECOND,
            m->audio_rate);
    GST_BUFFER_DURATION (buf) =
        gst_util_uint64_scale (m->audio_spb, GST_SECOND, m->audio_rate);
    g_ptr_array_add (out, buf);
  }
  g_mutex_lock (&job->lock);
  g_ptr_array_unref (job->buffers);
  job->buffers = g_steal_pointer (&out);
  g_mutex_unlock (&job->lock);
  return TRUE;
}

static gboolean
start_audio (Make *m, GstClockTime length)
{
  const char *package;
  const char *element = audio_element (m->audio, &package);
  g_autofree char *desc = NULL;

  if (!have_element (m, element, package))
    return FALSE;
  desc = audio_desc (m, length);
  m->audio_job.pipeline = launch (m, desc);
  return m->audio_job.pipeline && job_start (m, &m->audio_job);
}

/* ------------------------------------------------------------------------ */
/* Checking and storing what the encoders made. */

/* In the Annex B byte stream DATA, the offset of the header byte of the
 * first NAL unit whose start code (00 00 01) begins at FROM or after; SIZE
 * if there is none. The next one's search begins at that offset. */
static gsize
next_nal (const guint8 *data, gsize size, gsize from)
{
  for (gsize i = from; i + 3 < size; i++)
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1)
      return i + 3;
  return size;
}

/* Sets SEEN[type] for each NAL unit type in the Annex B byte stream DATA. */
static void
nal_types (const guint8 *data, gsize size, gboolean h265, guint *seen)
{
  for (gsize h = next_nal (data, size, 0); h < size;
       h = next_nal (data, size, h + 1))
    seen[h265 ? (data[h] >> 1) & 0x3f : data[h] & 0x1f] = 1;
}

/* A keyframe must be an IDR/IRAP picture with its parameter sets, so a
 * reader can start there; returns whether BUF is one, and checks that no
 * IDR/IRAP comes without them. */
static gboolean
check_au (GstBuffer *buf, const char *codec, gboolean *bad)
{
  GstMapInfo map;
  guint seen[64] = { 0 };
  gboolean h265 = g_str_equal (codec, "h265");
  gboolean key, params;

  if (g_str_equal (codec, "mjpeg"))
    return TRUE;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    *bad = TRUE;
    return FALSE;
  }
  nal_types (map.data, map.size, h265, seen);
  gst_buffer_unmap (buf, &map);
  if (h265) {
    key = FALSE;
    for (guint t = 16; t <= 21; t++)
      key = key || seen[t];
    params = seen[32] && seen[33] && seen[34];
  } else {
    key = seen[5];
    params = seen[7] && seen[8];
  }
  if (key && !params)
    *bad = TRUE;
  return key;
}

static int
cmp_time (const void *a, const void *b)
{
  GstClockTime x = *(const GstClockTime *) a, y = *(const GstClockTime *) b;
  return (x > y) - (x < y);
}

/* Decode times for buffers FIRST.. of IN, which come without (an MKV's
 * video: Matroska stores presentation times only) or whose own have a
 * hole (FORCE), or NULL when they have them. With B-frames the
 * presentation times in decode order go back and forth: taken as decode
 * times, the loop's length came from a B-frame's
 * (a frame short: "non monotonically increasing dts" at every loop point)
 * and frames were sent in bursts. The Kth decode time is the Kth smallest
 * presentation time; *DELAY is what every presentation time must then be
 * moved by to come no earlier than its frame's decode time. */
static GstClockTime *
decode_times (GPtrArray *in, guint first, gboolean force, GstClockTime *delay)
{
  guint n = in->len - first;
  gboolean missing = FALSE;
  GstClockTime *dts;

  *delay = 0;
  for (guint i = first; i < in->len; i++) {
    GstBuffer *buf = in->pdata[i];
    if (!GST_BUFFER_PTS_IS_VALID (buf))
      return NULL;
    missing |= !GST_BUFFER_DTS_IS_VALID (buf);
  }
  if ((!missing && !force) || n == 0)
    return NULL;
  dts = g_new (GstClockTime, n);
  for (guint k = 0; k < n; k++)
    dts[k] = GST_BUFFER_PTS ((GstBuffer *) in->pdata[first + k]);
  qsort (dts, n, sizeof *dts, cmp_time);
  for (guint k = 0; k < n; k++) {
    GstClockTime pts = GST_BUFFER_PTS ((GstBuffer *) in->pdata[first + k]);
    if (dts[k] > pts)
      *delay = MAX (*delay, dts[k] - pts);
  }
  return dts;
}

/* H.265 NAL unit types: leading pictures that need what came before
 * their IRAP (RASL), and the IRAPs a clean start can take. */
#define H265_RASL_N 8
#define H265_RASL_R 9
#define H265_BLA_W_RADL 17
#define H265_CRA 21
#define H265_IRAP_FIRST 16
#define H265_IRAP_LAST 23
#define H265_VPS 32

/* Rewrites every NAL unit of type FROM in BUF (writable) to type TO. */
static void
retype_nals (GstBuffer *buf, guint from, guint to)
{
  GstMapInfo map;

  if (!gst_buffer_map (buf, &map, GST_MAP_READWRITE))
    return;
  for (gsize h = next_nal (map.data, map.size, 0); h < map.size;
       h = next_nal (map.data, map.size, h + 1)) {
    guint8 *b = &map.data[h];
    if (((*b >> 1) & 0x3f) == from)
      *b = (guint8) ((*b & 0x81) | (to << 1));
  }
  gst_buffer_unmap (buf, &map);
}

static gboolean
au_has (GstBuffer *buf, gboolean h265, guint type1, guint type2)
{
  GstMapInfo map;
  guint seen[64] = { 0 };

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return FALSE;
  nal_types (map.data, map.size, h265, seen);
  gst_buffer_unmap (buf, &map);
  return seen[type1] || seen[type2];
}

/* An H.265 file that starts on a CRA picture (a cut of an open-GOP
 * stream, x265's default) loops only if its first picture is made a BLA
 * and the leading pictures that need what came before it (RASL) go: a
 * CRA does not restart picture order counts, and at every loop point
 * decoders met "Duplicate POC" and undecodable pictures. The two have
 * the same slice header syntax; a BLA_W_RADL may be followed by the
 * leading pictures that need nothing before it (RADL), which stay. IN's
 * buffers from FIRST on, so made (the first a copy); *FROM_CRA says
 * whether it was one, *DROPPED how many went. */
static GPtrArray *
clean_start (GPtrArray *in, guint first, const char *codec, gboolean *from_cra,
    guint *dropped)
{
  GPtrArray *use =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  gboolean cra = g_str_equal (codec, "h265")
      && au_has (in->pdata[first], TRUE, H265_CRA, H265_CRA);
  gboolean bad = FALSE;

  *from_cra = cra;
  *dropped = 0;
  for (guint i = first; i < in->len; i++) {
    GstBuffer *buf = in->pdata[i];
    if (cra && i == first) {
      buf = gst_buffer_copy_deep (buf);
      retype_nals (buf, H265_CRA, H265_BLA_W_RADL);
      g_ptr_array_add (use, buf);
      continue;
    }
    /* The first CRA's leading pictures come before the next IRAP. */
    if (cra && check_au (buf, codec, &bad))
      cra = FALSE;
    if (cra && au_has (buf, TRUE, H265_RASL_N, H265_RASL_R)) {
      (*dropped)++;
      continue;
    }
    g_ptr_array_add (use, gst_buffer_ref (buf));
  }
  return use;
}

/* GStreamer 1.22's x265enc puts the stream's headers in front of the first
 * picture's own: parameter sets and info SEIs, the last of them with bytes
 * of uninitialised memory after its text, start codes among them. Sent at
 * every loop point (to every reader, and kept in the clip cache), they
 * made ffmpeg log "Illegal temporal ID" or "Overread SPS" and GStreamer's
 * h265parse "couldn't find associated sequence parameter set" each time.
 * Returns BUF from the VPS right before its IRAP picture on, if another
 * VPS came before that one, else NULL (BUF is clean). */
static GstBuffer *
h265_drop_stray_headers (GstBuffer *buf)
{
  GstMapInfo map;
  gssize first_vps = -1, vps = -1, cut = -1;
  gsize size;
  GstBuffer *clean;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return NULL;
  size = map.size;
  for (gsize h = next_nal (map.data, map.size, 0); h < map.size;
       h = next_nal (map.data, map.size, h + 1)) {
    guint type = (map.data[h] >> 1) & 0x3f;
    /* Where its start code begins, with a fourth byte (00 00 00 01). */
    gssize at = h > 3 && map.data[h - 4] == 0 ? (gssize) h - 4 : (gssize) h - 3;
    if (type == H265_VPS) {
      vps = at;
      if (first_vps < 0)
        first_vps = at;
    } else if (type >= H265_IRAP_FIRST && type <= H265_IRAP_LAST && vps >= 0) {
      cut = vps;
    }
  }
  gst_buffer_unmap (buf, &map);
  if (cut <= first_vps)
    return NULL;
  clean = gst_buffer_copy_region (buf, GST_BUFFER_COPY_ALL, (gsize) cut,
      size - (gsize) cut);
  /* A region from past the start gets no timestamps of its own. */
  GST_BUFFER_PTS (clean) = GST_BUFFER_PTS (buf);
  GST_BUFFER_DTS (clean) = GST_BUFFER_DTS (buf);
  GST_BUFFER_DURATION (clean) = GST_BUFFER_DURATION (buf);
  return clean;
}

/* Makes JOB's buffers into TRACK: drops what comes before the first
 * keyframe, makes timestamps offsets from the start, fills in durations.
 * DEFAULT_DURATION is used where a buffer has none. */
static gboolean
store_track (Make *m, Job *job, Track *track, const char *codec,
    GstClockTime default_duration)
{
  GPtrArray *in = job->buffers;
  GstClockTime origin = GST_CLOCK_TIME_NONE;
  g_autofree GstClockTime *made_dts = NULL;
  g_autoptr (GPtrArray) use = NULL;
  GstClockTime delay = 0;
  guint first = 0;
  gboolean bad = FALSE;
  const char *name = m->file ? m->file : codec;

  if (codec) {
    while (first < in->len && !check_au (in->pdata[first], codec, &bad))
      first++;
    if (first == in->len) {
      /* Players may call a recovery point a keyframe; a reader can start
       * cleanly only at an IDR (H.265: an IRAP picture). */
      make_fail (m, RTS_CLIP_ERROR_BITSTREAM,
          "%s: no keyframe in the %s (%s)%s", name, m->file ? "file" : "clip",
          g_str_equal (codec, "h265") ? "no IDR, CRA or BLA picture"
                                      : "no IDR frame",
          m->file ? ": an open-GOP cut (its I-frames recovery points) has "
                    "none; cut it at an IDR frame or re-encode it with "
                    "closed GOPs"
                  : "");
      return FALSE;
    }
  }
  track->frames =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  if (codec) {
    gboolean from_cra = FALSE;
    guint dropped = 0;

    use = clean_start (in, first, codec, &from_cra, &dropped);
    if (g_str_equal (codec, "h265") && use->len) {
      GstBuffer *clean = h265_drop_stray_headers (use->pdata[0]);
      if (clean) {
        gst_buffer_unref (use->pdata[0]);
        use->pdata[0] = clean;
      }
    }
    if (from_cra)
      m->file_start = g_strdup_printf ("the file starts on a CRA picture "
                                       "(an open-GOP cut): served from it "
                                       "as a BLA, %u leading picture(s) "
                                       "that need what came before it "
                                       "left out",
          dropped);
    /* Leading pictures left out, by this or by the demuxer (an MP4's edit
     * list), leave a hole in the decode times that the loop would keep:
     * they are made anew from the presentation times. */
    made_dts = decode_times (use, 0, from_cra, &delay);
  } else {
    use = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
    for (guint i = first; i < in->len; i++)
      g_ptr_array_add (use, gst_buffer_ref (in->pdata[i]));
  }
  for (guint i = 0; i < use->len; i++) {
    GstBuffer *buf = gst_buffer_make_writable (gst_buffer_ref (use->pdata[i]));
    GstClockTime dts = made_dts ? made_dts[i] : GST_BUFFER_DTS_OR_PTS (buf);
    GstClockTime pts = GST_BUFFER_PTS (buf);

    if (made_dts)
      pts += delay;

    /* Marked, so a player can find the next keyframe at once. */
    if (codec) {
      if (i == 0 || check_au (buf, codec, &bad))
        GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
      else
        GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
    }
    if (!GST_CLOCK_TIME_IS_VALID (origin))
      origin = GST_CLOCK_TIME_IS_VALID (dts) ? dts : 0;
    /* A buffer without timestamps follows its predecessor. */
    if (!GST_CLOCK_TIME_IS_VALID (dts) || dts < origin) {
      GstBuffer *prev = track->frames->len
          ? g_ptr_array_index (track->frames, track->frames->len - 1)
          : NULL;
      dts = prev ? origin + GST_BUFFER_DTS (prev) + GST_BUFFER_DURATION (prev)
                 : origin;
    }
    if (!GST_CLOCK_TIME_IS_VALID (pts) || pts < dts)
      pts = dts;
    GST_BUFFER_DTS (buf) = dts - origin;
    GST_BUFFER_PTS (buf) = pts - origin;
    if (!GST_BUFFER_DURATION_IS_VALID (buf))
      GST_BUFFER_DURATION (buf) = default_duration;
    /* The loop point is no discontinuity: nothing downstream may resync. */
    GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_DISCONT);
    g_ptr_array_add (track->frames, buf);
  }
  if (bad) {
    make_fail (m, RTS_CLIP_ERROR_BITSTREAM,
        "%s: a keyframe without its parameter sets (SPS/PPS) in-band", name);
    return FALSE;
  }
  {
    GstBuffer *last = g_ptr_array_index (track->frames, track->frames->len - 1);
    GstClockTime first_pts = GST_CLOCK_TIME_NONE, end_pts = 0;

    /* A loop lasts until its last frame is decoded and until its last
     * picture is shown: with B-frames and a variable rate (durations in
     * decode order) the first came short of the second, and the next
     * loop's first pictures came before this one's last (ffmpeg: "pts
     * went back 0.1 s"; GStreamer: "decreasing timestamp"). */
    for (guint i = 0; i < track->frames->len; i++) {
      GstBuffer *f = track->frames->pdata[i];
      first_pts = MIN (first_pts, GST_BUFFER_PTS (f));
      end_pts = MAX (end_pts, GST_BUFFER_PTS (f) + GST_BUFFER_DURATION (f));
    }
    track->length = MAX (GST_BUFFER_DTS (last) + GST_BUFFER_DURATION (last),
        end_pts - first_pts);
  }
  track->caps = gst_caps_ref (job->caps);
  return TRUE;
}

/* The payloaders take complete access units from the appsrc, parameter
 * sets already in-band: no parser is needed. */
static void
set_chains (RtsClip *clip, const char *codec, const char *audio)
{
  if (g_str_equal (codec, "h264"))
    clip->video.chain = g_strdup ("rtph264pay name=pay0 pt=96");
  else if (g_str_equal (codec, "h265"))
    clip->video.chain = g_strdup ("rtph265pay name=pay0 pt=96");
  else
    clip->video.chain = g_strdup ("rtpjpegpay name=pay0 pt=26");
  if (!audio)
    return;
  if (g_str_equal (audio, "aac"))
    clip->audio.chain = g_strdup ("rtpmp4gpay name=pay1 pt=97");
  else if (g_str_equal (audio, "opus"))
    clip->audio.chain = g_strdup ("rtpopuspay name=pay1 pt=97");
  else if (g_str_equal (audio, "pcmu"))
    clip->audio.chain = g_strdup ("rtppcmupay name=pay1 pt=0");
  else
    clip->audio.chain = g_strdup ("rtppcmapay name=pay1 pt=8");
}

/* ------------------------------------------------------------------------ */
/* The cache: file I/O on a worker thread (GTask's pool), results back on
 * the make's context. Each I/O task holds the make's task as its source
 * object, so the make outlives it even when cancelled meanwhile. */

typedef struct {
  char *path, *key;
  RtsClip *clip; /* writing: what to write */
} CacheIo;

static void
cache_io_free (gpointer data)
{
  CacheIo *io = data;

  g_free (io->path);
  g_free (io->key);
  rts_clip_unref (io->clip);
  g_free (io);
}

static void
cache_io (Make *m, RtsClip *clip, GTaskThreadFunc fn, GAsyncReadyCallback cb)
{
  g_autoptr (GTask) t = g_task_new (m->task, NULL, cb, NULL);
  CacheIo *io = g_new0 (CacheIo, 1);

  io->path = g_strdup (m->cache_file);
  io->key = g_strdup (m->cache_key);
  io->clip = clip ? rts_clip_ref (clip) : NULL;
  g_task_set_task_data (t, io, cache_io_free);
  g_task_run_in_thread (t, fn);
}

static void
write_in_thread (GTask *t, gpointer source, gpointer data, GCancellable *c)
{
  CacheIo *io = data;
  GError *error = NULL;

  if (rts_clip_cache_write (io->clip, io->path, io->key, &error))
    g_task_return_boolean (t, TRUE);
  else
    g_task_return_error (t, error);
}

/* A cache that cannot be written costs the next start an encode, nothing
 * more: the clip is returned all the same, the problem said. */
static void
on_cache_written (GObject *source, GAsyncResult *res, gpointer data)
{
  Make *m = g_task_get_task_data (G_TASK (source));
  CacheIo *io = g_task_get_task_data (G_TASK (res));
  g_autoptr (GError) error = NULL;

  if (g_task_propagate_boolean (G_TASK (res), &error)) {
    io->clip->saved = TRUE;
  } else {
    char *problem = g_strdup_printf ("%s%sclip not saved to the cache: %s",
        m->cache_problem ? m->cache_problem : "", m->cache_problem ? "; " : "",
        error->message);
    g_free (m->cache_problem);
    m->cache_problem = problem;
  }
  make_return (m, rts_clip_ref (io->clip), NULL);
}

/* Returns CLIP (taken) once it is in the cache. */
static void
cache_write_start (Make *m, RtsClip *clip)
{
  cache_io (m, clip, write_in_thread, on_cache_written);
  rts_clip_unref (clip);
}

static void
read_in_thread (GTask *t, gpointer source, gpointer data, GCancellable *c)
{
  CacheIo *io = data;
  GError *error = NULL;
  RtsClip *clip = rts_clip_cache_read (io->path, io->key, &error);

  if (clip)
    g_task_return_pointer (t, clip, (GDestroyNotify) rts_clip_unref);
  else
    g_task_return_error (t, error);
}

static void start_encoding (Make *m);

/* A cache file that is missing is the first start; one that cannot be
 * used is said, and the clip encoded as if there were none. */
static void
on_cache_read (GObject *source, GAsyncResult *res, gpointer data)
{
  Make *m = g_task_get_task_data (G_TASK (source));
  g_autoptr (GError) error = NULL;
  RtsClip *clip = g_task_propagate_pointer (G_TASK (res), &error);

  if (m->done) {
    rts_clip_unref (clip);
    return;
  }
  if (clip) {
    set_chains (clip, m->codec, m->audio);
    clip->from_cache = TRUE;
    make_return (m, clip, NULL);
    return;
  }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    m->cache_problem =
        g_strdup_printf ("clip cache file not used, encoding instead: %s",
            error->message);
  start_encoding (m);
}

/* Bumped when what store_track() keeps of the same encoders' output
 * changes, so that clips cached before are made again: 2, x265's stray
 * headers left out (h265_drop_stray_headers). */
#define CLIP_MADE 2

/* Everything that shapes the clip's bytes: the launch lines (size, rate,
 * GOP, encoder and its settings, audio), what is set beside them, and the
 * GStreamer that runs them. A change to any makes another file. */
static char *
cache_key (Make *m)
{
  g_autofree char *video = video_desc (m);
  g_autofree char *audio = m->audio
      ? audio_desc (m, gst_util_uint64_scale (m->frames, GST_SECOND, m->fps))
      : g_strdup ("none");
  g_autofree char *text = g_strescape (m->text ? m->text : "", NULL);
  g_autofree char *gst = gst_version_string ();
  g_autofree char *all = g_strdup_printf ("rtsp-test-server clip, cache "
                                          "format %d, made %d\n%s\nvideo: %s\n"
                                          "pattern: %s\ntext: %s\naudio: %s\n",
      RTS_CLIP_CACHE_FORMAT, CLIP_MADE, gst, video, m->pattern, text, audio);

  return rts_clip_cache_key (all);
}

/* The cache file's name says what it holds, for whoever lists the
 * directory; the key makes it unique. */
static void
cache_setup (Make *m, const char *dir)
{
  m->cache_key = cache_key (m);
  m->cache_file = g_strdup_printf ("%s/%s-%ux%u-%ufps-%.16s.clip", dir,
      m->codec, m->width, m->height, m->fps, m->cache_key);
}

static void
finish_if_done (Make *m)
{
  RtsClip *clip;
  GstStructure *s;
  const char *codec = m->codec;
  gint num = 0, den = 1;

  if (m->done || !m->video.finished || (m->audio && !m->audio_job.finished))
    return;
  clip = g_new0 (RtsClip, 1);
  clip->ref = 1;
  s = gst_caps_get_structure (m->video.caps, 0);
  if (m->file)
    codec = gst_structure_has_name (s, "video/x-h265") ? "h265" : "h264";
  if (!gst_structure_get_fraction (s, "framerate", &num, &den) || num <= 0)
    num = m->fps ? m->fps : 30, den = 1;
  if (!store_track (m, &m->video, &clip->video, codec,
          gst_util_uint64_scale (GST_SECOND, den, num))) {
    rts_clip_unref (clip);
    return;
  }
  {
    /* Frame durations are rounded to the nanosecond; a loop length that
     * is off by one would drift against the frame rate. */
    GstClockTime exact =
        gst_util_uint64_scale (clip->video.frames->len, GST_SECOND * den, num);
    if (clip->video.length + GST_MSECOND > exact
        && clip->video.length < exact + GST_MSECOND)
      clip->video.length = exact;
  }
  if (m->audio && !cut_audio_loop (m, &m->audio_job)) {
    make_fail (m, RTS_CLIP_ERROR_ENCODE,
        "%s: the audio encoder made %u frames, fewer than the loop's %u "
        "after its lead of %u",
        m->audio, m->audio_job.buffers->len, m->audio_frames, m->audio_lead);
    rts_clip_unref (clip);
    return;
  }
  if (m->audio && !store_track (m, &m->audio_job, &clip->audio, NULL, 0)) {
    rts_clip_unref (clip);
    return;
  }
  /* Whole samples, not the sum of durations rounded to the nanosecond:
   * a loop's worth of RTP ticks stays exact however many loops go by. */
  if (m->audio && m->audio_lead)
    clip->audio.length =
        gst_util_uint64_scale ((guint64) m->audio_frames * m->audio_spb,
            GST_SECOND, m->audio_rate);
  set_chains (clip, codec, m->audio);
  if (m->cache_key)
    cache_write_start (m, clip);
  else
    make_return (m, clip, NULL);
}

static void
job_finished (Make *m, Job *job)
{
  job_stop (job);
  job->finished = TRUE;
  if (job->buffers->len == 0 || !job->caps) {
    if (m->file && job == &m->video)
      make_fail (m, RTS_CLIP_ERROR_FILE, "%s: %s", m->file,
          job->problem ? job->problem
                       : "no video frames (a file camera loops an MP4 or "
                         "MKV's H.264 or H.265 video)");
    else
      make_fail (m, RTS_CLIP_ERROR_ENCODE, "%s: the %s encoder made nothing",
          m->codec, job->what);
    return;
  }
  /* A file's length is known only now, and the tone must match it. */
  if (job == &m->video && m->file && m->audio) {
    GstBuffer *first = g_ptr_array_index (job->buffers, 0);
    GstBuffer *last = g_ptr_array_index (job->buffers, job->buffers->len - 1);
    GstClockTime length = GST_BUFFER_PTS (last) - GST_BUFFER_PTS (first)
        + (GST_BUFFER_DURATION_IS_VALID (last) ? GST_BUFFER_DURATION (last)
                                               : GST_SECOND / 30);
    if (!start_audio (m, length))
      return;
  }
  finish_if_done (m);
}

/* Bus messages of one job, on the caller's main context. */
static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  Job *job = data;
  Make *m = job->make;
  /* Returning from a source of its context completes the task at once,
   * which may free M: keep it until this handler is done with it. */
  G_GNUC_UNUSED g_autoptr (GTask) hold = g_object_ref (m->task);
  const char *name = m->file ? m->file : m->codec;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      g_clear_pointer (&job->watch, g_source_unref);
      job_finished (m, job);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) error = NULL;
      g_autofree char *debug = NULL;
      gst_message_parse_error (msg, &error, &debug);
      g_clear_pointer (&job->watch, g_source_unref);
      if (m->file && job == &m->video && job->problem)
        make_fail (m, RTS_CLIP_ERROR_FILE, "%s: %s", m->file, job->problem);
      else if (m->file && job == &m->video)
        make_fail (m, RTS_CLIP_ERROR_FILE,
            "%s: cannot be read as an MP4 or MKV: %s", m->file, error->message);
      else
        make_fail (m, RTS_CLIP_ERROR_ENCODE, "%s %s: %s (%s)", name, job->what,
            error->message, GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)));
      return G_SOURCE_REMOVE;
    }
    case GST_MESSAGE_APPLICATION:
      if (gst_message_has_name (msg, "rts-clip-no-video")) {
        g_clear_pointer (&job->watch, g_source_unref);
        make_fail (m, RTS_CLIP_ERROR_FILE, "%s: %s", m->file,
            job->problem ? job->problem : "no video track");
        return G_SOURCE_REMOVE;
      }
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_cancelled (GCancellable *c, gpointer data)
{
  Make *m = data;
  G_GNUC_UNUSED g_autoptr (GTask) hold = g_object_ref (m->task);

  g_clear_pointer (&m->cancel_source, g_source_unref);
  make_return (m, NULL,
      g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
          "clip making cancelled"));
  return G_SOURCE_REMOVE;
}

static gboolean
one_of (const char *value, const char *const *allowed)
{
  return value && g_strv_contains (allowed, value);
}

/* M for SPEC, its defaults filled in; no task yet. */
static Make *
make_new (const RtsClipSpec *spec)
{
  Make *m = g_new0 (Make, 1);

  m->started = g_get_monotonic_time ();
  m->codec = g_strdup (spec->codec ? spec->codec : "h264");
  m->profile = g_strdup (spec->profile ? spec->profile : "baseline");
  m->pattern = g_strdup (spec->pattern ? spec->pattern : "smpte");
  m->text = spec->text && *spec->text ? g_strdup (spec->text) : NULL;
  m->audio = spec->audio && !g_str_equal (spec->audio, "none")
      ? g_strdup (spec->audio)
      : NULL;
  m->file = g_strdup (spec->file);
  m->width = spec->width;
  m->height = spec->height;
  m->fps = spec->fps;
  m->gop = spec->gop ? spec->gop : spec->fps;
  m->bitrate = spec->bitrate ? spec->bitrate : 1000;
  m->video.make = m->audio_job.make = m;
  m->video.what = "video";
  m->audio_job.what = "audio";
  g_mutex_init (&m->video.lock);
  g_mutex_init (&m->audio_job.lock);
  m->video.buffers =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  m->audio_job.buffers =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  return m;
}

/* Checks SPEC as M took it; once it passes, M's frame count is set. NULL,
 * or what is wrong. */
static GError *
make_check (Make *m, const RtsClipSpec *spec)
{
  static const char *const codecs[] = { "h264", "h265", "mjpeg", NULL };
  static const char *const profiles[] = { "baseline", "main", "high", NULL };
  static const char *const audios[] = { "none", "aac", "opus", "pcmu", "pcma",
    NULL };
  guint frames;

  if (!one_of (m->codec, codecs))
    return g_error_new (RTS_CLIP_ERROR, RTS_CLIP_ERROR_INVALID,
        "unknown codec \"%s\" (h264, h265 or mjpeg)", m->codec);
  if (!one_of (m->profile, profiles)
      || (spec->profile && !g_str_equal (m->codec, "h264")))
    return g_error_new (RTS_CLIP_ERROR, RTS_CLIP_ERROR_INVALID,
        "profile \"%s\": only h264 has profiles (baseline, main or high)",
        m->profile);
  if (spec->audio && !one_of (spec->audio, audios))
    return g_error_new (RTS_CLIP_ERROR, RTS_CLIP_ERROR_INVALID,
        "unknown audio \"%s\" (none, aac, opus, pcmu or pcma)", spec->audio);
  if (!m->file
      && (m->width < 16 || m->height < 16 || m->width > 8192 || m->height > 8192
          || m->fps < 1 || m->fps > 240))
    return g_error_new (RTS_CLIP_ERROR, RTS_CLIP_ERROR_INVALID,
        "bad picture %ux%u@%u", m->width, m->height, m->fps);
  if (!m->file && g_str_equal (m->codec, "mjpeg")
      && (m->width > 2040 || m->height > 2040))
    /* RTP/JPEG (RFC 2435) counts in 8-pixel blocks, in one byte. */
    return g_error_new (RTS_CLIP_ERROR, RTS_CLIP_ERROR_INVALID,
        "mjpeg over RTP is at most 2040x2040, not %ux%u", m->width, m->height);
  if (m->file)
    return NULL;
  if (g_str_equal (m->codec, "mjpeg"))
    m->gop = 1; /* every JPEG is a keyframe */
  /* Whole GOPs, so the loop point is a keyframe. */
  frames = (guint) ceil (spec->seconds * m->fps / m->gop - 1e-9);
  m->frames = MAX (frames, 1) * m->gop;
  return NULL;
}

static void
start_encoding (Make *m)
{
  if (start_test_pattern (m) && m->audio)
    start_audio (m, gst_util_uint64_scale (m->frames, GST_SECOND, m->fps));
}

void
rts_clip_make_async (const RtsClipSpec *spec, GCancellable *cancellable,
    GAsyncReadyCallback cb, gpointer data)
{
  Make *m = make_new (spec);
  GError *error;

  g_autoptr (GTask) hold = NULL;

  m->task = g_task_new (NULL, cancellable, cb, data);
  hold = g_object_ref (m->task);
  g_task_set_source_tag (m->task, rts_clip_make_async);
  g_task_set_task_data (m->task, m, (GDestroyNotify) make_free);
  error = make_check (m, spec);
  if (error) {
    make_return (m, NULL, error);
    return;
  }

  if (cancellable) {
    m->cancel_source = g_cancellable_source_new (cancellable);
    g_source_set_callback (m->cancel_source, G_SOURCE_FUNC (on_cancelled), m,
        NULL);
    g_source_attach (m->cancel_source, g_task_get_context (m->task));
  }

  if (m->file) {
    start_file (m);
    return;
  }
  if (spec->cache_dir && spec->cache_dir[0]) {
    cache_setup (m, spec->cache_dir);
    cache_io (m, NULL, read_in_thread, on_cache_read);
    return;
  }
  start_encoding (m);
}

char *
rts_clip_cache_file (const RtsClipSpec *spec)
{
  Make *m = make_new (spec);
  GError *error = make_check (m, spec);
  char *file = NULL;

  if (!error && !m->file && spec->cache_dir && spec->cache_dir[0]) {
    cache_setup (m, spec->cache_dir);
    file = g_steal_pointer (&m->cache_file);
  }
  g_clear_error (&error);
  make_free (m);
  return file;
}

RtsClip *
rts_clip_make_finish (GAsyncResult *res, GError **error)
{
  return g_task_propagate_pointer (G_TASK (res), error);
}
