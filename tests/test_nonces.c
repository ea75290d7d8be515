/* nonces: the Digest nonces made, and which nonces and counts a request
 * may use. */
#include "nonces.h"

#include <string.h>

#define S G_USEC_PER_SEC

/* Each nonce is new: 32 hex digits, never the same twice (libsoup's were
 * the same for clients a second apart, and the second client was then
 * refused the counts the first had used). */
static void
test_fresh (void)
{
  RtsNonces *n = rts_nonces_new (4096, 10 * S);
  g_autoptr (GHashTable) seen =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 2000; i++) {
    char *nonce = rts_nonces_issue (n, 0);
    g_assert_cmpuint (strlen (nonce), ==, 32);
    g_assert_cmpuint (strspn (nonce, "0123456789abcdef"), ==, 32);
    g_assert_true (g_hash_table_add (seen, nonce));
    /* Each one's counts are its own. */
    g_assert_cmpint (rts_nonces_use (n, nonce, "00000001", 0), ==,
        RTS_NONCE_OK);
  }
  g_assert_cmpuint (rts_nonces_count (n), ==, 2000);
  rts_nonces_free (n);
}

static void
test_issued_only (void)
{
  RtsNonces *n = rts_nonces_new (8, 10 * S);
  g_autofree char *a = rts_nonces_issue (n, 0);
  g_autofree char *upper = g_ascii_strup (a, -1);

  g_assert_cmpint (rts_nonces_use (n, "never-given", "00000001", 0), ==,
      RTS_NONCE_UNKNOWN);
  g_assert_cmpint (rts_nonces_use (n, NULL, "00000001", 0), ==,
      RTS_NONCE_UNKNOWN);
  g_assert_cmpint (rts_nonces_use (n, a, "00000001", 1), ==, RTS_NONCE_OK);
  /* A nonce that differs by case is another nonce. */
  g_assert_cmpint (rts_nonces_use (n, upper, "00000002", 1), ==,
      RTS_NONCE_UNKNOWN);
  g_assert_cmpint (rts_nonces_use (n, a, "00000002", 10 * S), ==,
      RTS_NONCE_EXPIRED);
  rts_nonces_free (n);
}

static void
test_counts (void)
{
  RtsNonces *n = rts_nonces_new (8, 10 * S);
  g_autofree char *a = rts_nonces_issue (n, 0);
  g_autofree char *b = rts_nonces_issue (n, 0);

  g_assert_cmpint (rts_nonces_use (n, a, "00000001", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "00000001", 0), ==, RTS_NONCE_REPLAY);
  /* Out of order, as a browser's parallel requests arrive: each once. */
  g_assert_cmpint (rts_nonces_use (n, a, "00000005", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "00000003", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "00000003", 0), ==, RTS_NONCE_REPLAY);
  g_assert_cmpint (rts_nonces_use (n, a, "00000005", 0), ==, RTS_NONCE_REPLAY);
  g_assert_cmpint (rts_nonces_use (n, a, "00000004", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "00000002", 0), ==, RTS_NONCE_OK);
  /* 64 counts are remembered below the highest; older ones are refused. */
  g_assert_cmpint (rts_nonces_use (n, a, "00000045", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "00000006", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "00000005", 0), ==, RTS_NONCE_REPLAY);
  /* A jump beyond the window forgets it all, and is itself used. */
  g_assert_cmpint (rts_nonces_use (n, a, "0000ffff", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "0000FFFF", 0), ==, RTS_NONCE_REPLAY);
  g_assert_cmpint (rts_nonces_use (n, a, "0000fffe", 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, a, "ffffffff", 0), ==, RTS_NONCE_OK);
  /* Not 8 hex digits, or zero. */
  {
    const char *bad[] = { "1", "000000001", "0000000g", "-0000001", "00000000",
      "", " 0000001" };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      g_assert_cmpint (rts_nonces_use (n, a, bad[i], 0), ==, RTS_NONCE_BAD_NC);
  }
  /* Without a count (RFC 2069): the nonce once. */
  g_assert_cmpint (rts_nonces_use (n, b, NULL, 0), ==, RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, b, NULL, 0), ==, RTS_NONCE_REPLAY);
  rts_nonces_free (n);
}

static void
test_lifetime_and_room (void)
{
  RtsNonces *n = rts_nonces_new (3, 10 * S);
  g_autofree char *old = rts_nonces_issue (n, 0);
  g_autofree char *young = NULL;
  char *flood[1000];

  g_assert_cmpint (rts_nonces_use (n, old, "00000001", 10 * S - 1), ==,
      RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, old, "00000002", 10 * S), ==,
      RTS_NONCE_EXPIRED);
  /* The expired one leaves when another is given out. */
  young = rts_nonces_issue (n, 10 * S);
  g_assert_cmpuint (rts_nonces_count (n), ==, 1);
  g_assert_cmpint (rts_nonces_use (n, old, "00000003", 10 * S), ==,
      RTS_NONCE_UNKNOWN);
  /* A flood of challenges: the oldest make room, the table stays small. */
  for (guint i = 0; i < G_N_ELEMENTS (flood); i++)
    flood[i] = rts_nonces_issue (n, 11 * S);
  g_assert_cmpuint (rts_nonces_count (n), ==, 3);
  g_assert_cmpint (rts_nonces_use (n, young, "00000001", 11 * S), ==,
      RTS_NONCE_UNKNOWN);
  g_assert_cmpint (rts_nonces_use (n, flood[999], "00000001", 11 * S), ==,
      RTS_NONCE_OK);
  g_assert_cmpint (rts_nonces_use (n, flood[996], "00000001", 11 * S), ==,
      RTS_NONCE_UNKNOWN);
  for (guint i = 0; i < G_N_ELEMENTS (flood); i++)
    g_free (flood[i]);
  rts_nonces_free (n);
  rts_nonces_free (NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nonces/fresh", test_fresh);
  g_test_add_func ("/nonces/issued-only", test_issued_only);
  g_test_add_func ("/nonces/counts", test_counts);
  g_test_add_func ("/nonces/lifetime-and-room", test_lifetime_and_room);
  return g_test_run ();
}
