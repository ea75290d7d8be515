/* stills: see stills.h. */
#include "stills.h"

#include "log.h"
#include "proc_self.h"

#include <malloc.h>

#include <gst/app/gstappsink.h>

/* A still's frame: the preroll after a seek comes at once; this bounds a
 * pipeline that went wrong. */
#define FRAME_TIMEOUT (5 * GST_SECOND)

struct RtsStills {
  gint ref;
  gint cancelled;
  gint failed; /* the render is over and made none */
  char *name;
  char *launch;
  guint n;
  guint step; /* frames */
  guint fps;
  GMutex lock;
  GPtrArray *jpegs; /* GBytes, in order; under LOCK */
};

/* The workers and what they have to do; the counters under LOCK. */
static struct {
  GMutex lock;
  GCond idle;
  GThreadPool *pool;
  guint pending;     /* jobs queued or running */
  guint done;        /* cameras rendered since the last trim */
  gint64 first_us;   /* when the first of them was asked for */
  gboolean trim_due; /* rts_stills_trim_when_done() was called */
} W;

static void
stills_unref (RtsStills *s)
{
  if (!g_atomic_int_dec_and_test (&s->ref))
    return;
  g_ptr_array_unref (s->jpegs);
  g_mutex_clear (&s->lock);
  g_free (s->name);
  g_free (s->launch);
  g_free (s);
}

/* Frame F of the picture: videotestsrc counts frames from the time sought
 * to, rounded down, so the time is rounded up. */
static GstClockTime
frame_time (const RtsStills *s, guint64 f)
{
  return gst_util_uint64_scale_ceil (f, GST_SECOND, s->fps);
}

/* FALSE when the pipeline failed (said in the log). */
/* The first error PIPELINE posted (a missing decoder, a damaged file),
 * for the log; NULL when none. */
static char *
pipeline_error (GstElement *pipeline)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_autoptr (GError) err = NULL;

  if (!msg)
    return NULL;
  gst_message_parse_error (msg, &err, NULL);
  return g_strdup (err->message);
}

static gboolean
render_all (RtsStills *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (s->launch, &error);
  g_autoptr (GstElement) sink = NULL;
  gboolean ok = TRUE;

  if (!pipeline || error) {
    rts_warn ("camera %s: no snapshots: %s", s->name,
        error ? error->message : "the stills pipeline failed");
    return FALSE;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "stills");
  if (!sink
      || gst_element_set_state (pipeline, GST_STATE_PAUSED)
          == GST_STATE_CHANGE_FAILURE) {
    g_autofree char *why = pipeline_error (pipeline);
    rts_warn ("camera %s: no snapshots: the stills pipeline would not "
              "start%s%s",
        s->name, why ? ": " : "", why ? why : "");
    gst_element_set_state (pipeline, GST_STATE_NULL);
    return FALSE;
  }
  for (guint k = 0; k < s->n && !g_atomic_int_get (&s->cancelled); k++) {
    g_autoptr (GstSample) sample = NULL;
    GstBuffer *buf;
    GstMapInfo map;

    /* The first frame is the preroll; each later one a seek away. */
    if (k > 0
        && !gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
            GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
            frame_time (s, (guint64) k * s->step))) {
      ok = FALSE;
      break;
    }
    sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink), FRAME_TIMEOUT);
    buf = sample ? gst_sample_get_buffer (sample) : NULL;
    if (!buf || !gst_buffer_map (buf, &map, GST_MAP_READ)) {
      ok = FALSE;
      break;
    }
    g_mutex_lock (&s->lock);
    g_ptr_array_add (s->jpegs, g_bytes_new (map.data, map.size));
    g_mutex_unlock (&s->lock);
    gst_buffer_unmap (buf, &map);
  }
  if (!ok) {
    g_autofree char *why = pipeline_error (pipeline);
    rts_warn ("camera %s: snapshots: %u of %u stills made (%s)", s->name,
        rts_stills_count (s), s->n,
        why ? why : "the picture could not be sought");
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return ok;
}

/* Start-up's transients, freed, returned to the system (off the main
 * loop: trimming a large heap takes a while). */
static void
trim (guint done, gint64 since)
{
  guint64 before = rts_proc_self_rss_bytes (), after;

  malloc_trim (0);
  after = rts_proc_self_rss_bytes ();
  rts_info ("snapshots: stills of %u camera(s) made in %.1f s; %.0f MiB "
            "returned to the system, %.0f MiB resident",
      done, (g_get_monotonic_time () - since) / 1e6,
      before > after ? (before - after) / 1048576.0 : 0, after / 1048576.0);
}

/* The trim's job in the pool, when no render is left to do it (a
 * GThreadPool takes no NULL). */
static gint trim_job;

/* A worker's job: a camera's stills, or the trim once start-up is over. */
static void
render (gpointer data, gpointer unused)
{
  RtsStills *s = data == &trim_job ? NULL : data;
  guint done = 0;
  gint64 since = 0;
  gboolean last;

  if (s && !g_atomic_int_get (&s->cancelled) && !render_all (s)
      && rts_stills_count (s) == 0)
    g_atomic_int_set (&s->failed, 1);
  g_mutex_lock (&W.lock);
  if (s)
    W.done++;
  /* The last job of start-up trims, before it counts as done. */
  last = W.trim_due && W.pending == 1;
  if (last) {
    done = W.done;
    since = W.first_us;
    W.done = 0;
    W.trim_due = FALSE;
  }
  g_mutex_unlock (&W.lock);
  if (last)
    trim (done, since);
  g_mutex_lock (&W.lock);
  if (--W.pending == 0)
    g_cond_broadcast (&W.idle);
  g_mutex_unlock (&W.lock);
  if (s)
    stills_unref (s);
}

RtsStills *
rts_stills_new (const char *name, const char *launch, guint n, guint step,
    guint fps)
{
  RtsStills *s = g_new0 (RtsStills, 1);

  s->ref = 2; /* the caller's and the render's */
  s->name = g_strdup (name);
  s->launch = g_strdup (launch);
  s->n = n;
  s->step = MAX (step, 1);
  s->fps = MAX (fps, 1);
  g_mutex_init (&s->lock);
  s->jpegs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_mutex_lock (&W.lock);
  if (!W.pool)
    W.pool = g_thread_pool_new (render, NULL,
        (gint) MAX (1, g_get_num_processors ()), FALSE, NULL);
  if (W.pending++ == 0 && W.done == 0)
    W.first_us = g_get_monotonic_time ();
  g_mutex_unlock (&W.lock);
  g_thread_pool_push (W.pool, s, NULL);
  return s;
}

void
rts_stills_trim_when_done (void)
{
  gboolean now;

  g_mutex_lock (&W.lock);
  W.trim_due = W.pool != NULL;
  /* Every render over already: a job of its own, not the caller's time. */
  now = W.trim_due && W.pending == 0;
  if (now)
    W.pending++;
  g_mutex_unlock (&W.lock);
  if (now)
    g_thread_pool_push (W.pool, &trim_job, NULL);
}

GBytes *
rts_stills_get (RtsStills *s, guint64 index)
{
  GBytes *jpeg = NULL;

  g_mutex_lock (&s->lock);
  /* While they are being made, or if the picture could not be sought to
   * every place: the last one made for a place not there. */
  if (s->jpegs->len)
    jpeg = g_bytes_ref (
        s->jpegs->pdata[MIN (index % s->n, (guint64) s->jpegs->len - 1)]);
  g_mutex_unlock (&s->lock);
  return jpeg;
}

gboolean
rts_stills_failed (RtsStills *s)
{
  return g_atomic_int_get (&s->failed);
}

guint
rts_stills_count (RtsStills *s)
{
  guint n;

  g_mutex_lock (&s->lock);
  n = s->jpegs->len;
  g_mutex_unlock (&s->lock);
  return n;
}

void
rts_stills_free (RtsStills *s)
{
  if (!s)
    return;
  g_atomic_int_set (&s->cancelled, 1);
  stills_unref (s);
}

void
rts_stills_wait_idle (void)
{
  g_mutex_lock (&W.lock);
  while (W.pending)
    g_cond_wait (&W.idle, &W.lock);
  g_mutex_unlock (&W.lock);
}
