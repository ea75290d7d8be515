/* clipmake: a clip made synchronously, for the clip and clip cache tests. */
#pragma once

#include "clip.h"

/* Runs rts_clip_make_async() on a loop of its own until it is done. */
RtsClip *ts_clip_make (const RtsClipSpec *spec, GError **error);
