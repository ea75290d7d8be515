/* clip_private: what a clip is made of, shared by clip.c (making),
 * clip_cache.c (the file format) and rtp_clip.c (its RTP packets). Nothing
 * else includes it. */
#pragma once

#include "clip.h"

/* One track of a clip: access units in decode order. Each buffer's DTS and
 * PTS are offsets from the track's start and its duration is set, so a
 * player only adds the running time at which the current loop began. */
typedef struct {
  GPtrArray *frames;   /* GstBuffer */
  GstClockTime length; /* one loop */
  GstCaps *caps;
  char *chain;
} Track;

struct RtsClip {
  gint ref;
  Track video;
  Track audio; /* frames NULL without audio */
  /* How it was made (RtsClipOrigin). */
  gboolean from_cache;
  gboolean saved;
  char *cache_file;
  char *cache_problem;
  char *file_start; /* how a file's start was made clean, or NULL */
  char *file_audio; /* a file's own audio, left out: its caps' name */
  gint64 make_us;
};
