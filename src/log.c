/* log: see log.h. */
#include "log.h"

#include "json_text.h"

#include <stdio.h>
#include <string.h>

/* The libraries' warnings (GStreamer, GLib, GIO), unlike our own events,
 * can come once per client: each GStreamer UDP reader of a live camera
 * brings eight "Sticky event misordering" lines. They share one limit. */
static RtsLogLimit library_limit;

static GLogWriterOutput
write_glib_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
    gpointer user_data)
{
  const char *message = NULL;
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++) {
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
    else if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  }
  /* Debug chatter stays out unless G_MESSAGES_DEBUG asks for it, as GLib's
   * default writer does. */
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;

  const char *lvl = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
      ? "error"
      : (level & G_LOG_LEVEL_WARNING) ? "warn"
                                      : "info";
  g_autofree char *line = g_strdup_printf ("%s%s%s", domain ? domain : "",
      domain ? ": " : "", message ? message : "");

  if (g_strcmp0 (domain, G_LOG_DOMAIN) != 0 && !(level & G_LOG_LEVEL_ERROR))
    rts_log_limited (&library_limit, lvl, "%s", line);
  else
    rts_log_event (lvl, "%s", line);
  return G_LOG_WRITER_HANDLED;
}

void
rts_log_init (void)
{
  /* Logs go to a pipe under Docker and ECS: flush each line as it is
   * written so a crash never loses the last events. */
  setvbuf (stderr, NULL, _IOLBF, 0);
  g_log_set_writer_func (write_glib_log, NULL, NULL);
}

static gboolean log_json;

void
rts_log_set_json (gboolean json)
{
  log_json = json;
}

void
rts_log_event (const char *level, const char *fmt, ...)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *second = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");
  g_autofree char *stamp = g_strdup_printf ("%s.%03dZ", second,
      g_date_time_get_microsecond (now) / 1000);
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, fmt);
  text = g_strdup_vprintf (fmt, args);
  va_end (args);

  if (log_json) {
    g_autoptr (GString) line = g_string_new ("{\"time\":");
    rts_json_append_string (line, stamp);
    g_string_append (line, ",\"level\":");
    rts_json_append_string (line, level);
    g_string_append (line, ",\"msg\":");
    rts_json_append_string (line, text);
    g_string_append (line, "}\n");
    fputs (line->str, stderr);
    return;
  }
  /* Newlines inside a message would split one event across lines. */
  g_strdelimit (text, "\r\n", ' ');
  fprintf (stderr, "%s %-5s %s\n", stamp, level, text);
}

gboolean
rts_log_limit (RtsLogLimit *limit, gint64 now_us, guint64 *held)
{
  static GMutex lock;
  gboolean pass;

  g_mutex_lock (&lock);
  /* The generic cell rate algorithm: each line that goes moves DUE a
   * second on from now or from where it was, whichever is later; a line
   * goes while DUE is under a burst's worth of seconds ahead. */
  pass = limit->due_us
      <= now_us + (gint64) (RTS_LOG_LIMIT_BURST - 1) * G_USEC_PER_SEC;
  if (pass) {
    *held = limit->held;
    limit->held = 0;
    limit->due_us = MAX (limit->due_us, now_us) + G_USEC_PER_SEC;
  } else {
    limit->held++;
  }
  g_mutex_unlock (&lock);
  return pass;
}

void
rts_log_limited (RtsLogLimit *limit, const char *level, const char *fmt, ...)
{
  guint64 held = 0;
  g_autofree char *text = NULL;
  va_list args;

  if (!rts_log_limit (limit, g_get_monotonic_time (), &held))
    return;
  va_start (args, fmt);
  text = g_strdup_vprintf (fmt, args);
  va_end (args);
  if (held)
    rts_log_event (level,
        "%s (and %" G_GUINT64_FORMAT " more like it since the last such "
        "line, not logged: after ten in a row, one a second)",
        text, held);
  else
    rts_log_event (level, "%s", text);
}

/* One character of valid UTF-8 at C, as rts_log_quote writes it. */
static void
quote_char (GString *out, const char *c)
{
  gunichar u = g_utf8_get_char (c);
  GUnicodeType t = g_unichar_type (u);

  if (u == '\\' || u == '\'') {
    g_string_append_c (out, '\\');
    g_string_append_c (out, (char) u);
  } else if (u == '\n') {
    g_string_append (out, "\\n");
  } else if (u == '\r') {
    g_string_append (out, "\\r");
  } else if (u == '\t') {
    g_string_append (out, "\\t");
  } else if (u < 0x20 || u == 0x7f) {
    g_string_append_printf (out, "\\%03o", u);
  } else if (u >= 0x80
      && (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT
          || t == G_UNICODE_LINE_SEPARATOR
          || t == G_UNICODE_PARAGRAPH_SEPARATOR)) {
    g_string_append_printf (out, "\\u%04X", u);
  } else {
    g_string_append_len (out, c, g_utf8_next_char (c) - c);
  }
}

char *
rts_log_quote (const char *text, guint max_chars)
{
  GString *out = g_string_new (NULL);
  const char *c = text;
  guint n = 0;

  /* Character by character, up to MAX_CHARS of them: a value can be
   * megabytes, and each wrong password is quoted before the log limit
   * decides whether its line goes. */
  for (; *c && n < max_chars; n++) {
    gsize len = g_utf8_skip[*(const guchar *) c];

    if (strnlen (c, len) == len && g_utf8_validate (c, (gssize) len, NULL)) {
      quote_char (out, c);
      c += len;
    } else {
      /* A byte that is not UTF-8: as the JSON log writes it. */
      g_string_append_printf (out, "\\x%02x", *(const guchar *) c);
      c++;
    }
  }
  if (*c)
    g_string_append_printf (out, "... (%zu bytes)", strlen (text));
  return g_string_free (out, FALSE);
}
