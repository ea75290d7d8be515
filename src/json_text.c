/* json_text: see json_text.h. */
#include "json_text.h"

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
