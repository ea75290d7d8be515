/* camera: what each fake camera is (name, port, mount path, picture, codec)
 * and the GStreamer pipeline that makes its stream.
 *
 * Owns the camera descriptions derived from the configuration; pure data,
 * no sockets or pipelines are created here. */
#pragma once

#include "config.h"

#define RTS_MOUNT_PATH "/stream"

typedef struct {
  guint index;         /* 0-based */
  char *name;          /* cam1, cam2, ... */
  guint port;          /* as configured; 0 = any free port */
  const char *path;    /* mount path, RTS_MOUNT_PATH */
  const char *pattern; /* videotestsrc pattern, distinct per camera */
  const char *codec;   /* "h264" */
  guint width;
  guint height;
  guint fps;
  guint gop;     /* frames between keyframes */
  guint bitrate; /* kbit/s */
} RtsCamera;

/* Cameras for CFG, one per RTSP port; free with rts_cameras_free(). */
GPtrArray *rts_cameras_new (const RtsConfig *cfg);
void rts_cameras_free (GPtrArray *cameras);

/* gst-launch description of the camera's media, for
 * gst_rtsp_media_factory_set_launch(). */
char *rts_camera_launch (const RtsCamera *cam);
