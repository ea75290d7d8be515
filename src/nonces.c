/* nonces: see nonces.h. */
#include "nonces.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

typedef struct {
  char *nonce;
  gint64 expires_us;
  gint64 top;   /* the highest count used, -1 before any */
  guint64 seen; /* bit i: count top - i was used */
} Nonce;

struct _RtsNonces {
  GHashTable *by_nonce; /* nonce -> Nonce, owned by the queue */
  GQueue order;         /* Nonce, oldest first: one lifetime for all */
  guint max;
  gint64 lifetime_us;
};

static void
nonce_free (Nonce *e)
{
  g_free (e->nonce);
  g_free (e);
}

RtsNonces *
rts_nonces_new (guint max, gint64 lifetime_us)
{
  RtsNonces *n = g_new0 (RtsNonces, 1);

  n->by_nonce = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&n->order);
  n->max = MAX (max, 1);
  n->lifetime_us = lifetime_us;
  return n;
}

void
rts_nonces_free (RtsNonces *n)
{
  if (!n)
    return;
  g_hash_table_destroy (n->by_nonce);
  g_queue_clear_full (&n->order, (GDestroyNotify) nonce_free);
  g_free (n);
}

static void
drop_oldest (RtsNonces *n)
{
  Nonce *e = g_queue_pop_head (&n->order);

  g_hash_table_remove (n->by_nonce, e->nonce);
  nonce_free (e);
}

/* 128 bits from the kernel's generator; GLib's g_random is predictable
 * from its output. */
static void
random_bytes (guint8 *buf, gsize len)
{
  gsize got = 0;

  while (got < len) {
    ssize_t n = getrandom (buf + got, len - got, 0);
    if (n > 0) {
      got += (gsize) n;
    } else if (n < 0 && errno != EINTR) {
      /* No getrandom (a kernel before 3.17): GLib's, seeded from
       * /dev/urandom, is better than nothing. */
      for (; got < len; got++)
        buf[got] = (guint8) g_random_int ();
    }
  }
}

char *
rts_nonces_issue (RtsNonces *n, gint64 now_us)
{
  guint8 raw[16];
  char *nonce = g_malloc (2 * sizeof raw + 1);
  Nonce *e;

  random_bytes (raw, sizeof raw);
  for (gsize i = 0; i < sizeof raw; i++)
    g_snprintf (nonce + 2 * i, 3, "%02x", raw[i]);
  /* Expired ones first (they are the oldest: one lifetime for all), then
   * the oldest living one if the table is still full. */
  while (n->order.head && ((Nonce *) n->order.head->data)->expires_us <= now_us)
    drop_oldest (n);
  while (n->order.length >= n->max)
    drop_oldest (n);
  e = g_new0 (Nonce, 1);
  e->nonce = g_strdup (nonce);
  e->expires_us = now_us + n->lifetime_us;
  e->top = -1;
  g_queue_push_tail (&n->order, e);
  g_hash_table_insert (n->by_nonce, e->nonce, e);
  return nonce;
}

/* RFC 7616: nc is exactly 8 hex digits; 0 stands for "no count". */
static gboolean
parse_nc (const char *nc, gint64 *out)
{
  guint64 v = 0;

  if (!nc) {
    *out = 0;
    return TRUE;
  }
  if (strlen (nc) != 8)
    return FALSE;
  for (const char *p = nc; *p; p++) {
    if (!g_ascii_isxdigit (*p))
      return FALSE;
    v = v * 16 + (guint64) g_ascii_xdigit_value (*p);
  }
  *out = (gint64) v;
  return v > 0;
}

RtsNonceVerdict
rts_nonces_use (RtsNonces *n, const char *nonce, const char *nc, gint64 now_us)
{
  Nonce *e = nonce ? g_hash_table_lookup (n->by_nonce, nonce) : NULL;
  gint64 c;

  if (!e)
    return RTS_NONCE_UNKNOWN;
  if (e->expires_us <= now_us)
    return RTS_NONCE_EXPIRED;
  if (!parse_nc (nc, &c))
    return RTS_NONCE_BAD_NC;
  if (c > e->top) {
    guint64 shift = (guint64) (c - e->top);
    e->seen = shift >= 64 ? 0 : e->seen << shift;
    e->seen |= 1;
    e->top = c;
    return RTS_NONCE_OK;
  }
  if (e->top - c >= 64 || (e->seen & (G_GUINT64_CONSTANT (1) << (e->top - c))))
    return RTS_NONCE_REPLAY;
  e->seen |= G_GUINT64_CONSTANT (1) << (e->top - c);
  return RTS_NONCE_OK;
}

guint
rts_nonces_count (const RtsNonces *n)
{
  return n->order.length;
}

const char *
rts_nonce_verdict_name (RtsNonceVerdict v)
{
  switch (v) {
    case RTS_NONCE_OK:
      return "ok";
    case RTS_NONCE_UNKNOWN:
      return "a nonce this server did not give out";
    case RTS_NONCE_EXPIRED:
      return "an expired nonce";
    case RTS_NONCE_REPLAY:
      return "a nonce count already used (a replay)";
    case RTS_NONCE_BAD_NC:
      return "a nonce count that is not 8 hex digits";
  }
  return "?";
}
