/* json_text: see json_text.h. */
#include "json_text.h"

#include <math.h>
#include <string.h>

/* The bytes from START to END, valid UTF-8. */
static void
append_run (GString *out, const char *start, const char *end)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = start;

  for (const char *s = start; s < end; s++) {
    unsigned char c = (unsigned char) *s;
    const char *esc = NULL;

    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
      continue;
    g_string_append_len (out, run, s - run);
    run = s + 1;
    switch (c) {
      case '"':
        esc = "\\\"";
        break;
      case '\\':
        esc = "\\\\";
        break;
      case '\b':
        esc = "\\b";
        break;
      case '\f':
        esc = "\\f";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      case '\t':
        esc = "\\t";
        break;
      default:
        g_string_append (out, "\\u00");
        g_string_append_c (out, hex[c >> 4]);
        g_string_append_c (out, hex[c & 0xf]);
    }
    if (esc)
      g_string_append (out, esc);
  }
  g_string_append_len (out, run, end - run);
}

void
rts_json_append_string (GString *out, const char *text)
{
  const char *end;

  g_string_append_c (out, '"');
  while (!g_utf8_validate (text, -1, &end)) {
    append_run (out, text, end);
    g_string_append_printf (out, "\\\\x%02x", (guchar) *end);
    text = end + 1;
  }
  append_run (out, text, end);
  g_string_append_c (out, '"');
}

/* V from its whole number of millionths, when it is one: every time and
 * latency here is, and printing digits of an integer is a fraction of the
 * cost of printing a double and reading it back. While a millionth is
 * wider than the spacing of doubles around V (|V| < 2^33), this decimal is
 * the shortest that reads back as V, so it is what the search below finds;
 * from 1e-4, where "%g" would write an exponent, to 2^33. FALSE for
 * anything else. */
static gboolean
format_millionths (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v)
{
  double a = fabs (v);
  gint64 k, whole, frac;
  int len, digits = 6;

  if (!(a >= 1e-4 && a < 8589934592.0))
    return FALSE;
  k = llround (a * 1e6);
  if ((double) k / 1e6 != a)
    return FALSE;
  whole = k / 1000000;
  frac = k % 1000000;
  if (!frac)
    return g_snprintf (buf, G_ASCII_DTOSTR_BUF_SIZE, "%s%" G_GINT64_FORMAT,
               v < 0 ? "-" : "", whole)
        > 0;
  while (frac % 10 == 0) {
    frac /= 10;
    digits--;
  }
  len = g_snprintf (buf, G_ASCII_DTOSTR_BUF_SIZE,
      "%s%" G_GINT64_FORMAT ".%0*" G_GINT64_FORMAT, v < 0 ? "-" : "", whole,
      digits, frac);
  return len > 0;
}

const char *
rts_json_format_number (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v)
{
  if (format_millionths (buf, v))
    return buf;
  /* The fewest digits that read back as V: "%.17g" alone prints 2.67 as
   * 2.6699999999999999. */
  for (int digits = 15; digits <= 17; digits++) {
    char format[8];

    g_snprintf (format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, format, v);
    if (g_ascii_strtod (buf, NULL) == v)
      break;
  }
  return buf;
}

/* Deeper than any answer here nests (4): a container past it is refused
 * with a critical, and the text is no longer JSON. */
#define MAX_DEPTH 32

struct _RtsJsonWriter {
  GString *out;
  guint depth;
  /* Bit D: the container at depth D has a member or element already. */
  guint32 has_items;
  /* A member's name was written: its value takes no comma. */
  gboolean named;
};

RtsJsonWriter *
rts_json_writer_new (void)
{
  RtsJsonWriter *w = g_new0 (RtsJsonWriter, 1);

  w->out = g_string_sized_new (1024);
  return w;
}

void
rts_json_writer_free (RtsJsonWriter *w)
{
  if (!w)
    return;
  g_string_free (w->out, TRUE);
  g_free (w);
}

char *
rts_json_writer_finish (RtsJsonWriter *w)
{
  char *text;

  g_warn_if_fail (w->depth == 0);
  text = g_string_free (w->out, FALSE);
  g_free (w);
  return text;
}

/* The comma before an item of the open container, when it is not its
 * first and not the value of a member just named. */
static void
next_item (RtsJsonWriter *w)
{
  guint32 bit = 1u << w->depth;

  if (w->named) {
    w->named = FALSE;
    return;
  }
  if (w->depth > 0 && (w->has_items & bit))
    g_string_append_c (w->out, ',');
  w->has_items |= bit;
}

static void
begin (RtsJsonWriter *w, char open)
{
  g_return_if_fail (w->depth + 1 < MAX_DEPTH);
  next_item (w);
  g_string_append_c (w->out, open);
  w->depth++;
  w->has_items &= ~(1u << w->depth);
}

static void
end (RtsJsonWriter *w, char close)
{
  g_return_if_fail (w->depth > 0 && !w->named);
  w->depth--;
  g_string_append_c (w->out, close);
}

void
rts_json_begin_object (RtsJsonWriter *w)
{
  begin (w, '{');
}

void
rts_json_end_object (RtsJsonWriter *w)
{
  end (w, '}');
}

void
rts_json_begin_array (RtsJsonWriter *w)
{
  begin (w, '[');
}

void
rts_json_end_array (RtsJsonWriter *w)
{
  end (w, ']');
}

void
rts_json_member (RtsJsonWriter *w, const char *name)
{
  g_return_if_fail (w->depth > 0 && !w->named);
  next_item (w);
  rts_json_append_string (w->out, name);
  g_string_append_c (w->out, ':');
  w->named = TRUE;
}

void
rts_json_string (RtsJsonWriter *w, const char *value)
{
  next_item (w);
  if (value)
    rts_json_append_string (w->out, value);
  else
    g_string_append (w->out, "null");
}

void
rts_json_int (RtsJsonWriter *w, gint64 value)
{
  next_item (w);
  g_string_append_printf (w->out, "%" G_GINT64_FORMAT, value);
}

void
rts_json_double (RtsJsonWriter *w, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  const char *text;

  next_item (w);
  if (!isfinite (value)) {
    g_string_append (w->out, "null");
    return;
  }
  text = rts_json_format_number (buf, value);
  g_string_append (w->out, text);
  if (!text[strcspn (text, ".eEni")])
    g_string_append (w->out, ".0");
}

void
rts_json_bool (RtsJsonWriter *w, gboolean value)
{
  next_item (w);
  g_string_append (w->out, value ? "true" : "false");
}

void
rts_json_null (RtsJsonWriter *w)
{
  next_item (w);
  g_string_append (w->out, "null");
}
