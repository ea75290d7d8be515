/* clip_cache: a made clip kept on disk, so the next start reads it instead
 * of encoding it again.
 *
 * Owns the file format: a header naming the format and the clip's key, each
 * track's caps and access units (timestamps, flags, bytes), and a SHA-256 of
 * all of it, so a truncated or damaged file is refused rather than played.
 * Payloader chains are not stored: clip.c derives them from the codec, so a
 * change to them needs no new format. Files are written whole to a
 * temporary name and renamed, so a reader never sees half a file and two
 * servers filling the same cache at once do no harm. clip.c decides what
 * the key covers; this module only checks that a file carries the key it
 * was asked for. Blocking file I/O: call it from a worker thread. */
#pragma once

#include "clip_private.h"

/* Bumped whenever the layout below changes: old files then no longer match
 * any key and are encoded again. */
#define RTS_CLIP_CACHE_FORMAT 1

/* The SHA-256 of TEXT, in hex (64 characters). */
char *rts_clip_cache_key (const char *text);

/* Writes CLIP's tracks (caps, frames, lengths; not chains) under KEY to
 * PATH, creating its directory. */
gboolean rts_clip_cache_write (RtsClip *clip, const char *path, const char *key,
    GError **error);

/* A clip read from PATH, whose chains the caller sets; NULL with ERROR:
 * G_IO_ERROR_NOT_FOUND when there is no such file (nothing to warn about),
 * G_IO_ERROR_INVALID_DATA when it is truncated, damaged, of another format
 * or for another KEY, another G_IO_ERROR when it cannot be read. The
 * frames share one block of memory, read in one go. */
RtsClip *
rts_clip_cache_read (const char *path, const char *key, GError **error);
