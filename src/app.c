/* app: see app.h. */
#include "app.h"

#include "camera.h"
#include "faults.h"
#include "fd_limit.h"
#include "health.h"
#include "http_api.h"
#include "log.h"
#include "rtsp_servers.h"
#include "stills.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  const RtsConfig *cfg;
  GMainLoop *loop;
  GPtrArray *cameras;
  GPtrArray *servers;
  RtsHealth *health;
  RtsFaults *faults;
  RtsHttpApi *http;
  gboolean stopping;
  gint64 stop_started;
  guint drain_id;
} RtsApp;

/* Where the server probes itself: the bound address, or loopback when bound
 * to every address. */
static const char *
probe_host (const char *bind)
{
  if (g_strcmp0 (bind, "0.0.0.0") == 0)
    return "127.0.0.1";
  if (g_strcmp0 (bind, "::") == 0)
    return "::1";
  return bind;
}

static gboolean on_signal (gpointer data);

/* SIGTERM and SIGINT, blocked in every thread (rts_app_block_signals),
 * are taken here with sigwait(), not by a main-loop source: the loop may be
 * the thing that is stuck, and then only a thread keeps the promise of a
 * bounded shutdown. The first signal starts the graceful stop on the loop
 * and bounds it by the shutdown timeout; a second ends the process at
 * once. */
/* What the signal thread may touch: static, since rts_app_run can return
 * (a port taken) while the thread still waits. APP is used only while
 * RUNNING is set. */
static struct {
  RtsApp *app;
  double bound; /* seconds: shutdown timeout and a little */
  gint running; /* atomic */
} watch;

static gpointer
signal_thread (gpointer data)
{
  sigset_t set;
  int sig = 0;
  double bound = watch.bound;
  gint64 deadline;

  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  while (sigwait (&set, &sig) != 0)
    ;
  if (!g_atomic_int_get (&watch.running)) {
    rts_warn ("signal %d outside the main loop: exiting now", sig);
    _exit (0);
  }
  g_main_context_invoke (NULL, on_signal, watch.app);
  deadline = g_get_monotonic_time () + (gint64) (bound * G_USEC_PER_SEC);
  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    struct timespec wait = { (time_t) (MAX (left, 0) / G_USEC_PER_SEC),
      (long) (MAX (left, 0) % G_USEC_PER_SEC) * 1000 };
    int got = left > 0 ? sigtimedwait (&set, NULL, &wait) : -1;
    /* Interrupted is not timed out: LeakSanitizer, checking the exiting
     * process, stops this thread, and an early _exit() here ended its
     * check with status 0. */
    if (got < 0 && errno == EINTR)
      continue;
    if (got > 0)
      rts_warn ("second signal: exiting now");
    else
      rts_warn ("shutdown: still busy after %.1f s, exiting now", bound);
    break;
  }
  _exit (0);
  return NULL;
}

/* Waits, on the loop, until every reader is gone and no probe is in
 * flight (tens of milliseconds: their connections were closed already),
 * bounded by the shutdown timeout. Idle RTSP connections without a session
 * were closed too and are not waited for. */
static gboolean
drain (gpointer data)
{
  RtsApp *app = data;
  guint readers = 0, conns = 0;
  guint pending = rts_health_pending (app->health);
  double waited = (g_get_monotonic_time () - app->stop_started) / 1e6;

  for (guint i = 0; i < app->servers->len; i++)
    readers += rts_rtsp_server_readers (g_ptr_array_index (app->servers, i));
  if ((readers > 0 || pending > 0) && waited < app->cfg->shutdown_timeout)
    return G_SOURCE_CONTINUE;
  for (guint i = 0; i < app->servers->len; i++)
    conns += rts_rtsp_server_connections (g_ptr_array_index (app->servers, i));
  if (readers > 0 || pending > 0 || conns > 0)
    rts_warn ("shutdown: after %.2f s, %u reader(s), %u connection(s) and %u "
              "probe(s) still open; exiting anyway",
        waited, readers, conns, pending);
  app->drain_id = 0;
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  RtsApp *app = data;
  guint readers = 0;

  app->stopping = TRUE;
  app->stop_started = g_get_monotonic_time ();
  /* Health first, in the same turn as the ports close: no answer in
   * between can say healthy about a closed port. (A load balancer learns
   * of the stop by its own means: ECS deregisters the task before the
   * signal, Kubernetes removes the endpoint as it sends it.) */
  rts_health_set_stopping (app->health);
  for (guint i = 0; i < app->servers->len; i++) {
    RtsRtspServer *srv = g_ptr_array_index (app->servers, i);
    readers += rts_rtsp_server_readers (srv);
    rts_rtsp_server_stop (srv);
  }
  rts_info ("shutdown: signal received, closed %u RTSP ports and %u "
            "reader(s); exiting within %.1f s",
      app->servers->len, readers, app->cfg->shutdown_timeout);
  app->drain_id = g_timeout_add (10, drain, app);
  return G_SOURCE_REMOVE;
}

#define WARM_UP_TIMEOUT_S 10
/* Clips take as long as their size asks (minutes for long 4K clips on
 * two cores): what fails the start is a make that stopped, when no clip
 * took a frame for this long. */
#define CLIP_STUCK_S 60
/* How often long clip work says how far it got. */
#define CLIP_PROGRESS_LOG_S 5

/* What the clip cache did for one start. */
typedef struct {
  guint cached;   /* clips read from it */
  guint saved;    /* clips encoded and written to it */
  guint problems; /* cache files that could not be read or written */
} RtsClipCounts;

typedef struct {
  const RtsConfig *cfg;
  GPtrArray *cameras; /* RtsCamera* */
  guint pending;
  GPtrArray *clips; /* RtsClip* or NULL, per camera */
  GError *error;    /* the first failure */
  RtsClipCounts counts;
  guint total;
  GCancellable *cancel;
  gboolean stuck;    /* cancelled: no progress for CLIP_STUCK_S */
  guint64 progress0; /* rts_clip_progress at the start */
  guint64 progress;  /* at its last move */
  gint64 started_us; /* monotonic */
  gint64 moved_us;   /* when progress last moved */
  gint64 logged_us;  /* last progress line */
} ClipJobs;

typedef struct {
  ClipJobs *jobs;
  guint index;
  RtsCamera *cam; /* a file camera's codec, size and rate come from its clip */
  /* Cameras of the same file (and tone) that take this clip too: a file's
   * video is held in memory whole, and was held once per camera. */
  GArray *sharers; /* guint indexes */
} ClipJob;

/* config.c checks the stall threshold against a camera's frame interval;
 * a file's frames come as the file has them, known once it is read: a
 * threshold shorter than its longest gap would call the camera stalled
 * between two frames, and flip its readiness for good. Sets ERROR unless
 * an earlier failure did. */
static gboolean
stall_fits_file (const RtsConfig *cfg, const RtsCamera *cam, RtsClip *clip,
    GError **error)
{
  double gap = rts_clip_longest_gap (clip) / 1e9;
  gboolean fits;
  double need = rts_config_stall_need (cfg, gap, &fits);

  if (fits)
    return TRUE;
  if (!*error)
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "camera %s: stall threshold %g s (%s) is too short for its file %s: "
        "it holds frames up to %.3g s apart, and the camera is looked at "
        "every %.2g s, so it would be called stalled between frames; use at "
        "least %.2f s",
        cam->name, cfg->stall_threshold,
        rts_config_origin (cfg, &cfg->stall_threshold), cam->file, gap,
        RTS_STALL_WATCH_MS / 1000.0, need);
  return FALSE;
}

/* CAM (camera INDEX) has its CLIP (a reference given): logged, and a file
 * camera takes its file's codec, size and rate. OWNER: the camera whose
 * job made it, when CAM shares another's. */
static void
took_clip (ClipJobs *jobs, guint index, RtsCamera *cam, RtsClip *clip,
    const RtsCamera *owner)
{
  RtsClipOrigin o;

  rts_clip_get_origin (clip, &o);
  jobs->clips->pdata[index] = clip;
  if (owner) {
    rts_info ("camera %s: clip of camera %s, of the same file, shared (%u "
              "frames, %.2f s)",
        cam->name, owner->name, rts_clip_n_frames (clip),
        rts_clip_duration (clip) / 1e9);
  } else {
    if (o.cache_problem) {
      rts_warn ("camera %s: %s", cam->name, o.cache_problem);
      jobs->counts.problems++;
    }
    if (o.from_cache)
      rts_info ("camera %s: clip of %u frames (%.2f s) from cache %s in "
                "%.1f ms",
          cam->name, rts_clip_n_frames (clip), rts_clip_duration (clip) / 1e9,
          o.cache_file, o.ms);
    else
      rts_info ("camera %s: clip of %u frames (%.2f s) %s in %.0f ms%s%s",
          cam->name, rts_clip_n_frames (clip), rts_clip_duration (clip) / 1e9,
          cam->file ? "read from its file" : "encoded", o.ms,
          o.saved ? ", saved to cache " : "", o.saved ? o.cache_file : "");
    jobs->counts.cached += o.from_cache;
    jobs->counts.saved += o.saved;
  }
  if (cam->file) {
    g_autofree char *rate = NULL;
    rts_camera_take_file_video (cam, clip);
    rate = rts_rate_text (cam->fps_n, cam->fps_d);
    rts_info ("camera %s: %s is %s%s%s %ux%u@%s fps%s (the file's own: codec, "
              "size and rate settings do not apply to it)",
        cam->name, cam->file, cam->codec, cam->profile ? " " : "",
        cam->profile ? cam->profile : "", cam->width, cam->height, rate,
        cam->fps_average ? " on average" : "");
    if (!stall_fits_file (jobs->cfg, cam, clip, &jobs->error))
      g_clear_pointer (&jobs->clips->pdata[index], rts_clip_unref);
    if (cam->profile && !g_str_equal (cam->profile, "constrained-baseline")
        && !g_str_equal (cam->profile, "baseline")
        && !g_str_equal (cam->profile, "main")
        && !g_str_equal (cam->profile, "high"))
      rts_info ("camera %s: its file's video is %s %s: ffmpeg and "
                "GStreamer play it, many recorders and hardware decoders do "
                "not (they take up to H.264 High, H.265 Main)",
          cam->name, cam->codec, cam->profile);
    if (o.file_start && !owner)
      rts_info ("camera %s: %s", cam->name, o.file_start);
    if (o.file_audio && !owner)
      rts_info ("camera %s: the file's own audio (%s) is not sent; "
                "'audio' adds a test tone (%s)",
          cam->name, o.file_audio,
          g_strcmp0 (cam->audio, "none") && cam->audio ? cam->audio
                                                       : "none set");
  }
}

static void
on_clip (GObject *src, GAsyncResult *res, gpointer data)
{
  ClipJob *job = data;
  g_autoptr (GError) err = NULL;
  RtsClip *clip = rts_clip_make_finish (res, &err);

  if (clip) {
    guint n = job->sharers ? job->sharers->len : 0;
    /* Their references first: the owner's may go (a stall threshold its
     * file does not fit). */
    for (guint k = 0; k < n; k++)
      rts_clip_ref (clip);
    took_clip (job->jobs, job->index, job->cam, clip, NULL);
    for (guint k = 0; k < n; k++) {
      guint i = g_array_index (job->sharers, guint, k);
      took_clip (job->jobs, i, g_ptr_array_index (job->jobs->cameras, i), clip,
          job->cam);
    }
  } else if (!job->jobs->error) {
    /* A file the camera cannot serve is a bad setting, at the start as in
     * --check-config (exit 2: no restart mends it); a loop camera's
     * encoder failing is not. */
    gboolean bad_file = job->cam->file
        && (g_error_matches (err, RTS_CLIP_ERROR, RTS_CLIP_ERROR_FILE)
            || g_error_matches (err, RTS_CLIP_ERROR, RTS_CLIP_ERROR_BITSTREAM));
    job->jobs->error = g_error_new (bad_file ? RTS_CONFIG_ERROR : err->domain,
        bad_file ? 0 : err->code, "camera %s: %s", job->cam->name,
        err->message);
  }
  job->jobs->pending--;
  if (job->sharers)
    g_array_unref (job->sharers);
  g_free (job);
}

/* Every second while clips are made: cancels them when none moved for
 * CLIP_STUCK_S, and says how far they got every CLIP_PROGRESS_LOG_S. */
static gboolean
watch_clips (gpointer data)
{
  ClipJobs *jobs = data;
  gint64 now = g_get_monotonic_time ();
  guint64 p = rts_clip_progress ();

  if (p != jobs->progress) {
    jobs->progress = p;
    jobs->moved_us = now;
  } else if (now - jobs->moved_us >= CLIP_STUCK_S * G_USEC_PER_SEC) {
    jobs->stuck = TRUE;
    g_cancellable_cancel (jobs->cancel);
    return G_SOURCE_REMOVE;
  }
  if (now - jobs->logged_us >= CLIP_PROGRESS_LOG_S * G_USEC_PER_SEC) {
    jobs->logged_us = now;
    rts_info ("making clips: %u of %u made after %.0f s, %" G_GUINT64_FORMAT
              " frames so far",
        jobs->total - jobs->pending, jobs->total,
        (now - jobs->started_us) / 1e6, p - jobs->progress0);
  }
  return G_SOURCE_CONTINUE;
}

static const char *
audio_or_none (const char *audio)
{
  return audio ? audio : "none";
}

/* Loop and file cameras' clips (FILES_ONLY: file cameras' only), made in
 * parallel (encoding runs on GStreamer's threads, cache reads on GLib's)
 * before anything is served. Start-up waits here. COUNTS (may be NULL)
 * gets what the cache did. */
static GPtrArray *
make_clips (const RtsConfig *cfg, GPtrArray *cameras, gboolean files_only,
    RtsClipCounts *counts, GError **error)
{
  ClipJobs jobs = { .cfg = cfg, .cameras = cameras };
  g_autofree ClipJob **job_of = g_new0 (ClipJob *, cameras->len);
  g_autoptr (GPtrArray) specs = g_ptr_array_new_full (cameras->len, g_free);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autofree char *cache_dir = rts_config_clip_cache_dir (cfg);

  jobs.clips =
      g_ptr_array_new_full (cameras->len, (GDestroyNotify) rts_clip_unref);
  g_ptr_array_set_size (jobs.clips, cameras->len);
  for (guint i = 0; i < cameras->len; i++) {
    RtsCamera *cam = g_ptr_array_index (cameras, i);
    g_autofree RtsClipSpec *spec = rts_camera_clip_spec (cam);
    if (!spec || (files_only && !spec->file))
      continue;
    /* A camera of a file an earlier one reads, with the same tone, takes
     * that one's clip. */
    if (spec->file) {
      ClipJob *owner = NULL;
      for (guint j = 0; j < i && !owner; j++) {
        const RtsCamera *o = job_of[j] ? job_of[j]->cam : NULL;
        if (o && o->file && g_str_equal (o->file, spec->file)
            && g_strcmp0 (audio_or_none (o->audio), audio_or_none (cam->audio))
                == 0)
          owner = job_of[j];
      }
      if (owner) {
        if (!owner->sharers)
          owner->sharers = g_array_new (FALSE, FALSE, sizeof (guint));
        g_array_append_val (owner->sharers, i);
        continue;
      }
    }
    spec->cache_dir = cache_dir;
    ClipJob *job = g_new0 (ClipJob, 1);
    job_of[i] = job;
    job->jobs = &jobs;
    job->index = i;
    job->cam = cam;
    jobs.pending++;
    g_ptr_array_add (specs, g_steal_pointer (&spec));
  }
  /* Started once every camera knows whose clip it takes. */
  for (guint i = 0, k = 0; i < cameras->len; i++) {
    if (job_of[i])
      rts_clip_make_async (specs->pdata[k++], cancel, on_clip, job_of[i]);
  }
  if (jobs.pending)
    rts_info ("making %u clip(s) for loop and file cameras", jobs.pending);
  jobs.total = jobs.pending;
  jobs.cancel = cancel;
  jobs.progress0 = jobs.progress = rts_clip_progress ();
  jobs.started_us = jobs.moved_us = jobs.logged_us = g_get_monotonic_time ();
  guint timer = g_timeout_add_seconds (1, watch_clips, &jobs);
  while (jobs.pending)
    g_main_context_iteration (NULL, TRUE);
  if (jobs.stuck) {
    guint made = 0;
    for (guint i = 0; i < jobs.clips->len; i++)
      made += jobs.clips->pdata[i] != NULL;
    g_clear_error (&jobs.error);
    jobs.error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "clips: %u of %u made, and no frame made for %d s: an encoder or a "
        "file read is stuck",
        made, jobs.total, CLIP_STUCK_S);
  } else {
    g_source_remove (timer);
  }
  if (jobs.error) {
    g_propagate_error (error, jobs.error);
    g_ptr_array_unref (jobs.clips);
    return NULL;
  }
  if (counts)
    *counts = jobs.counts;
  return jobs.clips;
}

/* Every camera's pipeline runs and has sent its first packet before any
 * port answers, so the first reader never meets a half-started camera. Only
 * start-up waits here; nothing is served yet. */
static gboolean
warm_up (RtsApp *app, GError **error)
{
  gint64 t0;
  guint ready = 0;
  g_autoptr (GPtrArray) clips =
      make_clips (app->cfg, app->cameras, FALSE, NULL, error);
  /* RtsClip -> the RtsRtpClip made of it: cameras of one file share it. */
  g_autoptr (GHashTable) rtp_of = g_hash_table_new (NULL, NULL);

  if (!clips)
    return FALSE;
  /* The cameras' time counts from here: making the clips is logged work
   * of its own, as long as it takes (25 clips took 6.4 s under the
   * sanitizers on a busy machine, and counted in, left the pipelines 3.6
   * s: one camera missed it and the start failed). */
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < app->servers->len; i++) {
    RtsRtspServer *srv = g_ptr_array_index (app->servers, i);
    RtsClip *clip = g_ptr_array_index (clips, i);
    RtsRtpClip *shared = clip ? g_hash_table_lookup (rtp_of, clip) : NULL;

    if (!rts_rtsp_server_warm_up (srv, clip, shared, error))
      return FALSE;
    if (clip && !shared)
      g_hash_table_insert (rtp_of, clip, rts_rtsp_server_rtp_clip (srv));
  }
  while (ready < app->servers->len) {
    ready = 0;
    for (guint i = 0; i < app->servers->len; i++)
      ready += rts_rtsp_server_has_data (g_ptr_array_index (app->servers, i));
    /* Counted before the clock is read: the last camera may have started
     * while this loop slept, and must not fail a start that succeeded. */
    if (ready < app->servers->len
        && g_get_monotonic_time () - t0 > WARM_UP_TIMEOUT_S * G_USEC_PER_SEC) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "only %u of %u cameras produced video within %d s", ready,
          app->servers->len, WARM_UP_TIMEOUT_S);
      return FALSE;
    }
    g_main_context_iteration (NULL, FALSE);
    g_usleep (500);
  }
  rts_info ("camera pipelines running after %.1f ms",
      (g_get_monotonic_time () - t0) / 1e3);
  return TRUE;
}

static void
app_clear (RtsApp *app)
{
  g_clear_handle_id (&app->drain_id, g_source_remove);
  g_clear_pointer (&app->http, rts_http_api_free);
  g_clear_pointer (&app->faults, rts_faults_free);
  g_clear_pointer (&app->health, rts_health_free);
  g_clear_pointer (&app->servers, g_ptr_array_unref);
  g_clear_pointer (&app->cameras, rts_cameras_free);
  g_clear_pointer (&app->loop, g_main_loop_unref);
}

static char *
log_host (const RtsConfig *cfg)
{
  if (cfg->public_host)
    return g_strdup (cfg->public_host);
  return g_strdup (probe_host (cfg->bind));
}

static void
mask_signals (int how)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  pthread_sigmask (how, &set, NULL);
}

void
rts_app_block_signals (void)
{
  mask_signals (SIG_BLOCK);
}

void
rts_app_unblock_signals (void)
{
  mask_signals (SIG_UNBLOCK);
}

/* Raises the open-files limit, and says whether the cameras fit under it
 * (FALSE with ERROR if they do not; see fd_limit.h). The start and
 * --check-config both ask: the check once said OK to cameras the start
 * then refused. */
static gboolean
open_files_fit (const RtsConfig *cfg, GError **error)
{
  /* The process itself: GStreamer, GLib, the log, the HTTP listener. */
  guint64 need = 32, before, limit, room;

  limit = rts_fd_limit_init (cfg->n_cameras, &before);
  for (guint i = 0; i < cfg->n_cameras; i++)
    need += rts_fd_limit_camera_cost (
        g_strcmp0 (cfg->cameras[i].audio, "none") != 0 ? 2 : 1);
  if (need + rts_fd_limit_reserve () > limit) {
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%u camera(s) need about %" G_GUINT64_FORMAT
        " open files, more than this process may open: %" G_GUINT64_FORMAT
        " (its hard limit; the soft one was %" G_GUINT64_FORMAT
        "). Raise it (ulimit -n; docker run --ulimit nofile=N:N; an ECS task "
        "definition's ulimits) or configure fewer cameras",
        cfg->n_cameras, need + rts_fd_limit_reserve (), limit, before);
    return FALSE;
  }
  room = limit - need - rts_fd_limit_reserve ();
  if (room < (guint64) cfg->max_readers + cfg->max_http_connections)
    rts_warn ("open files: the limit, %" G_GUINT64_FORMAT
              ", leaves room for about %" G_GUINT64_FORMAT
              " connections (max-readers is %u, max-http-connections %u): "
              "connections past that are closed unserved",
        limit, room, cfg->max_readers, cfg->max_http_connections);
  else if (before < limit)
    rts_info ("open files: limit raised from %" G_GUINT64_FORMAT
              " to %" G_GUINT64_FORMAT,
        before, limit);
  return TRUE;
}

int
rts_app_run (const RtsConfig *cfg)
{
  RtsApp app = { 0 };
  g_autoptr (GError) err = NULL;
  g_autofree char *host = log_host (cfg);
  gboolean v6host = strchr (host, ':') != NULL;
  gint64 t0 = g_get_monotonic_time ();
  RtsHttpApiSetup setup = { 0 };

  if (!open_files_fit (cfg, &err)) {
    rts_error ("%s", err->message);
    return 2;
  }
  app.cfg = cfg;
  app.loop = g_main_loop_new (NULL, FALSE);
  watch.app = &app;
  watch.bound = cfg->shutdown_timeout + 0.4;
  g_thread_unref (g_thread_new ("signals", signal_thread, NULL));
  app.cameras = rts_cameras_new (cfg);
  app.servers =
      g_ptr_array_new_with_free_func ((GDestroyNotify) rts_rtsp_server_free);

  /* Bind everything before serving anything: a taken port fails the start
   * as a whole, with nothing half-served. */
  RtsRtspLimits limits = { cfg->max_readers_per_camera, cfg->max_readers,
    cfg->session_timeout, cfg->idle_timeout, cfg->ignore_play_range,
    cfg->max_request_bytes, cfg->max_request_headers };
  for (guint i = 0; i < app.cameras->len; i++) {
    RtsRtspServer *srv =
        rts_rtsp_server_new (g_ptr_array_index (app.cameras, i), cfg->bind,
            &limits, &err);
    if (!srv)
      goto bind_failed;
    g_ptr_array_add (app.servers, srv);
  }
  app.health = rts_health_new (app.servers, probe_host (cfg->bind),
      rts_config_threshold (cfg), cfg->probe_interval, cfg->probe_timeout,
      cfg->stall_threshold);
  app.faults = rts_faults_new (app.servers, app.health);
  setup.bind = cfg->bind;
  setup.port = cfg->http_port;
  setup.public_host = cfg->public_host;
  setup.control_token = cfg->control_token;
  setup.max_connections = cfg->max_http_connections;
  setup.idle_timeout = cfg->idle_timeout;
  setup.servers = app.servers;
  setup.health = app.health;
  setup.faults = app.faults;
  app.http = rts_http_api_new (&setup, &err);
  if (!app.http)
    goto bind_failed;

  rts_info ("rtsp-test-server %s starting: %u camera(s), bind %s, pid %d",
      RTS_VERSION, app.servers->len, cfg->bind, (int) getpid ());
  if (!warm_up (&app, &err))
    goto start_failed;
  for (guint i = 0; i < app.servers->len; i++) {
    RtsRtspServer *srv = g_ptr_array_index (app.servers, i);
    const RtsCamera *cam = rts_rtsp_server_camera (srv);
    rts_rtsp_server_start (srv);
    g_autofree char *rate = rts_rate_text (cam->fps_n, cam->fps_d);
    g_autofree char *gop = cam->file
        ? g_strdup ("keyframes as in the file")
        : g_strdup_printf ("keyframe every %u frames, pattern %s", cam->gop,
            cam->pattern);
    rts_info ("camera %s ready on port %u: rtsp://%s%s%s:%u%s "
              "(%s %s %ux%u@%s fps, %s)",
        cam->name, rts_rtsp_server_port (srv), v6host ? "[" : "", host,
        v6host ? "]" : "", rts_rtsp_server_port (srv), cam->path, cam->source,
        cam->codec, cam->width, cam->height, rate, gop);
  }
  rts_info ("http api listening on port %u: http://%s%s%s:%u/health "
            "(control api %s)",
      rts_http_api_port (app.http), v6host ? "[" : "", host, v6host ? "]" : "",
      rts_http_api_port (app.http), cfg->control_token ? "on" : "off");
  rts_health_start (app.health);
  rts_stills_trim_when_done ();
  rts_info ("started in %.1f ms", (g_get_monotonic_time () - t0) / 1e3);

  g_atomic_int_set (&watch.running, 1);
  g_main_loop_run (app.loop);
  g_atomic_int_set (&watch.running, 0);

  app_clear (&app);
  /* A camera's stills stop at their next frame once it is gone. */
  rts_stills_wait_idle ();
  rts_info ("shutdown: done");
  return 0;

  /* ERRORS */
start_failed:
bind_failed:
  rts_error ("%s", err->message);
  app_clear (&app);
  /* A setting only a file's content shows to be wrong is still a bad
   * setting. */
  return g_error_matches (err, RTS_CONFIG_ERROR, 0) ? 2 : 1;
}

int
rts_app_prepare_cache (const RtsConfig *cfg)
{
  g_autofree char *dir = rts_config_clip_cache_dir (cfg);
  g_autoptr (GPtrArray) cameras = rts_cameras_new (cfg);
  g_autoptr (GPtrArray) clips = NULL;
  g_autoptr (GError) err = NULL;
  RtsClipCounts counts = { 0 };

  if (!dir) {
    rts_error ("--prepare-cache: the clip cache is off (%s: '%s')",
        rts_config_origin (cfg, &cfg->clip_cache), cfg->clip_cache);
    return 2;
  }
  clips = make_clips (cfg, cameras, FALSE, &counts, &err);
  if (!clips) {
    rts_error ("%s", err->message);
    return 1;
  }
  /* The point was a full cache: one that could not be written fails
   * the build that asked for it. */
  if (counts.problems) {
    rts_error ("clip cache %s: %u clip(s) could not be stored", dir,
        counts.problems);
    return 1;
  }
  rts_info ("clip cache %s: %u clip(s) stored now, %u there already", dir,
      counts.saved, counts.cached);
  return 0;
}

int
rts_app_check_config (const RtsConfig *cfg)
{
  g_autoptr (GPtrArray) cameras = rts_cameras_new (cfg);
  g_autoptr (GPtrArray) clips = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *summary = NULL;
  g_autoptr (GPtrArray) notes = NULL;

  if (!open_files_fit (cfg, &err)) {
    fprintf (stderr, "rtsp-test-server: %s\n", err->message);
    return 2;
  }
  /* A file is read as the start would read it (remuxed, never encoded:
   * about as quick as reading it), so a file that would fail the start
   * fails the check. Loop clips are not encoded: their elements were
   * checked already (rts_cameras_check). */
  clips = make_clips (cfg, cameras, TRUE, NULL, &err);
  if (!clips) {
    fprintf (stderr, "rtsp-test-server: %s\n", err->message);
    return 2;
  }
  notes = g_ptr_array_new_full (cameras->len, g_free);
  for (guint i = 0; i < cameras->len; i++) {
    const RtsCamera *cam = g_ptr_array_index (cameras, i);
    RtsClip *clip = g_ptr_array_index (clips, i);
    g_autofree char *rate = rts_rate_text (cam->fps_n, cam->fps_d);
    g_ptr_array_add (notes,
        cam->file && clip
            ? g_strdup_printf ("the file holds %s%s%s %ux%u@%s fps video, %u "
                               "frames (%.2f s), looped from its first "
                               "keyframe",
                cam->codec, cam->profile ? " " : "",
                cam->profile ? cam->profile : "", cam->width, cam->height, rate,
                rts_clip_n_frames (clip), rts_clip_duration (clip) / 1e9)
            : NULL);
  }
  summary = rts_config_summary (cfg, (const char *const *) notes->pdata);
  fputs (summary, stdout);
  return 0;
}
