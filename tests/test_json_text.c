/* json_text: strings as JSON text. */
#include "json_text.h"

#include <json-glib/json-glib.h>

static char *
quoted (const char *text)
{
  GString *out = g_string_new (NULL);

  rts_json_append_string (out, text);
  return g_string_free (out, FALSE);
}

/* JSON's short escapes where it has them, \u00XX for the other controls
 * and DEL; UTF-8 copied. */
static void
test_escapes (void)
{
  struct {
    const char *in, *out;
  } cases[] = {
    { "", "\"\"" },
    { "plain", "\"plain\"" },
    { "\"\\", "\"\\\"\\\\\"" },
    { "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"" },
    { "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
    { "caf\xc3\xa9 \xe2\x80\xa8", "\"caf\xc3\xa9 \xe2\x80\xa8\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *q = quoted (cases[i].in);
    g_assert_cmpstr (q, ==, cases[i].out);
  }
}

/* A byte that is not UTF-8 becomes the text \xNN, wherever it is, and
 * the result is valid JSON. */
static void
test_not_utf8 (void)
{
  g_autofree char *q = quoted ("\xff"
                               "a\xc3"
                               "b\"\xe2\x80");
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_cmpstr (q, ==, "\"\\\\xffa\\\\xc3b\\\"\\\\xe2\\\\x80\"");
  g_assert_true (json_parser_load_from_data (parser, q, -1, NULL));
  g_assert_cmpstr (json_node_get_string (json_parser_get_root (parser)), ==,
      "\\xffa\\xc3b\"\\xe2\\x80");
}

/* Every character below U+0800 and a few beyond read back as they were. */
static void
test_round_trip (void)
{
  GString *text = g_string_new (NULL);
  g_autofree char *q = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gunichar extra[] = { 0x2028, 0xfeff, 0x1f600 };

  for (gunichar c = 1; c < 0x800; c++)
    g_string_append_unichar (text, c);
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    g_string_append_unichar (text, extra[i]);
  q = quoted (text->str);
  g_assert_true (json_parser_load_from_data (parser, q, -1, NULL));
  g_assert_cmpstr (json_node_get_string (json_parser_get_root (parser)), ==,
      text->str);
  g_string_free (text, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json_text/escapes", test_escapes);
  g_test_add_func ("/json_text/not-utf8", test_not_utf8);
  g_test_add_func ("/json_text/round-trip", test_round_trip);
  return g_test_run ();
}
