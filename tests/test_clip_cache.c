/* Tests of the clip cache (clip_cache.c, and clip.c's use of it): a clip
 * read back is the clip that was written, bit for bit; a damaged,
 * truncated, foreign or unwritable cache file costs an encode and a
 * message naming it, never the clip; the file's name follows every
 * setting that shapes the clip. Every cache here is a fresh temporary
 * directory. */
#include "clip.h"
#include "clip_cache.h"
#include "clipmake.h"

#include <glib/gstdio.h>
#include <string.h>

/* A clip made synchronously (tests/clipmake.c), or the test fails. */
static RtsClip *
make (const RtsClipSpec *spec)
{
  g_autoptr (GError) error = NULL;
  RtsClip *clip = ts_clip_make (spec, &error);

  g_assert_no_error (error);
  g_assert_nonnull (clip);
  return clip;
}

static RtsClipSpec
small_spec (const char *dir)
{
  RtsClipSpec spec = {
    .codec = "h264",
    .width = 160,
    .height = 120,
    .fps = 30,
    .gop = 10,
    .bitrate = 200,
    .pattern = "ball",
    .text = "cam1",
    .seconds = 0.5,
    .cache_dir = dir,
  };
  return spec;
}

static char *
temp_dir (void)
{
  char *dir = g_dir_make_tmp ("rts-clip-cache-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_unlink (path);
  }
  g_rmdir (dir);
}

static guint
n_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;
  return n;
}

static void
same_frames (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++) {
    GstBuffer *x = g_ptr_array_index (a, i), *y = g_ptr_array_index (b, i);
    GstMapInfo mx, my;

    g_assert_cmpuint (GST_BUFFER_PTS (x), ==, GST_BUFFER_PTS (y));
    g_assert_cmpuint (GST_BUFFER_DTS (x), ==, GST_BUFFER_DTS (y));
    g_assert_cmpuint (GST_BUFFER_DURATION (x), ==, GST_BUFFER_DURATION (y));
    g_assert_cmpint (GST_BUFFER_FLAG_IS_SET (x, GST_BUFFER_FLAG_DELTA_UNIT), ==,
        GST_BUFFER_FLAG_IS_SET (y, GST_BUFFER_FLAG_DELTA_UNIT));
    g_assert_true (gst_buffer_map (x, &mx, GST_MAP_READ));
    g_assert_true (gst_buffer_map (y, &my, GST_MAP_READ));
    g_assert_cmpmem (mx.data, mx.size, my.data, my.size);
    gst_buffer_unmap (x, &mx);
    gst_buffer_unmap (y, &my);
  }
}

static void
same_clip (RtsClip *a, RtsClip *b)
{
  g_assert_true (
      gst_caps_is_equal (rts_clip_video_caps (a), rts_clip_video_caps (b)));
  g_assert_cmpstr (rts_clip_video_chain (a), ==, rts_clip_video_chain (b));
  g_assert_cmpuint (rts_clip_duration (a), ==, rts_clip_duration (b));
  same_frames (a->video.frames, b->video.frames);
  g_assert_cmpuint (a->video.length, ==, b->video.length);
  g_assert_cmpstr (rts_clip_audio_chain (a), ==, rts_clip_audio_chain (b));
  if (a->audio.frames) {
    g_assert_nonnull (b->audio.frames);
    g_assert_true (
        gst_caps_is_equal (rts_clip_audio_caps (a), rts_clip_audio_caps (b)));
    same_frames (a->audio.frames, b->audio.frames);
    g_assert_cmpuint (a->audio.length, ==, b->audio.length);
  } else {
    g_assert_null (b->audio.frames);
  }
}

/* Encoded and saved, then read back as the same clip; for each codec, and
 * with audio whose caps carry buffers (AAC's codec_data, Opus' headers). */
static void
test_round_trip (gconstpointer data)
{
  const char *const *what = data;
  g_autofree char *dir = temp_dir ();
  RtsClipSpec spec = small_spec (dir);
  g_autofree char *file = NULL;
  g_autoptr (RtsClip) first = NULL;
  g_autoptr (RtsClip) second = NULL;
  RtsClipOrigin o;

  spec.codec = what[0];
  spec.audio = what[1];
  file = rts_clip_cache_file (&spec);
  g_assert_nonnull (file);
  g_assert_true (g_str_has_prefix (file, dir));

  first = make (&spec);
  rts_clip_get_origin (first, &o);
  g_assert_false (o.from_cache);
  g_assert_true (o.saved);
  g_assert_cmpstr (o.cache_file, ==, file);
  g_assert_null (o.cache_problem);
  g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (n_files (dir), ==, 1); /* no temporary file left */

  second = make (&spec);
  rts_clip_get_origin (second, &o);
  g_assert_true (o.from_cache);
  g_assert_false (o.saved);
  g_assert_cmpstr (o.cache_file, ==, file);
  g_assert_null (o.cache_problem);
  same_clip (first, second);
  remove_dir (dir);
}

typedef enum {
  DAMAGE_FLIP,     /* one byte changed in the middle */
  DAMAGE_TRUNCATE, /* half the file */
  DAMAGE_EMPTY,    /* nothing */
  DAMAGE_GARBAGE,  /* not a cache file at all */
  DAMAGE_FOREIGN,  /* a good file of another clip, under this one's name */
} Damage;

/* A cache file that cannot be used: the clip is encoded as if there were
 * none, the origin says which file and why, and the file is replaced by a
 * good one that the next make reads. */
static void
test_damaged (gconstpointer data)
{
  Damage damage = GPOINTER_TO_INT (data);
  g_autofree char *dir = temp_dir ();
  RtsClipSpec spec = small_spec (dir);
  g_autofree char *file = rts_clip_cache_file (&spec);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_autoptr (RtsClip) clip = NULL;
  g_autoptr (RtsClip) again = NULL;
  RtsClipOrigin o;

  clip = make (&spec);
  g_assert_true (g_file_get_contents (file, &bytes, &len, NULL));
  switch (damage) {
    case DAMAGE_FLIP:
      bytes[len / 2] ^= 0x40;
      break;
    case DAMAGE_TRUNCATE:
      len /= 2;
      break;
    case DAMAGE_EMPTY:
      len = 0;
      break;
    case DAMAGE_GARBAGE:
      memset (bytes, 'x', len);
      break;
    case DAMAGE_FOREIGN: {
      RtsClipSpec other = spec;
      g_autofree char *other_file = NULL;
      g_autoptr (RtsClip) o_clip = NULL;
      other.pattern = "snow";
      other_file = rts_clip_cache_file (&other);
      o_clip = make (&other);
      g_free (bytes);
      g_assert_true (g_file_get_contents (other_file, &bytes, &len, NULL));
      break;
    }
  }
  g_assert_true (g_file_set_contents (file, bytes, len, NULL));

  rts_clip_unref (clip);
  clip = make (&spec);
  rts_clip_get_origin (clip, &o);
  g_test_message ("%s", o.cache_problem);
  g_assert_false (o.from_cache);
  g_assert_true (o.saved);
  g_assert_nonnull (o.cache_problem);
  g_assert_nonnull (strstr (o.cache_problem, file));
  g_assert_cmpuint (rts_clip_n_frames (clip), ==, 20);

  again = make (&spec);
  rts_clip_get_origin (again, &o);
  g_assert_true (o.from_cache);
  g_assert_null (o.cache_problem);
  same_clip (clip, again);
  remove_dir (dir);
}

/* A cache directory that cannot be made (a file stands in its way): the
 * clip is made all the same, and the origin says why it was not kept. */
static void
test_unwritable (void)
{
  g_autofree char *dir = temp_dir ();
  g_autofree char *blocker = g_build_filename (dir, "file", NULL);
  g_autofree char *cache = g_build_filename (blocker, "cache", NULL);
  RtsClipSpec spec = small_spec (cache);
  g_autoptr (RtsClip) clip = NULL;
  RtsClipOrigin o;

  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  clip = make (&spec);
  rts_clip_get_origin (clip, &o);
  g_test_message ("%s", o.cache_problem);
  g_assert_false (o.from_cache);
  g_assert_false (o.saved);
  g_assert_nonnull (o.cache_problem);
  g_assert_nonnull (strstr (o.cache_problem, cache));
  g_assert_cmpuint (rts_clip_n_frames (clip), ==, 20);
  remove_dir (dir);
}

/* The file's name changes with every setting that changes the clip's
 * bytes, and with nothing else; no cache directory, or a file's clip, has
 * none. */
static void
test_key (void)
{
  RtsClipSpec base = small_spec ("/cache");
  g_autofree char *base_file = rts_clip_cache_file (&base);
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  RtsClipSpec variants[12];
  guint n = 0;

  g_assert_nonnull (base_file);
  g_assert_true (g_str_has_prefix (base_file, "/cache/h264-160x120-30fps-"));
  g_assert_true (g_str_has_suffix (base_file, ".clip"));
  {
    /* The same spec from other strings: the same file. */
    RtsClipSpec same = base;
    g_autofree char *file = NULL;
    same.text = g_strdup ("cam1");
    file = rts_clip_cache_file (&same);
    g_assert_cmpstr (file, ==, base_file);
    g_free ((char *) same.text);
  }

  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    variants[i] = base;
  variants[n++].codec = "h265";
  variants[n++].profile = "main";
  variants[n++].width = 176;
  variants[n++].height = 144;
  variants[n++].fps = 25;
  variants[n++].gop = 5;
  variants[n++].bitrate = 300;
  variants[n++].pattern = "snow";
  variants[n++].text = "cam2";
  variants[n++].audio = "aac";
  variants[n++].seconds = 1;
  variants[n++].text = NULL;
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (variants));

  g_ptr_array_add (seen, g_strdup (base_file));
  for (guint i = 0; i < n; i++) {
    g_autofree char *file = rts_clip_cache_file (&variants[i]);
    g_assert_nonnull (file);
    for (guint j = 0; j < seen->len; j++) {
      if (g_str_equal (file, g_ptr_array_index (seen, j)))
        g_error ("variant %u has the file of an earlier one: %s", i, file);
    }
    g_ptr_array_add (seen, g_steal_pointer (&file));
  }

  {
    /* Seconds that round up to the same whole GOPs make the same clip. */
    RtsClipSpec rounded = base;
    g_autofree char *file = NULL;
    rounded.seconds = 0.6; /* 18 frames: 2 GOPs of 10, as 0.5 s */
    file = rts_clip_cache_file (&rounded);
    g_assert_cmpstr (file, ==, base_file);
  }
  {
    RtsClipSpec off = base, empty = base, file_clip = base, bad = base;
    off.cache_dir = NULL;
    empty.cache_dir = "";
    file_clip.file = "/videos/a.mp4";
    bad.fps = 0;
    g_assert_null (rts_clip_cache_file (&off));
    g_assert_null (rts_clip_cache_file (&empty));
    g_assert_null (rts_clip_cache_file (&file_clip));
    g_assert_null (rts_clip_cache_file (&bad));
  }
}

/* The reader on its own: a file of another key is refused, a missing one
 * is "not found" (nothing to warn about). */
static void
test_read_errors (void)
{
  g_autofree char *dir = temp_dir ();
  RtsClipSpec spec = small_spec (dir);
  g_autofree char *file = rts_clip_cache_file (&spec);
  g_autofree char *missing = g_build_filename (dir, "missing.clip", NULL);
  g_autofree char *key = rts_clip_cache_key ("another clip");
  g_autoptr (RtsClip) clip = make (&spec);
  g_autoptr (GError) error = NULL;

  /* The clip is made for its cache file, read below under another key. */
  g_assert_nonnull (clip);
  g_assert_null (rts_clip_cache_read (missing, key, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (rts_clip_cache_read (file, key, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "key"));
  g_assert_nonnull (strstr (error->message, file));
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  static const char *const codecs[][2] = {
    { "h264", NULL },
    { "h265", "opus" },
    { "mjpeg", "aac" },
    { "h264", "pcmu" },
  };

  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (codecs); i++) {
    g_autofree char *path = g_strdup_printf ("/clip-cache/round-trip/%s-%s",
        codecs[i][0], codecs[i][1] ? codecs[i][1] : "none");
    g_test_add_data_func (path, codecs[i], test_round_trip);
  }
  g_test_add_data_func ("/clip-cache/damaged/flipped-byte",
      GINT_TO_POINTER (DAMAGE_FLIP), test_damaged);
  g_test_add_data_func ("/clip-cache/damaged/truncated",
      GINT_TO_POINTER (DAMAGE_TRUNCATE), test_damaged);
  g_test_add_data_func ("/clip-cache/damaged/empty",
      GINT_TO_POINTER (DAMAGE_EMPTY), test_damaged);
  g_test_add_data_func ("/clip-cache/damaged/garbage",
      GINT_TO_POINTER (DAMAGE_GARBAGE), test_damaged);
  g_test_add_data_func ("/clip-cache/damaged/another-clip",
      GINT_TO_POINTER (DAMAGE_FOREIGN), test_damaged);
  g_test_add_func ("/clip-cache/unwritable", test_unwritable);
  g_test_add_func ("/clip-cache/key", test_key);
  g_test_add_func ("/clip-cache/read-errors", test_read_errors);
  return g_test_run ();
}
