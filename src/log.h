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

/* TEXT as a log line or a message quotes it, meant for inside '...':
 * backslash, ' and controls escaped (\\, \', \n, \r, \t, octal \NNN);
 * in UTF-8, C1 controls, line and paragraph separators and the invisible
 * format characters, direction overrides among them, as \uXXXX (shown as
 * they are, they would split or reorder the line); a byte that is not
 * UTF-8 as \xNN. At most MAX_CHARS characters, then "... (N bytes)" (a
 * value can be kilobytes, and a person reads the line). */
char *rts_log_quote (const char *text, guint max_chars);

/* One event line: "2026-11-25T12:00:00.123Z info  camera cam1 ready ...". */
void
rts_log_event (const char *level, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

#define rts_info(...) rts_log_event ("info", __VA_ARGS__)
#define rts_warn(...) rts_log_event ("warn", __VA_ARGS__)
#define rts_error(...) rts_log_event ("error", __VA_ARGS__)

/* Lines a client can cause at will (each wrong password, each refused
 * request): ten in a row go, then one a second, so that a flood neither
 * drowns the log nor fills a collector's quota while a few mistakes are
 * each seen; the line that goes after some were held back says how many.
 * Zero-initialised. */
typedef struct {
  gint64 due_us; /* monotonic: when the burst is whole again (GCRA) */
  guint64 held;  /* lines held back since the last that went */
} RtsLogLimit;

#define RTS_LOG_LIMIT_BURST 10

/* TRUE if a line may go at NOW_US (monotonic), with *HELD set to the lines
 * held back before it; FALSE (counted) if it must not. Any thread. */
gboolean rts_log_limit (RtsLogLimit *limit, gint64 now_us, guint64 *held);

/* rts_log_event() through LIMIT at the monotonic time now: a line that
 * goes after others were held back says how many. */
void rts_log_limited (RtsLogLimit *limit, const char *level, const char *fmt,
    ...) G_GNUC_PRINTF (3, 4);

#define rts_warn_limited(limit, ...)                                           \
  rts_log_limited ((limit), "warn", __VA_ARGS__)
#define rts_info_limited(limit, ...)                                           \
  rts_log_limited ((limit), "info", __VA_ARGS__)
