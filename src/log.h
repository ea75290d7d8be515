/* log: one line per event on stderr.
 *
 * Owns the log format. Events are what an operator reads (start, URLs, readers,
 * health transitions); GLib's own warnings go through the same writer so the
 * stream stays one line per event. */
#pragma once

#include <glib.h>

void rts_log_init (void);

/* "text" (default) or "json": one JSON object per line, for CloudWatch and
 * other collectors: {"time":..., "level":..., "msg":...}. */
void rts_log_set_json (gboolean json);

/* One event line: "2026-11-25T12:00:00.123Z info  camera cam1 ready ...". */
void
rts_log_event (const char *level, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

#define rts_info(...) rts_log_event ("info", __VA_ARGS__)
#define rts_warn(...) rts_log_event ("warn", __VA_ARGS__)
#define rts_error(...) rts_log_event ("error", __VA_ARGS__)
