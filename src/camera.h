/* camera: what each fake camera is (name, port, mount path, picture, codec,
 * audio) and the GStreamer pipeline that makes its stream.
 *
 * Owns the camera descriptions derived from the configuration and the
 * check of what this build can offer (a combination it cannot is a
 * configuration error, found before any port opens); pure data, no sockets
 * or pipelines are created here. */
#pragma once

#include "clip.h"
#include "config.h"

/* Strings are borrowed from the configuration, which outlives the
 * cameras. */
typedef struct {
  guint index;      /* 0-based */
  const char *name; /* cam1, cam2, ... or the file's */
  guint port;       /* as configured; 0 = any free port */
  const char *path; /* mount path, "/stream" */
  const char *pattern;
  const char *source; /* "live", "loop" or "file" */
  const char *file;
  const char *codec; /* "h264", "h265", "mjpeg" */
  const char *profile;
  guint width;
  guint height;
  guint fps;          /* whole: a file's own rate rounded, at least 1 */
  guint fps_n, fps_d; /* exact: fps/1, or a file's own (30000/1001) */
  gboolean
      fps_average; /* a file's rate, measured: its caps said none or another */
  guint gop;       /* frames between keyframes */
  guint bitrate;   /* kbit/s */
  gboolean overlay;
  const char *audio; /* "none", "aac", "opus", "pcmu", "pcma" */
  const char *auth;  /* "none", "basic", "digest" */
  const char *user;
  const char *password;
  guint transports;        /* RtsTransports */
  const char *mcast_group; /* with multicast: the camera's own group */
  guint mcast_port_min;    /* its RTP/RTCP pairs, video then audio */
  guint mcast_port_last;   /* the last of them it uses */
  guint mcast_port_max;
  guint mcast_ttl;
  double clip_seconds; /* loop: length of the clip */
} RtsCamera;

/* A file camera takes the codec, size and rate of its file's video, read
 * from its clip: /rtsp-urls and the log then say what readers get, not
 * settings that do not apply to a file. */
void rts_camera_take_file_video (RtsCamera *cam, RtsClip *clip);

/* A frame rate N/D as people write it: "30", "29.97", "0.5" (at most
 * three decimals); free with g_free(). */
char *rts_rate_text (guint n, guint d);

/* Cameras for CFG, one per RTSP port; free with rts_cameras_free(). */
GPtrArray *rts_cameras_new (const RtsConfig *cfg);
void rts_cameras_free (GPtrArray *cameras);

/* Whether this build and this machine's GStreamer elements can make
 * every camera of CFG: FALSE with a message naming the camera, what it
 * asked for and what is missing. After gst_init(). */
gboolean rts_cameras_check (const RtsConfig *cfg, GError **error);

/* What a loop or file camera's clip is made of; NULL for a live camera. */
RtsClipSpec *rts_camera_clip_spec (const RtsCamera *cam);

/* A pipeline (not a media) that renders a loop camera's test picture, as
 * its clip shows it, into JPEGs, one a frame, into an appsink "stills";
 * it can be sought to any frame (stills.h). */
char *rts_camera_stills_launch (const RtsCamera *cam);

/* The same for a file camera: its file decoded (its video only), sought to
 * any time; NULL (with ERROR) when the file's name cannot be made a URI. */
char *rts_camera_file_stills_launch (const RtsCamera *cam, GError **error);

/* gst-launch description of the camera's media, for
 * gst_rtsp_media_factory_set_launch(): a live encoder, or, with CLIP, the
 * elements the sender's feed stands behind ("pay0", "pay1": sender.h). */
char *rts_camera_launch (const RtsCamera *cam, RtsClip *clip);
