/* clip_cache: see clip_cache.h.
 *
 * Layout, integers little-endian:
 *   "RTSCLIP\n", u32 format, the key (64 hex characters);
 *   two tracks, video then audio, each: u32 frame count (0: no track, and
 *   nothing more of it), u64 loop length (ns), u32 caps length, the caps
 *   as text, then per frame u64 PTS, u64 DTS, u64 duration, u32 buffer
 *   flags, u32 size and its bytes;
 *   the SHA-256 (32 bytes) of everything before it. */
#include "clip_cache.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define MAGIC "RTSCLIP\n"
#define MAGIC_LEN 8
#define KEY_LEN 64
#define SUM_LEN 32
/* Flags that say what a buffer is; the rest (memory tags, discont at the
 * loop point) mean nothing once the clip is stored. */
#define KEPT_FLAGS                                                             \
  (GST_BUFFER_FLAG_DELTA_UNIT | GST_BUFFER_FLAG_HEADER                         \
      | GST_BUFFER_FLAG_DROPPABLE | GST_BUFFER_FLAG_MARKER                     \
      | GST_BUFFER_FLAG_NON_DROPPABLE)

char *
rts_clip_cache_key (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

/* ------------------------------------------------------------------------ */
/* Writing */

static void
put_u32 (GByteArray *out, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &v, sizeof v);
}

static void
put_u64 (GByteArray *out, guint64 v)
{
  v = GUINT64_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &v, sizeof v);
}

static gboolean
put_track (GByteArray *out, const Track *t, GError **error)
{
  g_autofree char *caps = NULL;

  if (!t->frames) {
    put_u32 (out, 0);
    return TRUE;
  }
  caps = gst_caps_to_string (t->caps);
  put_u32 (out, t->frames->len);
  put_u64 (out, t->length);
  put_u32 (out, strlen (caps));
  g_byte_array_append (out, (const guint8 *) caps, strlen (caps));
  for (guint i = 0; i < t->frames->len; i++) {
    GstBuffer *b = g_ptr_array_index (t->frames, i);
    GstMapInfo map;

    if (!gst_buffer_map (b, &map, GST_MAP_READ)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "frame %u of the clip cannot be read", i);
      return FALSE;
    }
    put_u64 (out, GST_BUFFER_PTS (b));
    put_u64 (out, GST_BUFFER_DTS (b));
    put_u64 (out, GST_BUFFER_DURATION (b));
    put_u32 (out, GST_BUFFER_FLAGS (b) & KEPT_FLAGS);
    put_u32 (out, map.size);
    g_byte_array_append (out, map.data, map.size);
    gst_buffer_unmap (b, &map);
  }
  return TRUE;
}

gboolean
rts_clip_cache_write (RtsClip *clip, const char *path, const char *key,
    GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *dir = g_path_get_dirname (path);
  guint8 digest[SUM_LEN];
  gsize digest_len = sizeof digest;

  g_return_val_if_fail (strlen (key) == KEY_LEN, FALSE);
  if (g_mkdir_with_parents (dir, 0755) < 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
        "%s: cannot create its directory: %s", path, g_strerror (e));
    return FALSE;
  }
  g_byte_array_append (out, (const guint8 *) MAGIC, MAGIC_LEN);
  put_u32 (out, RTS_CLIP_CACHE_FORMAT);
  g_byte_array_append (out, (const guint8 *) key, KEY_LEN);
  if (!put_track (out, &clip->video, error)
      || !put_track (out, &clip->audio, error))
    return FALSE;
  g_checksum_update (sum, out->data, out->len);
  g_checksum_get_digest (sum, digest, &digest_len);
  g_byte_array_append (out, digest, SUM_LEN);
  /* A temporary file renamed into place: readers see the old file or the
   * whole new one. 0644: a cache filled at an image's build, as root, is
   * read by the image's unprivileged user. */
  if (!g_file_set_contents_full (path, (const char *) out->data, out->len,
          G_FILE_SET_CONTENTS_CONSISTENT, 0644, error)) {
    g_prefix_error (error, "%s: ", path);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Reading */

typedef struct {
  const guint8 *p;
  gsize left;
  gboolean short_read;
} Reader;

static const guint8 *
take (Reader *r, gsize n)
{
  const guint8 *p = r->p;

  if (r->short_read || n > r->left) {
    r->short_read = TRUE;
    return NULL;
  }
  r->p += n;
  r->left -= n;
  return p;
}

static guint32
get_u32 (Reader *r)
{
  const guint8 *p = take (r, 4);
  guint32 v = 0;

  if (p)
    memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static guint64
get_u64 (Reader *r)
{
  const guint8 *p = take (r, 8);
  guint64 v = 0;

  if (p)
    memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

/* Fills T from R; frames point into BLOCK. WHY says what is wrong. */
static gboolean
get_track (Reader *r, GBytes *block, Track *t, gboolean video, char **why)
{
  guint32 n = get_u32 (r);
  guint32 caps_len;
  const guint8 *caps;
  GstClockTime last_dts = 0;

  if (r->short_read)
    goto short_read;
  if (n == 0) {
    if (video)
      *why = g_strdup ("no video frames");
    return !video;
  }
  t->length = get_u64 (r);
  caps_len = get_u32 (r);
  caps = take (r, caps_len);
  if (r->short_read)
    goto short_read;
  {
    g_autofree char *text = g_strndup ((const char *) caps, caps_len);
    t->caps = gst_caps_from_string (text);
  }
  if (!t->caps || gst_caps_get_size (t->caps) != 1) {
    *why = g_strdup ("caps that do not parse");
    return FALSE;
  }
  /* Each frame takes 32 bytes or more: a count the file cannot hold is
   * damage, found before anything is allocated for it. */
  if (n > r->left / 32)
    goto short_read;
  t->frames = g_ptr_array_new_full (n, (GDestroyNotify) gst_buffer_unref);
  for (guint32 i = 0; i < n; i++) {
    GstClockTime pts = get_u64 (r), dts = get_u64 (r), dur = get_u64 (r);
    guint32 flags = get_u32 (r), size = get_u32 (r);
    const guint8 *data = take (r, size);
    GstBuffer *b;

    if (r->short_read)
      goto short_read;
    /* The player adds these to running times and steps by durations. */
    if (!GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (dts)
        || !GST_CLOCK_TIME_IS_VALID (dur) || dts < last_dts || dts > t->length
        || (video && i == 0 && (flags & GST_BUFFER_FLAG_DELTA_UNIT))) {
      *why = g_strdup_printf ("a bad frame (%u)", i);
      return FALSE;
    }
    last_dts = dts;
    /* No copy: every frame keeps the file's one block alive. */
    b = size ? gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
            (gpointer) data, size, 0, size, g_bytes_ref (block),
            (GDestroyNotify) g_bytes_unref)
             : gst_buffer_new ();
    GST_BUFFER_PTS (b) = pts;
    GST_BUFFER_DTS (b) = dts;
    GST_BUFFER_DURATION (b) = dur;
    GST_BUFFER_FLAG_SET (b, flags & KEPT_FLAGS);
    g_ptr_array_add (t->frames, b);
  }
  if (t->length == 0) {
    *why = g_strdup ("a track of no length");
    return FALSE;
  }
  return TRUE;

short_read:
  *why = g_strdup ("it ends too soon");
  return FALSE;
}

RtsClip *
rts_clip_cache_read (const char *path, const char *key, GError **error)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) block = NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *why = NULL;
  guint8 digest[SUM_LEN];
  gsize digest_len = sizeof digest;
  char *data = NULL;
  gsize len = 0;
  Reader r;
  RtsClip *clip;

  if (!g_file_get_contents (path, &data, &len, &err)) {
    g_set_error_literal (error, G_IO_ERROR,
        g_io_error_from_file_error (err->code), err->message);
    return NULL;
  }
  block = g_bytes_new_take (data, len);
  if (len < MAGIC_LEN + 4 + KEY_LEN + SUM_LEN) {
    why = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes, too short", len);
    goto invalid;
  }
  if (memcmp (data, MAGIC, MAGIC_LEN) != 0) {
    why = g_strdup ("not a clip cache file");
    goto invalid;
  }
  g_checksum_update (sum, (const guint8 *) data, len - SUM_LEN);
  g_checksum_get_digest (sum, digest, &digest_len);
  if (memcmp (digest, data + len - SUM_LEN, SUM_LEN) != 0) {
    why = g_strdup ("its checksum does not match: truncated or damaged");
    goto invalid;
  }
  r = (Reader){ (const guint8 *) data + MAGIC_LEN, len - MAGIC_LEN - SUM_LEN,
    FALSE };
  if (get_u32 (&r) != RTS_CLIP_CACHE_FORMAT) {
    why = g_strdup ("another format version");
    goto invalid;
  }
  if (memcmp (take (&r, KEY_LEN), key, KEY_LEN) != 0) {
    why = g_strdup ("made for another clip (key mismatch)");
    goto invalid;
  }

  clip = g_new0 (RtsClip, 1);
  clip->ref = 1;
  if (!get_track (&r, block, &clip->video, TRUE, &why)
      || !get_track (&r, block, &clip->audio, FALSE, &why)) {
    rts_clip_unref (clip);
    goto invalid;
  }
  if (r.left != 0) {
    rts_clip_unref (clip);
    why = g_strdup ("bytes after the last track");
    goto invalid;
  }
  return clip;

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, why);
  return NULL;
}
