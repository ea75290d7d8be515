/* clip: a short encoded clip, made once at start-up and replayed forever.
 *
 * Owns RtsClip: the encoded access units of one camera's picture (and
 * optionally a test tone), held in memory as GstBuffers, with their caps and
 * the payloader that makes them RTP (rtp_clip.h does, once). Immutable once
 * made.
 *
 * A made clip can be kept in a cache directory (clip_cache.h, the file
 * format) and read from there at the next start instead of being encoded
 * again: start-up then takes milliseconds instead of most of a second.
 *
 * It knows nothing of cameras, configuration or RTSP. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

typedef struct {
  const char *codec;   /* "h264", "h265" or "mjpeg" */
  const char *profile; /* h264: "baseline", "main" or "high"; NULL: baseline */
  guint width, height, fps;
  guint gop;           /* frames between keyframes; 0: fps (h264/h265) */
  guint bitrate;       /* kbit/s (h264/h265); 0: 1000 */
  const char *pattern; /* videotestsrc pattern name; NULL: smpte */
  /* Burned into the picture (the camera name); may be NULL. */
  const char *text;
  /* Clip length, rounded up to whole GOPs; 0: one GOP. */
  double seconds;
  /* NULL or "none"; "aac", "opus", "pcmu", "pcma": a test tone. */
  const char *audio;
  /* An MP4/MKV with H.264/H.265 video, looped without re-encoding instead
   * of the test pattern, from its first keyframe to its end; codec, size,
   * fps, gop, bitrate, pattern and text are then ignored, and so is the
   * file's own audio (AUDIO adds a tone). */
  const char *file;
  /* Where test-pattern clips are kept between starts; NULL or "": not
   * kept. A file's clip is never kept: reading the file is as quick. */
  const char *cache_dir;
} RtsClipSpec;

typedef struct RtsClip RtsClip;

/* What goes before jpegenc. A JPEG (JFIF, RTP/JPEG) is full-range YCbCr;
 * the test pictures are I420 in video range (16-235), which a JPEG shows
 * with grey blacks and dim whites. videoconvert 1.22 changes no range
 * between YUV formats (I420 to I420, NV12 or Y42B alike), so by way of
 * RGB. */
#define RTS_JPEG_INPUT                                                         \
  "videoconvert ! video/x-raw,format=BGRx ! videoconvert "                     \
  "! video/x-raw,format=I420,colorimetry=1:4:0:0"

#define RTS_CLIP_ERROR (rts_clip_error_quark ())
GQuark rts_clip_error_quark (void);
typedef enum {
  RTS_CLIP_ERROR_INVALID,   /* a bad spec: unknown codec, profile, audio... */
  RTS_CLIP_ERROR_MISSING,   /* a GStreamer element is not installed */
  RTS_CLIP_ERROR_FILE,      /* the file is unreadable, has no (usable) video */
  RTS_CLIP_ERROR_ENCODE,    /* the encoding pipeline failed */
  RTS_CLIP_ERROR_BITSTREAM, /* the clip breaks a promise: no leading keyframe,
                             * a keyframe without its parameter sets */
} RtsClipError;

/* Encodes SPEC (copied; the caller's strings may go at once), or reads it
 * from SPEC's cache directory when an earlier make left it there; an
 * encoded clip is written there before it is returned. A cache file that
 * is unreadable, damaged or cannot be written never fails the make: the
 * clip's origin says what went wrong. Encoding runs on GStreamer's
 * streaming threads, cache I/O on a worker thread; CB runs on the caller's
 * thread-default main context, which must be running. Errors
 * (RTS_CLIP_ERROR, or G_IO_ERROR_CANCELLED) name what was wrong. */
void rts_clip_make_async (const RtsClipSpec *spec, GCancellable *cancellable,
    GAsyncReadyCallback cb, gpointer data);
/* The clip (caller's reference), or NULL with ERROR set. */
RtsClip *rts_clip_make_finish (GAsyncResult *res, GError **error);

/* Buffers (video frames, a tone's frames, a file's access units) every
 * make in the process has taken so far, from any thread. It moves while
 * any make encodes or reads, so a caller can tell long work from stuck
 * work; cache reads and writes do not move it. */
guint64 rts_clip_progress (void);

RtsClip *rts_clip_ref (RtsClip *clip);
void rts_clip_unref (RtsClip *clip);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtsClip, rts_clip_unref)

/* Caps for the appsrc, owned by the clip (do not unref), e.g.
 * video/x-h264,stream-format=byte-stream,alignment=au,...; audio NULL
 * without audio. */
GstCaps *rts_clip_video_caps (RtsClip *clip);
GstCaps *rts_clip_audio_caps (RtsClip *clip);

/* The payloaders, as gst-launch fragments owned by the clip: video
 * "... name=pay0", audio (NULL without audio) "... name=pay1". */
const char *rts_clip_video_chain (RtsClip *clip);
const char *rts_clip_audio_chain (RtsClip *clip);

/* One loop of the video, and its frame count: for logs and tests. */
GstClockTime rts_clip_duration (RtsClip *clip);
guint rts_clip_n_frames (RtsClip *clip);
/* The longest time between two frames sent one after the other (decode
 * order, the loop's wrap included): how long a reader may see nothing. */
GstClockTime rts_clip_longest_gap (RtsClip *clip);

/* How a clip was made, for the log. Strings are owned by the clip. */
typedef struct {
  gboolean from_cache;    /* read from CACHE_FILE, not encoded */
  gboolean saved;         /* encoded, then written to CACHE_FILE */
  const char *cache_file; /* NULL: no cache (off, or a file's clip) */
  /* The cache file could not be read (damaged, unreadable) or written, and
   * why, naming it; NULL when all went well. */
  const char *cache_problem;
  /* A file's own audio, which is not sent (its caps' name, e.g.
   * "audio/mpeg"); NULL when it has none or the clip is no file's. */
  const char *file_audio;
  /* How a file's start was made one a reader and the loop can start at
   * (an H.265 CRA made a BLA); NULL when it was one. */
  const char *file_start;
  double ms; /* from the make's start to its end */
} RtsClipOrigin;
void rts_clip_get_origin (RtsClip *clip, RtsClipOrigin *origin);

/* The file SPEC's clip is kept in, under SPEC's cache_dir; NULL when it is
 * not kept (no cache_dir, a file's clip, or a spec the make would refuse).
 * The name changes with anything that changes the clip's bytes. */
char *rts_clip_cache_file (const RtsClipSpec *spec);
