/* json_text: strings, numbers and documents as JSON text. */
#include "json_text.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

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

/* NODE's document written by W's calls, as a handler would write it: the
 * writer's text is checked against json-glib's own of the same tree. */
static void
write_node (RtsJsonWriter *w, JsonNode *node)
{
  switch (json_node_get_node_type (node)) {
    case JSON_NODE_OBJECT: {
      JsonObjectIter it;
      const char *name;
      JsonNode *member;

      rts_json_begin_object (w);
      json_object_iter_init_ordered (&it, json_node_get_object (node));
      while (json_object_iter_next_ordered (&it, &name, &member)) {
        rts_json_member (w, name);
        write_node (w, member);
      }
      rts_json_end_object (w);
      break;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *a = json_node_get_array (node);

      rts_json_begin_array (w);
      for (guint i = 0; i < json_array_get_length (a); i++)
        write_node (w, json_array_get_element (a, i));
      rts_json_end_array (w);
      break;
    }
    case JSON_NODE_NULL:
      rts_json_null (w);
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node)) {
        case G_TYPE_INT64:
          rts_json_int (w, json_node_get_int (node));
          break;
        case G_TYPE_BOOLEAN:
          rts_json_bool (w, json_node_get_boolean (node));
          break;
        case G_TYPE_STRING:
          rts_json_string (w, json_node_get_string (node));
          break;
        default:
          rts_json_double (w, json_node_get_double (node));
      }
      break;
  }
}

/* Numbers read back as the same double in the fewest digits; a whole
 * double ends ".0"; strings that look like numbers are left alone. */
static void
test_numbers (void)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  double values[] = { 2.67, 0.218314, 1796585324.5240901, 0.1 + 0.2, 1e-7, -3.5,
    4, 1e300, 123456789.123456789 };
  RtsJsonWriter *w = rts_json_writer_new ();
  g_autofree char *text = NULL;

  g_assert_cmpstr (rts_json_format_number (buf, 2.67), ==, "2.67");
  g_assert_cmpstr (rts_json_format_number (buf, 1796585324.5240901), ==,
      "1796585324.52409");
  g_assert_cmpstr (rts_json_format_number (buf, 0.1 + 0.2), ==,
      "0.30000000000000004");
  g_assert_cmpstr (rts_json_format_number (buf, 7), ==, "7");
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_assert_cmpfloat (g_ascii_strtod (rts_json_format_number (buf, values[i]),
                           NULL),
        ==, values[i]);

  rts_json_begin_object (w);
  rts_json_member (w, "latency_ms");
  rts_json_double (w, 2.67);
  rts_json_member (w, "2.6699999999999999");
  rts_json_string (w, "x\\\"0.1000000000000000055\"");
  rts_json_member (w, "list");
  rts_json_begin_array (w);
  rts_json_double (w, -0.5);
  rts_json_int (w, 12345678901234);
  rts_json_double (w, 1e-7);
  rts_json_double (w, 4);
  /* JSON has no NaN or infinity: null (they were "nan", invalid). */
  rts_json_double (w, NAN);
  rts_json_double (w, -INFINITY);
  rts_json_end_array (w);
  rts_json_end_object (w);
  text = rts_json_writer_finish (w);
  g_assert_cmpstr (text, ==,
      "{\"latency_ms\":2.67,\"2.6699999999999999\":"
      "\"x\\\\\\\"0.1000000000000000055\\\"\","
      "\"list\":[-0.5,12345678901234,1e-07,4.0,null,null]}");
}

/* The digits "%.15g" to "%.17g" give, the fewest that read back: what
 * rts_json_format_number printed for every value before it printed whole
 * millionths from an integer, and must print still. */
static const char *
fewest_digits (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v)
{
  for (int digits = 15; digits <= 17; digits++) {
    char format[8];

    g_snprintf (format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, format, v);
    if (g_ascii_strtod (buf, NULL) == v)
      break;
  }
  return buf;
}

static void
test_numbers_millionths (void)
{
  char fast[G_ASCII_DTOSTR_BUF_SIZE], slow[G_ASCII_DTOSTR_BUF_SIZE];
  double edges[] = { 1e-4, 0.000123, 0.9999995, 1.000001, 8589934591.999999,
    8589934592.0, 4294967295.5, 1796638685.875362, 1796638685.87536, -0.000101,
    -12.5, 0.0, 3e-5, 9.99999e-5, 1e9 };
  g_autoptr (GRand) r = g_rand_new_with_seed (6);

  for (guint i = 0; i < G_N_ELEMENTS (edges); i++)
    g_assert_cmpstr (rts_json_format_number (fast, edges[i]), ==,
        fewest_digits (slow, edges[i]));
  for (int i = 0; i < 200000; i++) {
    /* Whole millionths of every size up to 2^34, and doubles of any kind. */
    double m = (double) (g_rand_int (r) % 35);
    gint64 k = (gint64) (g_rand_double (r) * exp2 (m) * 1e6);
    double v = (i % 2 ? (double) k / 1e6 : g_rand_double (r) * exp2 (m));

    if (i % 3 == 0)
      v = -v;
    g_assert_cmpstr (rts_json_format_number (fast, v), ==,
        fewest_digits (slow, v));
  }
}

/* A document as json-glib writes the same tree: commas between members
 * and elements and none before a container's first, at every depth, empty
 * containers, members' order kept; strings the same except U+001F, which
 * json-glib leaves bare, and bytes that are not UTF-8, which it copied
 * (invalid JSON) and are written as the text \\xNN. */
static void
test_writer_as_json_glib (void)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GString *all = g_string_new (NULL);
  GString *expect = g_string_new (NULL);
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *ours = NULL, *theirs = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  RtsJsonWriter *w = rts_json_writer_new ();
  JsonObject *o;

  for (int c = 1; c < 256; c++)
    g_string_append_c (all, (char) c);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "z \"quoted\"\n");
  json_builder_add_string_value (b, "caf\xc3\xa9 \xe2\x80\xa8 \\ \x7f");
  json_builder_set_member_name (b, "a");
  json_builder_begin_array (b);
  json_builder_add_boolean_value (b, TRUE);
  json_builder_add_boolean_value (b, FALSE);
  json_builder_add_null_value (b);
  json_builder_add_int_value (b, G_MININT64);
  json_builder_begin_object (b);
  json_builder_end_object (b);
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "x");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, 1);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "y");
  json_builder_add_int_value (b, 2);
  json_builder_set_member_name (b, "z");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_add_int_value (b, 3);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "after");
  json_builder_add_string_value (b, NULL);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "all");
  json_builder_add_string_value (b, all->str);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  write_node (w, root);
  ours = rts_json_writer_finish (w);
  theirs = json_to_string (root, FALSE);
  {
    /* json-glib's text, its bare U+001F escaped and each byte from 0x80
     * on (none of them UTF-8 in this order) written as \\xNN. */
    g_auto (GStrv) parts = g_strsplit (theirs, "\x1f", -1);
    g_autofree char *fixed = g_strjoinv ("\\u001f", parts);
    char *high = strstr (fixed, "~\\u007f\x80");

    g_assert_nonnull (high);
    high += strlen ("~\\u007f");
    g_string_append_len (expect, fixed, high - fixed);
    for (int c = 0x80; c < 256; c++)
      g_string_append_printf (expect, "\\\\x%02x", c);
    g_string_append (expect, high + 128);
    g_assert_cmpstr (ours, ==, expect->str);
  }
  g_assert_nonnull (strstr (ours,
      "[true,false,null,-9223372036854775808,{},[],"
      "{\"x\":[1,{\"y\":2,\"z\":[]},3],\"after\":null}]"));
  /* Valid JSON throughout, and UTF-8 text reads back as it was. */
  g_assert_true (json_parser_load_from_data (parser, ours, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (
      g_str_has_prefix (json_object_get_string_member (o, "all"), "\x01\x02"));
  g_assert_true (
      g_str_has_suffix (json_object_get_string_member (o, "all"), "\\xff"));
  g_string_truncate (all, 127);
  g_assert_true (
      g_str_has_prefix (json_object_get_string_member (o, "all"), all->str));
  g_assert_cmpstr (json_object_get_string_member (o, "z \"quoted\"\n"), ==,
      "caf\xc3\xa9 \xe2\x80\xa8 \\ \x7f");
  g_string_free (all, TRUE);
  g_string_free (expect, TRUE);
}

/* A lone value is a document too; a writer dropped unfinished frees
 * what it wrote (ASan's leak check sees it). */
static void
test_writer_scalars (void)
{
  RtsJsonWriter *w[5];
  const char *expect[G_N_ELEMENTS (w)] = { "null", "\"a\"", "-7", "0.5",
    "true" };
  g_autoptr (RtsJsonWriter) dropped = rts_json_writer_new ();

  for (guint i = 0; i < G_N_ELEMENTS (w); i++)
    w[i] = rts_json_writer_new ();
  rts_json_null (w[0]);
  rts_json_string (w[1], "a");
  rts_json_int (w[2], -7);
  rts_json_double (w[3], 0.5);
  rts_json_bool (w[4], TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (w); i++) {
    g_autofree char *text = rts_json_writer_finish (w[i]);

    g_assert_cmpstr (text, ==, expect[i]);
  }
  rts_json_begin_object (dropped);
  rts_json_member (dropped, "open");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json_text/escapes", test_escapes);
  g_test_add_func ("/json_text/not-utf8", test_not_utf8);
  g_test_add_func ("/json_text/round-trip", test_round_trip);
  g_test_add_func ("/json_text/numbers", test_numbers);
  g_test_add_func ("/json_text/numbers-millionths", test_numbers_millionths);
  g_test_add_func ("/json_text/writer-as-json-glib", test_writer_as_json_glib);
  g_test_add_func ("/json_text/writer-scalars", test_writer_scalars);
  return g_test_run ();
}
