/* clipmake: see clipmake.h. */
#include "clipmake.h"

typedef struct {
  GMainLoop *loop;
  RtsClip *clip;
  GError *error;
} Made;

static void
on_made (GObject *source, GAsyncResult *res, gpointer data)
{
  Made *made = data;
  made->clip = rts_clip_make_finish (res, &made->error);
  g_main_loop_quit (made->loop);
}

RtsClip *
ts_clip_make (const RtsClipSpec *spec, GError **error)
{
  Made made = { g_main_loop_new (NULL, FALSE), NULL, NULL };

  rts_clip_make_async (spec, NULL, on_made, &made);
  g_main_loop_run (made.loop);
  g_main_loop_unref (made.loop);
  if (made.error)
    g_propagate_error (error, made.error);
  return made.clip;
}
