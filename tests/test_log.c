/* log: the limit on lines a client can cause at will. */
#include "log.h"

#include <string.h>

#define S G_USEC_PER_SEC

/* Ten lines in a row go; then one a second, each saying how many were
 * held back before it. */
static void
test_limit_burst_then_rate (void)
{
  RtsLogLimit limit = { 0 };
  gint64 t = 1000 * S;
  guint64 held = 99;

  for (guint i = 0; i < RTS_LOG_LIMIT_BURST; i++) {
    g_assert_true (rts_log_limit (&limit, t, &held));
    g_assert_cmpuint (held, ==, 0);
  }
  for (guint i = 0; i < 25; i++)
    g_assert_false (rts_log_limit (&limit, t + i * 1000, &held));
  g_assert_false (rts_log_limit (&limit, t + S - 1, &held));
  g_assert_true (rts_log_limit (&limit, t + S, &held));
  g_assert_cmpuint (held, ==, 26);
  g_assert_false (rts_log_limit (&limit, t + S, &held));
  g_assert_true (rts_log_limit (&limit, t + 2 * S, &held));
  g_assert_cmpuint (held, ==, 1);
  /* Silence lets the burst fill again, a second a line, no more than
   * ten. */
  t += 100 * S;
  for (guint i = 0; i < RTS_LOG_LIMIT_BURST; i++)
    g_assert_true (rts_log_limit (&limit, t, &held));
  g_assert_false (rts_log_limit (&limit, t, &held));
}

/* A line a second or fewer never waits, however long it goes on. */
static void
test_limit_steady (void)
{
  RtsLogLimit limit = { 0 };
  guint64 held;

  for (gint64 i = 0; i < 1000; i++) {
    g_assert_true (rts_log_limit (&limit, 5 * S + i * S, &held));
    g_assert_cmpuint (held, ==, 0);
  }
}

/* Each limiter counts for itself: one flood holds back no other line. */
static void
test_limit_separate (void)
{
  RtsLogLimit a = { 0 }, b = { 0 };
  guint64 held;

  for (guint i = 0; i < 50; i++)
    rts_log_limit (&a, S, &held);
  g_assert_false (rts_log_limit (&a, S, &held));
  g_assert_true (rts_log_limit (&b, S, &held));
  g_assert_cmpuint (held, ==, 0);
}

/* A library's warnings go through a limit (a GStreamer UDP reader of a
 * live camera brought eight lines each); our own events never do. */
static void
test_library_warnings (void)
{
  if (g_test_subprocess ()) {
    g_log_set_always_fatal (G_LOG_FATAL_MASK);
    rts_log_init ();
    for (guint i = 0; i < 30; i++)
      g_log ("GStreamer", G_LOG_LEVEL_WARNING, "sticky %u", i);
    for (guint i = 0; i < 30; i++)
      g_log (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "ours %u", i);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*GStreamer: sticky 9\n*");
  g_test_trap_assert_stderr_unmatched ("*sticky 10*");
  g_test_trap_assert_stderr ("*ours 29\n*");
}

/* Text quoted for a line: nothing in it can end, forge or reorder the
 * line; UTF-8 is kept; the cut counts characters of the text, never
 * splitting an escape. */
static void
test_quote (void)
{
  struct {
    const char *in;
    guint max;
    const char *out;
  } cases[] = {
    { "plain", 100, "plain" },
    { "caf\xc3\xa9 \xf0\x9f\x98\x80", 100, "caf\xc3\xa9 \xf0\x9f\x98\x80" },
    { "x') from 10.0.0.1 (user 'y", 100, "x\\') from 10.0.0.1 (user \\'y" },
    { "a\\b\"c", 100, "a\\\\b\"c" },
    { "l1\nl2\r\t\x01\x7f", 100, "l1\\nl2\\r\\t\\001\\177" },
    { "\xe2\x80\xae \xe2\x80\xa8 \xc2\x85", 100, "\\u202E \\u2028 \\u0085" },
    /* One bad byte leaves the rest as it is. */
    { "\xc3\xa9\xff\xc3\xa9\xc3", 100, "\xc3\xa9\\xff\xc3\xa9\\xc3" },
    { "abcdef", 3, "abc... (6 bytes)" },
    { "ab\xe2\x80\xae"
      "cd",
        3, "ab\\u202E... (7 bytes)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *q = rts_log_quote (cases[i].in, cases[i].max);
    g_assert_cmpstr (q, ==, cases[i].out);
  }
  {
    /* A megabyte is not escaped whole to keep 64 characters of it. */
    g_autofree char *big = g_strnfill (1 << 20, '\'');
    g_autofree char *q = rts_log_quote (big, 64);
    g_assert_cmpuint (strlen (q), ==, 2 * 64 + strlen ("... (1048576 bytes)"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/log/limit-burst-then-rate", test_limit_burst_then_rate);
  g_test_add_func ("/log/limit-steady", test_limit_steady);
  g_test_add_func ("/log/limit-separate", test_limit_separate);
  g_test_add_func ("/log/library-warnings", test_library_warnings);
  g_test_add_func ("/log/quote", test_quote);
  return g_test_run ();
}
