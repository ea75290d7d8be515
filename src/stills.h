/* stills: the pictures a loop or file camera's snapshot shows.
 *
 * Such a camera has no raw frames while it plays (the sender sends packets
 * made once). Its snapshot is one of a set of JPEGs rendered once at
 * start-up, at most a second of its clip apart: the camera's test picture
 * (or its file, decoded) sought to each place, one frame each, rather than
 * every frame of the clip rendered to keep one in thirty (256 cameras: 5 s
 * of CPU, and 240 MiB of frames freed at once that malloc then kept).
 *
 * (A test picture's frames are the same sought to as played, but for
 * noise (snow, smpte's strip), drawn from a sequence a seek does not
 * replay.)
 *
 * Owns a pool of worker threads, one per core, that renders them off the
 * main loop, each camera's set of JPEGs, and the heap trim once start-up's
 * stills are made. */
#pragma once

#include <gst/gst.h>

typedef struct RtsStills RtsStills;

/* Renders, in the background, N JPEGs of the pipeline LAUNCH (a picture
 * counted in frames of 1/FPS s, an appsink "stills" at its end:
 * rts_camera_stills_launch): its frames 0, STEP, 2 x STEP... NAME is the
 * camera's, for the log. */
RtsStills *rts_stills_new (const char *name, const char *launch, guint n,
    guint step, guint fps);

/* The JPEG of still INDEX (modulo the set; while they are being made, the
 * last one made), or NULL while none is; a reference. Any thread. */
GBytes *rts_stills_get (RtsStills *stills, guint64 index);

/* How many are made so far. Any thread. */
guint rts_stills_count (RtsStills *stills);

/* TRUE when the render is over and made none (the pipeline failed; the
 * log said why). Any thread. */
gboolean rts_stills_failed (RtsStills *stills);

/* Stops a render in progress at its next frame, and lets go of STILLS. */
void rts_stills_free (RtsStills *stills);

/* Every camera's stills are asked for (start-up is over): once they are
 * made, the heap is trimmed (start-up's transients returned to the
 * system) and the work logged, once. Main loop. */
void rts_stills_trim_when_done (void);

/* Waits until no render runs or waits (tests; the end of the process). */
void rts_stills_wait_idle (void);
