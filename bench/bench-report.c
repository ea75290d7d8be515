/* bench-report: turns bench/run.sh's raw output (DIR/raw/) into the table
 * of issue 6.
 *
 *   bench-report DIR
 *   bench-report --check DIR
 *
 * Writes DIR/results.json (every figure with its samples), DIR/results.csv,
 * DIR/table.md and, with gnuplot, DIR/readers.png and DIR/first-frame.png;
 * prints the table. Only reads what run.sh wrote: it can be rerun alone.
 * With --check it prints TAP instead: whether the run shows what must hold
 * on any machine (every reader got every frame, nothing leaked, nobody
 * hung), never a speed; the test suite's smoke run of the harness.
 *
 * Its files are byte for byte what the first version of this report wrote,
 * so that results of old runs stay comparable with new ones: numbers in
 * results.json and results.csv are written the shortest way that reads back
 * to the same double (ints stay ints), and directories are read in the
 * order the kernel lists them, as that version did. */
#define _GNU_SOURCE
#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include <dirent.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;
static char *raw;
/* Everything loaded or made lives until the end: freed there at once. */
static GPtrArray *keep_nodes, *keep_strs;

static char *
keep (char *s)
{
  g_ptr_array_add (keep_strs, s);
  return s;
}

static JsonNode *
keep_node (JsonNode *n)
{
  if (n)
    g_ptr_array_add (keep_nodes, n);
  return n;
}

/* ---- numbers as the raw JSON has them: int or double, or none ---------- */

typedef struct {
  gboolean ok, is_int;
  gint64 i;
  double d;
} Num;

static const Num none = { 0 };

static Num
num_i (gint64 i)
{
  return (Num){ TRUE, TRUE, i, (double) i };
}

static Num
num_d (double d)
{
  return (Num){ TRUE, FALSE, 0, d };
}

static Num
num_of (JsonNode *n)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return none;
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      return num_i (json_node_get_int (n));
    case G_TYPE_DOUBLE:
      return num_d (json_node_get_double (n));
    case G_TYPE_BOOLEAN:
      return num_i (json_node_get_boolean (n));
    default:
      return none;
  }
}

static Num
num_add (Num a, Num b)
{
  if (a.is_int && b.is_int)
    return num_i (a.i + b.i);
  return num_d (a.d + b.d);
}

static JsonNode *
node_num (Num n)
{
  JsonNode *j = json_node_alloc ();
  if (!n.ok)
    return json_node_init_null (j);
  if (n.is_int)
    return json_node_init_int (j, n.i);
  return json_node_init_double (j, n.d);
}

/* met: -1 for none */
static JsonNode *
node_tri (int v)
{
  if (v < 0)
    return json_node_init_null (json_node_alloc ());
  return json_node_init_boolean (json_node_alloc (), v);
}

static JsonNode *
node_obj (JsonObject *o)
{
  JsonNode *n = json_node_init_object (json_node_alloc (), o);
  json_object_unref (o);
  return n;
}

static JsonNode *
node_copy (JsonNode *n)
{
  return n ? json_node_copy (n) : json_node_init_null (json_node_alloc ());
}

/* The shortest digits that read back to x (what a reader of the old files
 * saw), laid out fixed for exponents -4..15 and in e-notation elsewhere. */
static void
append_repr (GString *s, double x, gboolean json)
{
  char buf[40], digits[24];
  int p, nd = 0, exp10, decpt;
  const char *c;

  if (isnan (x)) {
    g_string_append (s, json ? "NaN" : "nan");
    return;
  }
  if (isinf (x)) {
    g_string_append (s, x < 0 ? "-" : "");
    g_string_append (s, json ? "Infinity" : "inf");
    return;
  }
  for (p = 1; p < 17; p++) {
    snprintf (buf, sizeof buf, "%.*e", p - 1, x);
    if (strtod (buf, NULL) == x)
      break;
  }
  snprintf (buf, sizeof buf, "%.*e", p - 1, x);
  c = buf;
  if (*c == '-') {
    g_string_append_c (s, '-');
    c++;
  }
  for (; *c != 'e'; c++)
    if (*c != '.')
      digits[nd++] = *c;
  exp10 = atoi (c + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  digits[nd] = 0;
  decpt = exp10 + 1;
  if (decpt <= -4 || decpt > 16) {
    g_string_append_c (s, digits[0]);
    if (nd > 1)
      g_string_append_printf (s, ".%s", digits + 1);
    g_string_append_printf (s, "e%c%02d", exp10 < 0 ? '-' : '+', abs (exp10));
  } else if (decpt <= 0) {
    g_string_append (s, "0.");
    for (int i = 0; i < -decpt; i++)
      g_string_append_c (s, '0');
    g_string_append (s, digits);
  } else if (decpt >= nd) {
    g_string_append (s, digits);
    for (int i = nd; i < decpt; i++)
      g_string_append_c (s, '0');
    g_string_append (s, ".0");
  } else {
    g_string_append_len (s, digits, decpt);
    g_string_append_printf (s, ".%s", digits + decpt);
  }
}

/* Thousands separators in the integer part of a formatted number. */
static char *
group (const char *t)
{
  GString *s = g_string_new (NULL);
  const char *d = t, *end;
  size_t n;

  if (*d == '-' || *d == '+')
    g_string_append_c (s, *d++);
  end = d;
  while (g_ascii_isdigit (*end))
    end++;
  n = end - d;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0)
      g_string_append_c (s, ',');
    g_string_append_c (s, d[i]);
  }
  g_string_append (s, end);
  return keep (g_string_free (s, FALSE));
}

/* A number with DIGITS decimals and thousands separators; "n/a" for none. */
static const char *
fmt (Num v, int digits)
{
  if (!v.ok)
    return "n/a";
  return group (keep (g_strdup_printf ("%.*f", digits, v.d)));
}

/* A raw value in the table's text as the report has always shown it:
 * "None" and "True" for null and true, doubles at their shortest. */
static char *
value_text (JsonNode *n)
{
  GString *s = g_string_new (NULL);
  if (!n || JSON_NODE_HOLDS_NULL (n))
    g_string_append (s, "None");
  else if (JSON_NODE_HOLDS_VALUE (n)) {
    switch (json_node_get_value_type (n)) {
      case G_TYPE_INT64:
        g_string_append_printf (s, "%" G_GINT64_FORMAT, json_node_get_int (n));
        break;
      case G_TYPE_DOUBLE:
        append_repr (s, json_node_get_double (n), FALSE);
        break;
      case G_TYPE_BOOLEAN:
        g_string_append (s, json_node_get_boolean (n) ? "True" : "False");
        break;
      default:
        g_string_append (s, json_node_get_string (n));
    }
  } else
    g_string_append (s, "?");
  return keep (g_string_free (s, FALSE));
}

static char *
num_str (Num n)
{
  g_autoptr (JsonNode) j = node_num (n);
  return value_text (j);
}

/* An int (or a sum of them) with thousands separators. */
static const char *
num_grouped (Num n)
{
  return group (num_str (n));
}

/* ---- JSON in --------------------------------------------------------- */

static gboolean
truthy (JsonNode *n)
{
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (n))
    return json_object_get_size (json_node_get_object (n)) > 0;
  if (JSON_NODE_HOLDS_ARRAY (n))
    return json_array_get_length (json_node_get_array (n)) > 0;
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n)[0] != 0;
  return num_of (n).d != 0;
}

/* The member at a path of object members, or NULL. */
static JsonNode *
get (JsonNode *n, ...)
{
  va_list ap;
  const char *k;
  va_start (ap, n);
  while (n && (k = va_arg (ap, const char *))) {
    if (!JSON_NODE_HOLDS_OBJECT (n))
      n = NULL;
    else
      n = json_object_get_member (json_node_get_object (n), k);
  }
  va_end (ap);
  return n;
}

#define GET(...) get (__VA_ARGS__, NULL)
#define NUM(...) num_of (GET (__VA_ARGS__))

static JsonNode *
parse (const char *text, gssize len)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonNode *root;
  if (!json_parser_load_from_data (p, text, len, NULL))
    return NULL;
  root = json_parser_get_root (p);
  return root ? keep_node (json_node_copy (root)) : NULL;
}

static char *
raw_path (const char *name)
{
  return keep (g_build_filename (raw, name, NULL));
}

/* The last line of a file that run.sh wrote one JSON object into. */
static JsonNode *
load_json (const char *path)
{
  g_autofree char *text = NULL;
  char *start;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  start = text + strlen (text);
  while (start > text && !strchr ("\n\r\v\f\x1c\x1d\x1e", start[-1]))
    start--;
  if (!*start)
    return NULL;
  return parse (start, -1);
}

/* One JSON value a line; the lines that do not parse are left out. */
static GPtrArray *
load_jsonl (const char *path)
{
  GPtrArray *out = g_ptr_array_new ();
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  if (g_file_get_contents (path, &text, NULL, NULL)) {
    lines = g_strsplit (text, "\n", -1);
    for (char **l = lines; *l; l++) {
      JsonNode *j = parse (*l, -1);
      if (j)
        g_ptr_array_add (out, j);
    }
  }
  return out;
}

/* Whitespace-separated numbers, as doubles; none at all if one is not. */
static GArray *
numbers (const char *path)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Num));
  g_autofree char *text = NULL;
  g_auto (GStrv) words = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return out;
  words = g_strsplit_set (text, " \t\n\r\v\f", -1);
  for (char **w = words; *w; w++) {
    char *end;
    Num n;
    if (!**w)
      continue;
    n = num_d (g_ascii_strtod (*w, &end));
    if (*end) {
      g_array_set_size (out, 0);
      return out;
    }
    g_array_append_val (out, n);
  }
  return out;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The files in raw/ matching PATTERN, sorted or in the directory's own
 * order (the order a run's rounds were first listed in). */
static GPtrArray *
list (const char *pattern, gboolean sorted)
{
  GPtrArray *out = g_ptr_array_new ();
  DIR *d = opendir (raw);
  struct dirent *e;
  if (d) {
    while ((e = readdir (d)))
      if (e->d_name[0] != '.' && fnmatch (pattern, e->d_name, 0) == 0)
        g_ptr_array_add (out, raw_path (e->d_name));
    closedir (d);
  }
  if (sorted)
    g_ptr_array_sort (out, cmp_str);
  return out;
}

/* The JSON of every round matching PATTERN, in name order. */
static GPtrArray *
rounds (const char *pattern)
{
  GPtrArray *out = g_ptr_array_new ();
  g_autoptr (GPtrArray) files = list (pattern, TRUE);
  for (guint i = 0; i < files->len; i++) {
    JsonNode *j = load_json (files->pdata[i]);
    if (truthy (j))
      g_ptr_array_add (out, j);
  }
  return out;
}

/* ---- statistics ------------------------------------------------------ */

static gint
cmp_num (gconstpointer a, gconstpointer b)
{
  const Num *x = a, *y = b;
  return (x->d > y->d) - (x->d < y->d);
}

/* Nearest-rank percentile, as rtsp-bench-client computes it; the median
 * of an even count is the mean of the middle two (rounds come in twos). */
static Num
pct (GArray *samples, double q)
{
  g_autoptr (GArray) s = NULL;
  guint n = samples->len;
  long i;
  if (n == 0)
    return none;
  s = g_array_copy (samples);
  g_array_sort (s, cmp_num); /* stable: 3 before 3.0 stays so */
  if (q == 0.5) {
    Num a, b;
    if (n % 2)
      return g_array_index (s, Num, n / 2);
    a = g_array_index (s, Num, n / 2 - 1);
    b = g_array_index (s, Num, n / 2);
    return num_d (
        a.is_int && b.is_int ? (double) (a.i + b.i) / 2 : (a.d + b.d) / 2);
  }
  i = (long) ceil (q * n) - 1;
  if (i < 0)
    i = 0;
  if (i > (long) n - 1)
    i = n - 1;
  return g_array_index (s, Num, i);
}

typedef struct {
  GArray *samples;
  Num median, p90;
  guint n;
} Series;

static GPtrArray *all_series;

static Series *
series (GArray *samples)
{
  Series *s = g_new0 (Series, 1);
  s->samples = samples;
  s->n = samples->len;
  s->median = pct (samples, 0.5);
  s->p90 = pct (samples, 0.9);
  g_ptr_array_add (all_series, s);
  return s;
}

static void
series_free (gpointer p)
{
  Series *s = p;
  g_array_unref (s->samples);
  g_free (s);
}

static JsonNode *
series_node (Series *s)
{
  JsonObject *o = json_object_new ();
  JsonArray *a = json_array_new ();
  json_object_set_int_member (o, "n", s->n);
  json_object_set_member (o, "median", node_num (s->median));
  json_object_set_member (o, "p90", node_num (s->p90));
  for (guint i = 0; i < s->samples->len; i++)
    json_array_add_element (a, node_num (g_array_index (s->samples, Num, i)));
  json_object_set_array_member (o, "samples", a);
  return node_obj (o);
}

/* Every sample of MEMBER.samples over the runs. */
static GArray *
samples_of (GPtrArray *runs, const char *member)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Num));
  for (guint i = 0; i < runs->len; i++) {
    JsonNode *a = GET (runs->pdata[i], member, "samples");
    if (!a || !JSON_NODE_HOLDS_ARRAY (a))
      continue;
    for (guint k = 0; k < json_array_get_length (json_node_get_array (a));
         k++) {
      Num v = num_of (json_array_get_element (json_node_get_array (a), k));
      g_array_append_val (out, v);
    }
  }
  return out;
}

static Num
ratio (Num a, Num b)
{
  if (!a.ok || !b.ok || b.d == 0)
    return none;
  return num_d (a.d / b.d);
}

/* "median / p90 unit", or n/a with no sample. */
static const char *
cell (Series *s, const char *unit, int digits)
{
  char *t;
  if (s->n == 0)
    return "n/a";
  t = keep (g_strdup_printf ("%s / %s %s", fmt (s->median, digits),
      fmt (s->p90, digits), unit));
  return g_strstrip (t);
}

/* ---- the table ------------------------------------------------------- */

typedef struct {
  const char *key, *figure, *ours, *base, *target;
  Num ratio;
  int met;
} Row;

static GArray *rows;
static JsonObject *figures;

/* DETAIL is taken (an object, or NULL for an empty one). */
static void
row (const char *key, const char *figure, const char *ours, const char *base,
    Num r, const char *target, int met, JsonObject *detail)
{
  Row x = { key, figure, ours, base, target, r, met };
  g_array_append_val (rows, x);
  json_object_set_member (figures, key,
      node_obj (detail ? detail : json_object_new ()));
}

/* The usual detail: both series and their unit. */
static JsonObject *
pair (Series *o, Series *b, const char *unit)
{
  JsonObject *d = json_object_new ();
  json_object_set_member (d, "ours", series_node (o));
  if (b)
    json_object_set_member (d, "baseline", series_node (b));
  if (unit)
    json_object_set_string_member (d, "unit", unit);
  return d;
}

static JsonNode *
nodes_array (GPtrArray *js)
{
  JsonArray *a = json_array_new ();
  for (guint i = 0; i < js->len; i++)
    json_array_add_element (a, json_node_copy (js->pdata[i]));
  return json_node_init_array (json_node_alloc (), a);
}

/* ---- wrk --latency output -------------------------------------------- */

typedef struct {
  Num p50, p99, rps;
  gint64 non_2xx;
} Wrk;

static Num
wrk_lat (const char *text, const char *q)
{
  g_autofree char *re =
      g_strdup_printf ("^\\s+%s%%\\s+([\\d.]+)(us|ms|s)\\s*$", q);
  g_autoptr (GRegex) r =
      g_regex_new (re, G_REGEX_MULTILINE | G_REGEX_RAW, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  if (g_regex_match (r, text, 0, &m)) {
    g_autofree char *v = g_match_info_fetch (m, 1);
    g_autofree char *u = g_match_info_fetch (m, 2);
    double scale = g_str_equal (u, "us") ? 0.001
        : g_str_equal (u, "ms")          ? 1.0
                                         : 1000.0;
    return num_d (g_ascii_strtod (v, NULL) * scale);
  }
  return none;
}

static gboolean
wrk (const char *path, Wrk *w)
{
  g_autofree char *text = NULL;
  g_autoptr (GRegex) rps =
      g_regex_new ("Requests/sec:\\s+([\\d.]+)", G_REGEX_RAW, 0, NULL);
  g_autoptr (GRegex) err =
      g_regex_new ("Non-2xx or 3xx responses: (\\d+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL, m2 = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  w->p50 = wrk_lat (text, "50");
  w->p99 = wrk_lat (text, "99");
  w->rps = none;
  w->non_2xx = 0;
  if (g_regex_match (rps, text, 0, &m)) {
    g_autofree char *v = g_match_info_fetch (m, 1);
    w->rps = num_d (g_ascii_strtod (v, NULL));
  }
  if (g_regex_match (err, text, 0, &m2)) {
    g_autofree char *v = g_match_info_fetch (m2, 1);
    w->non_2xx = g_ascii_strtoll (v, NULL, 10);
  }
  return TRUE;
}

static GArray *
wrks (const char *pattern)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Wrk));
  g_autoptr (GPtrArray) files = list (pattern, TRUE);
  for (guint i = 0; i < files->len; i++) {
    Wrk w;
    if (wrk (files->pdata[i], &w))
      g_array_append_val (out, w);
  }
  return out;
}

static JsonNode *
wrks_node (GArray *ws)
{
  JsonArray *a = json_array_new ();
  for (guint i = 0; i < ws->len; i++) {
    Wrk *w = &g_array_index (ws, Wrk, i);
    JsonObject *o = json_object_new ();
    json_object_set_member (o, "p50_ms", node_num (w->p50));
    json_object_set_member (o, "p99_ms", node_num (w->p99));
    json_object_set_member (o, "rps", node_num (w->rps));
    json_object_set_int_member (o, "non_2xx", w->non_2xx);
    json_array_add_element (a, node_obj (o));
  }
  return json_node_init_array (json_node_alloc (), a);
}

/* Median over rounds of one wrk figure; FALSY leaves out zeros too. */
static Num
wrk_median (GArray *ws, size_t offset, gboolean falsy)
{
  g_autoptr (GArray) v = g_array_new (FALSE, FALSE, sizeof (Num));
  for (guint i = 0; i < ws->len; i++) {
    Num n = *(Num *) ((char *) &g_array_index (ws, Wrk, i) + offset);
    if (n.ok && !(falsy && n.d == 0))
      g_array_append_val (v, n);
  }
  return pct (v, 0.5);
}

/* ---- runs keyed by (count, server) ----------------------------------- */

typedef struct {
  int n;
  const char *kind;
  GPtrArray *runs;
} Keyed;

static GPtrArray *readers, *cams;

static Keyed *
keyed (GPtrArray *set, int n, const char *kind, gboolean add)
{
  Keyed *k;
  for (guint i = 0; i < set->len; i++) {
    k = set->pdata[i];
    if (k->n == n && g_str_equal (k->kind, kind))
      return k;
  }
  if (!add)
    return NULL;
  k = g_new0 (Keyed, 1);
  k->n = n;
  k->kind = g_intern_string (kind);
  k->runs = g_ptr_array_new ();
  g_ptr_array_add (set, k);
  return k;
}

static void
keyed_free (gpointer p)
{
  Keyed *k = p;
  g_ptr_array_unref (k->runs);
  g_free (k);
}

/* Files named PREFIX-N-ours|base..., in the directory's order; ONE keeps
 * only the last run of a key. */
static GPtrArray *
load_keyed (const char *glob, const char *re, gboolean one)
{
  GPtrArray *set = g_ptr_array_new_with_free_func (keyed_free);
  g_autoptr (GPtrArray) files = list (glob, FALSE);
  g_autoptr (GRegex) r = g_regex_new (re, 0, 0, NULL);
  for (guint i = 0; i < files->len; i++) {
    g_autoptr (GMatchInfo) m = NULL;
    g_autofree char *base = g_path_get_basename (files->pdata[i]);
    JsonNode *j = load_json (files->pdata[i]);
    if (g_regex_match (r, base, 0, &m) && truthy (j)) {
      g_autofree char *n = g_match_info_fetch (m, 1);
      g_autofree char *kind = g_match_info_fetch (m, 2);
      Keyed *k = keyed (set, atoi (n), kind, TRUE);
      if (one)
        g_ptr_array_set_size (k->runs, 0);
      g_ptr_array_add (k->runs, j);
    }
  }
  return set;
}

static GPtrArray *
runs_of (GPtrArray *set, int n, const char *kind)
{
  static GPtrArray *empty;
  Keyed *k = keyed (set, n, kind, FALSE);
  if (!empty)
    empty = g_ptr_array_new ();
  return k ? k->runs : empty;
}

static gboolean
all_played (JsonNode *j)
{
  Num p = NUM (j, "playing"), r = NUM (j, "readers");
  return p.ok == r.ok && p.d == r.d;
}

/* Over the runs where every reader played: a server that hung half-way
 * through the set-up uses little CPU and proves nothing. */
static Series *
rstat (int n, const char *kind, const char *a, const char *b, const char *c)
{
  GPtrArray *js = runs_of (readers, n, kind);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Num));
  for (guint i = 0; i < js->len; i++) {
    JsonNode *j = js->pdata[i];
    if (truthy (GET (j, "server")) && all_played (j)) {
      Num v = num_of (get (j, a, b, c, NULL));
      if (v.ok)
        g_array_append_val (out, v);
    }
  }
  return series (out);
}

#define CPU "server", "cpu_pct", NULL
#define RSS "server", "end", "rss_mib"
#define THREADS "server", "end", "threads"

static const char *
runs_note (int n, const char *kind)
{
  GPtrArray *js = runs_of (readers, n, kind);
  guint full = 0;
  for (guint i = 0; i < js->len; i++)
    full += all_played (js->pdata[i]);
  if (full == js->len)
    return "";
  return keep (g_strdup_printf (" (%u of %u runs had every reader playing)",
      full, js->len));
}

static int
every_frame (int n, const char *kind)
{
  GPtrArray *js = runs_of (readers, n, kind);
  if (js->len == 0)
    return -1;
  for (guint i = 0; i < js->len; i++)
    if (!truthy (GET (js->pdata[i], "every_frame")))
      return 0;
  return 1;
}

static Num
sum (GPtrArray *js, const char *member)
{
  Num s = num_i (0);
  for (guint i = 0; i < js->len; i++) {
    JsonNode *v = GET (js->pdata[i], member);
    s = num_add (s, v ? num_of (v) : num_i (0));
  }
  return s;
}

static const char *
frames_note (int n, const char *kind)
{
  GPtrArray *js = runs_of (readers, n, kind);
  GString *s;
  Num short_;
  if (js->len == 0)
    return "n/a";
  s = g_string_new (NULL);
  g_string_append_printf (s, "%s: %s of %s frames, %s packets lost",
      every_frame (n, kind) ? "yes" : "NO", num_grouped (sum (js, "frames")),
      num_grouped (sum (js, "frames_expected")),
      num_str (sum (js, "lost_packets")));
  short_ = sum (js, "readers_short");
  if (short_.d != 0) {
    Num most = none;
    for (guint i = 0; i < js->len; i++) {
      JsonNode *v = GET (js->pdata[i], "max_frames_short");
      Num m = v ? num_of (v) : num_i (0);
      if (!most.ok || m.d > most.d)
        most = m;
    }
    g_string_append_printf (s,
        ", %s readers short (started late %s, behind at the end %s, "
        "at most %s frames)",
        num_str (short_), num_str (sum (js, "short_late_start")),
        num_str (sum (js, "short_behind_at_end")), num_str (most));
  }
  if (sum (js, "failed").d != 0)
    g_string_append_printf (s, ", %s readers failed",
        num_str (sum (js, "failed")));
  return keep (g_string_free (s, FALSE));
}

/* ---- cameras on one core --------------------------------------------- */

static double
fps (JsonNode *j)
{
  Num playing = NUM (j, "playing");
  if (playing.d == 0)
    return 0;
  return NUM (j, "frames").d / playing.d / NUM (j, "window_s").d;
}

static gboolean
full_rate (JsonNode *j)
{
  return all_played (j) && truthy (GET (j, "every_frame"))
      && fps (j) >= 0.97 * 30;
}

static gint
cmp_keyed (gconstpointer a, gconstpointer b)
{
  const Keyed *x = *(Keyed *const *) a, *y = *(Keyed *const *) b;
  if (x->n != y->n)
    return x->n < y->n ? -1 : 1;
  return strcmp (x->kind, y->kind);
}

typedef struct {
  Num best, est;
  const char *steps;
} Sustained;

/* Largest step with every frame at the full rate, and the cameras one core
 * would carry at the CPU cost per camera of the largest step (scaled to
 * 30 fps when the machine's load held the cameras below it). */
static Sustained
sustained (const char *kind)
{
  Sustained r = { none, none, NULL };
  g_autoptr (GPtrArray) ks = g_ptr_array_new ();
  GString *steps = g_string_new (NULL);
  for (guint i = 0; i < cams->len; i++)
    if (g_str_equal (((Keyed *) cams->pdata[i])->kind, kind))
      g_ptr_array_add (ks, cams->pdata[i]);
  g_ptr_array_sort (ks, cmp_keyed);
  for (guint i = 0; i < ks->len; i++) {
    Keyed *k = ks->pdata[i];
    JsonNode *j = k->runs->pdata[k->runs->len - 1], *srv = GET (j, "server");
    Num cpu = NUM (j, "server", "cpu_pct");
    if (full_rate (j))
      r.best = num_i (k->n);
    if (truthy (srv) && NUM (j, "playing").d == k->n && fps (j) > 0) {
      double cost = cpu.d / k->n / (fps (j) / 30);
      if (cost > 0)
        r.est = num_d (100 / cost);
    }
    g_string_append_printf (steps, "%s%d: %s, %.0f fps, %.0f%%", i ? ", " : "",
        k->n, full_rate (j) ? "all frames" : "short", fps (j),
        cpu.ok ? cpu.d : NAN);
  }
  r.steps = keep (g_string_free (steps, FALSE));
  return r;
}

static const char *
cams_cell (Sustained s, Num limit)
{
  GString *t;
  if (!s.best.ok && !s.est.ok)
    return "n/a";
  t = g_string_new (NULL);
  if (s.est.ok && s.est.d != 0)
    g_string_append_printf (t, "~%.0f by CPU per camera", s.est.d);
  else
    g_string_append (t, "n/a");
  g_string_append_printf (t, "; measured up to %d with every frame",
      s.best.ok ? (int) s.best.i : 0);
  if (limit.ok && s.best.ok && s.best.d == limit.d)
    g_string_append_printf (t, " (the most it accepts: %s)", num_str (limit));
  g_string_append_printf (t, " [%s]", s.steps);
  return keep (g_string_free (t, FALSE));
}

static JsonNode *
cams_node (Sustained s, const char *kind)
{
  JsonObject *o = json_object_new (), *runs = json_object_new ();
  json_object_set_member (o, "sustained", node_num (s.best));
  json_object_set_member (o, "by_cpu", node_num (s.est));
  for (guint i = 0; i < cams->len; i++) {
    Keyed *k = cams->pdata[i];
    g_autofree char *n = g_strdup_printf ("%d", k->n);
    if (g_str_equal (k->kind, kind))
      json_object_set_member (runs, n,
          json_node_copy (k->runs->pdata[k->runs->len - 1]));
  }
  json_object_set_member (o, "runs", node_obj (runs));
  return node_obj (o);
}

/* ---- churn ----------------------------------------------------------- */

static const char *
churn_cell (JsonNode *j, gboolean rss)
{
  JsonNode *a2;
  GString *s;
  if (!truthy (j))
    return "n/a";
  if (!GET (j, "after") || !truthy (GET (j, "after", "threads"))) {
    JsonNode *e = GET (j, "first_error");
    return keep (g_strdup_printf ("n/a: the server died during the cycles (%s)",
        e ? value_text (e) : ""));
  }
  s = g_string_new (NULL);
  if (rss) {
    JsonNode *settle = GET (j, "settle_s");
    g_string_append_printf (s,
        "%+.1f MiB (%.1f -> %.1f %.0f s after; %s of %s cycles ok",
        NUM (j, "rss_growth_mib").d, NUM (j, "before", "rss_mib").d,
        NUM (j, "after", "rss_mib").d, settle ? num_of (settle).d : 3,
        value_text (GET (j, "ok")),
        num_str (num_add (NUM (j, "cycles"), NUM (j, "warmup"))));
    if (truthy (GET (j, "failed")))
      g_string_append_printf (s, ", first error: %s)",
          value_text (GET (j, "first_error")));
    else
      g_string_append (s, ")");
  } else {
    /* The early look is 2 s after the cycles, less in a smoke run. */
    JsonNode *early = GET (j, "early_s");
    g_autofree char *when =
        g_strdup_printf ("%g s", early ? num_of (early).d : 2);
    a2 = GET (j, "after_2s");
    g_string_append_printf (s, "threads %s -> ",
        value_text (GET (j, "before", "threads")));
    if (truthy (a2))
      g_string_append_printf (s, "%s (%s) -> ",
          value_text (GET (a2, "threads")), when);
    g_string_append_printf (s, "%s, fds %s -> ",
        value_text (GET (j, "after", "threads")),
        value_text (GET (j, "before", "fds")));
    if (truthy (a2))
      g_string_append_printf (s, "%s (%s) -> ", value_text (GET (a2, "fds")),
          when);
    g_string_append (s, value_text (GET (j, "after", "fds")));
  }
  return keep (g_string_free (s, FALSE));
}

/* ---- JSON out, laid out one space an indent --------------------------- */

static void
append_json_string (GString *s, const char *t)
{
  g_string_append_c (s, '"');
  for (const char *c = t; *c; c = g_utf8_next_char (c)) {
    gunichar u = g_utf8_get_char (c);
    switch (u) {
      case '"':
        g_string_append (s, "\\\"");
        break;
      case '\\':
        g_string_append (s, "\\\\");
        break;
      case '\n':
        g_string_append (s, "\\n");
        break;
      case '\r':
        g_string_append (s, "\\r");
        break;
      case '\t':
        g_string_append (s, "\\t");
        break;
      case '\b':
        g_string_append (s, "\\b");
        break;
      case '\f':
        g_string_append (s, "\\f");
        break;
      default:
        if (u >= 0x20 && u < 0x7f)
          g_string_append_c (s, (char) u);
        else if (u < 0x10000)
          g_string_append_printf (s, "\\u%04x", u);
        else {
          u -= 0x10000;
          g_string_append_printf (s, "\\u%04x\\u%04x", 0xd800 | (u >> 10),
              0xdc00 | (u & 0x3ff));
        }
    }
  }
  g_string_append_c (s, '"');
}

static void
indent (GString *s, int level)
{
  g_string_append_c (s, '\n');
  for (int i = 0; i < level; i++)
    g_string_append_c (s, ' ');
}

static void
append_json (GString *s, JsonNode *n, int level)
{
  if (JSON_NODE_HOLDS_OBJECT (n)) {
    JsonObject *o = json_node_get_object (n);
    g_autoptr (GList) members = json_object_get_members (o);
    if (!members) {
      g_string_append (s, "{}");
      return;
    }
    g_string_append_c (s, '{');
    for (GList *m = members; m; m = m->next) {
      indent (s, level + 1);
      append_json_string (s, m->data);
      g_string_append (s, ": ");
      append_json (s, json_object_get_member (o, m->data), level + 1);
      if (m->next)
        g_string_append_c (s, ',');
    }
    indent (s, level);
    g_string_append_c (s, '}');
  } else if (JSON_NODE_HOLDS_ARRAY (n)) {
    JsonArray *a = json_node_get_array (n);
    guint len = json_array_get_length (a);
    if (len == 0) {
      g_string_append (s, "[]");
      return;
    }
    g_string_append_c (s, '[');
    for (guint i = 0; i < len; i++) {
      indent (s, level + 1);
      append_json (s, json_array_get_element (a, i), level + 1);
      if (i + 1 < len)
        g_string_append_c (s, ',');
    }
    indent (s, level);
    g_string_append_c (s, ']');
  } else if (JSON_NODE_HOLDS_NULL (n))
    g_string_append (s, "null");
  else
    switch (json_node_get_value_type (n)) {
      case G_TYPE_STRING:
        append_json_string (s, json_node_get_string (n));
        break;
      case G_TYPE_BOOLEAN:
        g_string_append (s, json_node_get_boolean (n) ? "true" : "false");
        break;
      case G_TYPE_DOUBLE:
        append_repr (s, json_node_get_double (n), TRUE);
        break;
      default:
        g_string_append_printf (s, "%" G_GINT64_FORMAT, json_node_get_int (n));
    }
}

static void
write_file (const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, text, -1, &err)) {
    fprintf (stderr, "bench-report: %s\n", err->message);
    exit (1);
  }
}

/* ---- --check: what a run must show whatever the machine's speed -------- */

static guint check_n, check_failed;

static void check (gboolean ok, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
check (gboolean ok, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *what = NULL;
  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  printf ("%sok %u - %s\n", ok ? "" : "not ", ++check_n, what);
  check_failed += !ok;
}

static gboolean
exists (const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* Every file of PATTERN in raw/ satisfies OK (given its path and DATA); at
 * least one exists. WHY gets the first that does not. */
static gboolean
every_file (const char *pattern, gboolean (*ok) (const char *, gconstpointer),
    gconstpointer data, char **why)
{
  g_autoptr (GPtrArray) files = list (pattern, TRUE);
  if (!files->len) {
    *why = g_strdup_printf ("no raw/%s", pattern);
    return FALSE;
  }
  for (guint i = 0; i < files->len; i++)
    if (!ok (files->pdata[i], data)) {
      *why = g_path_get_basename (files->pdata[i]);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  gboolean (*ok) (JsonNode *);
} JsonOk;

static gboolean
json_file_ok (const char *path, gconstpointer data)
{
  const JsonOk *test = data;
  JsonNode *j = load_json (path);
  return truthy (j) && test->ok (j);
}

/* Every JSON file of PATTERN parses and satisfies OK. */
static gboolean
all_files (const char *pattern, gboolean (*ok) (JsonNode *), char **why)
{
  JsonOk test = { ok };
  return every_file (pattern, json_file_ok, &test, why);
}

static gboolean
ff_ok (JsonNode *j)
{
  return NUM (j, "failed").d == 0 && NUM (j, "runs").d > 0
      && NUM (j, "from_play_ms", "n").d == NUM (j, "runs").d;
}

static gboolean
every_frame_ok (JsonNode *j)
{
  return all_played (j) && NUM (j, "readers").d > 0
      && truthy (GET (j, "every_frame")) && NUM (j, "lost_packets").d == 0;
}

static gboolean
measured_ok (JsonNode *j)
{
  return NUM (j, "runs").d > 0;
}

/* The baseline is measured, not judged: gst-rtsp-server 1.22 aborts now and
 * then under many joining readers (gst_rtsp_media_get_rates), and its run
 * then says so. */
static gboolean
readers_run (JsonNode *j)
{
  return GET (j, "readers") && GET (j, "playing");
}

static gboolean
churn_ok (JsonNode *j)
{
  return NUM (j, "failed").d == 0
      && NUM (j, "ok").d == NUM (j, "cycles").d + NUM (j, "warmup").d
      && truthy (GET (j, "after")) && NUM (j, "threads_growth").d <= 0
      && NUM (j, "fds_growth").d <= 0 && NUM (j, "rss_growth_mib").d < 5;
}

static gboolean
startup_ok (JsonNode *j)
{
  return NUM (j, "failed").d == 0 && NUM (j, "runs").d > 0;
}

static gboolean
jsonl_ok (const char *name, gboolean (*ok) (JsonNode *), char **why)
{
  g_autoptr (GPtrArray) js = load_jsonl (raw_path (name));
  if (!js->len) {
    *why = g_strdup_printf ("no raw/%s", name);
    return FALSE;
  }
  for (guint i = 0; i < js->len; i++)
    if (!ok (js->pdata[i])) {
      *why = g_strdup_printf ("raw/%s, line %u", name, i + 1);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  const char *needle, *absent;
} Text;

static gboolean
text_file_ok (const char *path, gconstpointer data)
{
  const Text *t = data;
  g_autofree char *text = NULL;
  return g_file_get_contents (path, &text, NULL, NULL)
      && strstr (text, t->needle) && !(t->absent && strstr (text, t->absent));
}

/* Every file of PATTERN holds NEEDLE and not ABSENT (if not NULL). */
static gboolean
text_has (const char *pattern, const char *needle, const char *absent,
    char **why)
{
  Text t = { needle, absent };
  return every_file (pattern, text_file_ok, &t, why);
}

/* Reads a finished run (its report included) and prints TAP: only what
 * holds on any machine, never a speed. The test suite runs the harness at
 * tiny sizes (bench/run.sh --smoke) and then this. */
static int
check_run (void)
{
  g_autofree char *why = NULL;
  g_autofree char *events = NULL;
  g_autofree char *gnuplot = NULL;
  gboolean quiet = TRUE;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    g_clear_pointer (&why, g_free);                                            \
    gboolean c_ = (cond);                                                      \
    check (c_, __VA_ARGS__);                                                   \
    if (!c_ && why)                                                            \
      printf ("#   first seen in %s\n", why);                                  \
  } while (0)

  CHECK (exists ("table.md") && exists ("results.json")
          && exists ("results.csv"),
      "the report wrote table.md, results.json and results.csv");
  if ((gnuplot = g_find_program_in_path ("gnuplot")))
    CHECK (exists ("readers.png") && exists ("first-frame.png"),
        "the report drew readers.png and first-frame.png");
  CHECK (jsonl_ok ("startup-ours.jsonl", startup_ok, &why)
          && jsonl_ok ("startup-ours-describe.jsonl", startup_ok, &why),
      "ours started to /health 200 and to DESCRIBE 200 every time");
  CHECK (jsonl_ok ("startup-base.jsonl", startup_ok, &why),
      "the baseline started to DESCRIBE 200 every time");
  CHECK (all_files ("ff-*-ours-r*.json", ff_ok, &why),
      "ours: every first-frame run got its keyframe, TCP and UDP");
  CHECK (all_files ("ff-*-base-r*.json", measured_ok, &why),
      "the baseline's first-frame runs were measured");
  CHECK (all_files ("readers-*-ours-r*.json", every_frame_ok, &why),
      "ours: every reader of every readers run received every frame, no "
      "packet lost");
  CHECK (all_files ("cams-*-ours.json", every_frame_ok, &why),
      "ours: cameras with one reader each, every frame");
  CHECK (all_files ("readers-*-base-r*.json", readers_run, &why),
      "the baseline's readers runs were measured");
  CHECK (all_files ("churn-ours.json", churn_ok, &why),
      "ours: every churn cycle played; threads and fds back where they "
      "started, RSS within 5 MB");
  CHECK (text_has ("wrk-*-ours-r*.txt", "Requests/sec", "Non-2xx", &why),
      "wrk ran against /health, every answer 2xx");
  {
    g_autoptr (GArray) hc = numbers (raw_path ("hc-http-ours.txt"));
    g_autoptr (GArray) st = numbers (raw_path ("sigterm-ours.txt"));
    CHECK (hc->len > 0 && st->len > 0,
        "rtsp-health-check and SIGTERM were timed (%u and %u samples)", hc->len,
        st->len);
  }
  if (g_file_get_contents (raw_path ("events.txt"), &events, NULL, NULL)) {
    g_auto (GStrv) lines = g_strsplit (events, "\n", -1);
    for (char **l = lines; *l; l++)
      if (g_str_has_prefix (*l, "ours ") || g_str_has_prefix (*l, "ours:")) {
        printf ("# %s\n", *l);
        quiet = FALSE;
      }
  }
  CHECK (quiet, "ours never died, hung or stopped answering (raw/events.txt)");
#undef CHECK
  printf ("1..%u\n", check_n);
  return check_failed ? 1 : 0;
}

/* ---- plots ------------------------------------------------------------ */

static const char plot_script[] =
    "\n"
    "set terminal pngcairo size 1000,420 font 'Sans,10'\n"
    "set output 'readers.png'\n"
    "set multiplot layout 1,2 title 'Four cameras, N TCP readers (%s cores, "
    "loopback)'\n"
    "set key top left Left reverse\n"
    "set offsets 0, 0, graph 0.25, 0\n" /* room for the key above the lines */
    "set grid\n"
    "set xlabel 'readers'\n"
    "set ylabel 'CPU, %% of one core'\n"
    "set yrange [0:*]\n"
    "plot 'readers.dat' using 1:2 with linespoints lw 2 lc rgb '#8e2bd6' "
    "title 'rtsp-test-server', \\\n"
    "     'readers.dat' using 1:3 with linespoints lw 2 lc rgb '#1a9e6e' "
    "title 'baseline (test-launch style)'\n"
    "set ylabel 'RSS, MiB'\n"
    "plot 'readers.dat' using 1:4 with linespoints lw 2 lc rgb '#8e2bd6' "
    "title 'rtsp-test-server', \\\n"
    "     'readers.dat' using 1:5 with linespoints lw 2 lc rgb '#1a9e6e' "
    "title 'baseline (test-launch style)'\n"
    "unset multiplot\n"
    "set output 'first-frame.png'\n"
    "set multiplot layout 1,2 title 'First complete keyframe a joining reader "
    "receives (CDF over runs)'\n"
    "set key center center\n"
    "set offsets 0, 0, 0, 0\n"
    "set ylabel 'fraction of runs'\n"
    "set yrange [0:1]\n"
    "set xrange [0:*]\n"
    "set xlabel 'ms after the PLAY reply'\n"
    "plot 'ff-tcp-ours-play.dat' with steps lw 2 lc rgb '#8e2bd6' title "
    "'ours TCP', \\\n"
    "     'ff-udp-ours-play.dat' with steps lw 2 dt 2 lc rgb '#8e2bd6' title "
    "'ours UDP', \\\n"
    "     'ff-tcp-base-play.dat' with steps lw 2 lc rgb '#1a9e6e' title "
    "'baseline TCP', \\\n"
    "     'ff-udp-base-play.dat' with steps lw 2 dt 2 lc rgb '#1a9e6e' title "
    "'baseline UDP'\n"
    "set xlabel 'ms after TCP connect'\n"
    "plot 'ff-tcp-ours-connect.dat' with steps lw 2 lc rgb '#8e2bd6' title "
    "'ours TCP', \\\n"
    "     'ff-udp-ours-connect.dat' with steps lw 2 dt 2 lc rgb '#8e2bd6' "
    "title 'ours UDP', \\\n"
    "     'ff-tcp-base-connect.dat' with steps lw 2 lc rgb '#1a9e6e' title "
    "'baseline TCP', \\\n"
    "     'ff-udp-base-connect.dat' with steps lw 2 dt 2 lc rgb '#1a9e6e' "
    "title 'baseline UDP'\n"
    "unset multiplot\n";

static void
plots (const char *cores, Series *ff[2][2][2])
{
  static const char *const T[] = { "tcp", "udp" },
                           *const K[] = { "ours", "base" },
                           *const W[] = { "play", "connect" };
  g_autoptr (GString) dat = g_string_new (
      "# readers ours_cpu base_cpu ours_rss base_rss (medians over rounds)\n");
  g_autoptr (GPtrArray) ns = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) l = NULL;
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *gnuplot = g_find_program_in_path ("gnuplot");
  g_autofree char *script = NULL, *out = NULL, *errs = NULL;

  if (!gnuplot) {
    fprintf (stderr, "gnuplot not installed: no plots\n");
    return;
  }
  g_ptr_array_extend (ns, readers, NULL, NULL);
  g_ptr_array_sort (ns, cmp_keyed);
  for (guint i = 0; i < ns->len; i++) {
    int n = ((Keyed *) ns->pdata[i])->n;
    Num v[4];
    if (i > 0 && ((Keyed *) ns->pdata[i - 1])->n == n)
      continue;
    v[0] = rstat (n, "ours", CPU)->median;
    v[1] = rstat (n, "base", CPU)->median;
    v[2] = rstat (n, "ours", RSS)->median;
    v[3] = rstat (n, "base", RSS)->median;
    g_string_append_printf (dat, "%d", n);
    for (int k = 0; k < 4; k++)
      if (v[k].ok)
        g_string_append_printf (dat, " %.2f", v[k].d);
      else
        g_string_append (dat, " NaN");
    g_string_append_c (dat, '\n');
  }
  write_file ("readers.dat", dat->str);
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < 2; k++)
      for (int w = 0; w < 2; w++) {
        g_autoptr (GArray) s = g_array_copy (ff[t][k][w]->samples);
        g_autoptr (GString) f = g_string_new (NULL);
        g_autofree char *name =
            g_strdup_printf ("ff-%s-%s-%s.dat", T[t], K[k], W[w]);
        g_array_sort (s, cmp_num);
        for (guint i = 0; i < s->len; i++)
          g_string_append_printf (f, "%.3f %.4f\n", g_array_index (s, Num, i).d,
              (double) (i + 1) / s->len);
        write_file (name, f->str);
      }
  script = g_strdup_printf (plot_script, cores);
  l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
      | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (l, dir);
  p = g_subprocess_launcher_spawn (l, &err, gnuplot, NULL);
  if (!p
      || !g_subprocess_communicate_utf8 (p, script, NULL, &out, &errs, &err)) {
    fprintf (stderr, "gnuplot: %s\n", err->message);
    return;
  }
  if (!g_subprocess_get_successful (p))
    fprintf (stderr, "gnuplot: %s\n", errs ? errs : "");
}

/* ---- main ------------------------------------------------------------- */

static const char *
machine_get (GPtrArray *keys, GPtrArray *vals, const char *k)
{
  for (guint i = 0; i < keys->len; i++)
    if (g_str_equal (keys->pdata[i], k))
      return vals->pdata[i];
  return "?";
}

int
main (int argc, char **argv)
{
  static const char *const T[] = { "tcp", "udp" },
                           *const TU[] = { "TCP", "UDP" },
                           *const K[] = { "ours", "base" };
  g_autoptr (GPtrArray) mkeys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) mvals = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) table = NULL, head = NULL, csv = NULL, json = NULL;
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *top, *mobj, *d;
  JsonArray *tarr, *earr;
  Series *ff[2][2][2];
  Num ff_failed[2][2];

  gboolean checking = argc > 1 && g_str_equal (argv[1], "--check");

  if (checking) {
    argc--;
    argv++;
  }
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    fprintf (stderr, "usage: bench-report [--check] [DIR]\n");
    return 2;
  }
  dir = argc > 1 ? argv[1] : ".";
  raw = g_build_filename (dir, "raw", NULL);
  keep_nodes =
      g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  keep_strs = g_ptr_array_new_with_free_func (g_free);
  if (checking) {
    int rc = check_run ();
    g_ptr_array_unref (keep_nodes);
    g_ptr_array_unref (keep_strs);
    g_free (raw);
    return rc;
  }
  all_series = g_ptr_array_new_with_free_func (series_free);
  rows = g_array_new (FALSE, FALSE, sizeof (Row));
  figures = json_object_new ();

  if (g_file_get_contents (raw_path ("machine.txt"), &text, NULL, NULL)) {
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    for (char **l = lines; *l; l++) {
      char *eq;
      guint i;
      if (!*l[0] && !l[1])
        break; /* the end of the last line */
      g_strstrip (*l);
      eq = strchr (*l, '=');
      if (eq)
        *eq = 0;
      for (i = 0; i < mkeys->len; i++)
        if (g_str_equal (mkeys->pdata[i], *l))
          break;
      if (i == mkeys->len) {
        g_ptr_array_add (mkeys, g_strdup (*l));
        g_ptr_array_add (mvals, NULL);
      }
      g_free (mvals->pdata[i]);
      mvals->pdata[i] = g_strdup (eq ? eq + 1 : "");
    }
  }

  /* --- start-up --- */
  {
    g_autoptr (GPtrArray) su_o = load_jsonl (raw_path ("startup-ours.jsonl"));
    g_autoptr (GPtrArray) su_b = load_jsonl (raw_path ("startup-base.jsonl"));
    g_autoptr (GPtrArray) su_od =
        load_jsonl (raw_path ("startup-ours-describe.jsonl"));
    Series *h_o = series (samples_of (su_o, "health_ms"));
    Series *d_o = series (samples_of (su_od, "describe_all_ms"));
    Series *d_b = series (samples_of (su_b, "describe_all_ms"));
    row ("startup_health",
        "start to /health 200, all 4 answer DESCRIBE (baseline: to DESCRIBE "
        "200 on all 4)",
        cell (h_o, "ms", 1), cell (d_b, "ms", 1),
        ratio (h_o->median, d_b->median), "< 100 ms median",
        h_o->median.ok && h_o->median.d < 100, pair (h_o, d_b, "ms"));
    row ("startup_describe",
        "start to DESCRIBE 200 on all 4 ports (same probe for both)",
        cell (d_o, "ms", 1), cell (d_b, "ms", 1),
        ratio (d_o->median, d_b->median), "-", -1, pair (d_o, d_b, "ms"));
    d = json_object_new ();
    json_object_set_string_member (d, "why",
        "bench/ does not build images; tests/container/test_image.sh times "
        "podman run to healthy");
    row ("startup_container",
        "the same in a fresh container (no registry cache)",
        "n/a: needs an image build", "n/a", none, "< 500 ms", -1, d);
  }

  /* --- /health under load --- */
  {
    g_autoptr (GArray) paced = wrks ("wrk-paced-ours-r*.txt");
    g_autoptr (GArray) maxed = wrks ("wrk-max-ours-r*.txt");
    g_autoptr (GPtrArray) wr = rounds ("wrk-readers-ours-r*.json");
    if (paced->len) {
      Num p99 = wrk_median (paced, G_STRUCT_OFFSET (Wrk, p99), FALSE);
      Num p50 = wrk_median (paced, G_STRUCT_OFFSET (Wrk, p50), FALSE);
      Num rps = wrk_median (paced, G_STRUCT_OFFSET (Wrk, rps), TRUE);
      Num playing = num_i (0);
      for (guint i = 0; i < wr->len; i++) {
        Num p = NUM (wr->pdata[i], "playing");
        if (i == 0 || p.d < playing.d)
          playing = p;
      }
      d = json_object_new ();
      json_object_set_member (d, "ours", wrks_node (paced));
      json_object_set_member (d, "readers", nodes_array (wr));
      row ("health_latency",
          keep (g_strdup_printf ("/health latency at ~1,000 req/s, 4 cameras "
                                 "streaming to %s readers",
              num_str (playing))),
          keep (g_strdup_printf ("p50 %s / p99 %s ms at %s req/s", fmt (p50, 2),
              fmt (p99, 2), fmt (rps, 0))),
          "n/a: no HTTP API", none, "p99 < 1 ms", p99.ok && p99.d < 1.0, d);
    }
    if (maxed->len) {
      Num rps = wrk_median (maxed, G_STRUCT_OFFSET (Wrk, rps), TRUE);
      Num p99 = wrk_median (maxed, G_STRUCT_OFFSET (Wrk, p99), FALSE);
      d = json_object_new ();
      json_object_set_member (d, "ours", wrks_node (maxed));
      row ("health_rps", "/health throughput, wrk 16 connections, same load",
          keep (g_strdup_printf ("%s req/s (p99 %s ms)", fmt (rps, 0),
              fmt (p99, 2))),
          "n/a: no HTTP API", none, "> 10,000 req/s", rps.ok && rps.d > 10000,
          d);
    }
  }
  {
    Series *hc = series (numbers (raw_path ("hc-http-ours.txt")));
    Series *hr_o = series (numbers (raw_path ("hc-rtsp-ours.txt")));
    Series *hr_b = series (numbers (raw_path ("hc-rtsp-base.txt")));
    row ("health_check",
        "rtsp-health-check run time (GET /health), healthy server",
        cell (hc, "ms", 2), "n/a: no /health", none, "< 5 ms median",
        hc->median.ok && hc->median.d < 5, pair (hc, NULL, "ms"));
    row ("health_check_rtsp",
        "rtsp-health-check --rtsp-ports (OPTIONS to all 4 ports)",
        cell (hr_o, "ms", 2), cell (hr_b, "ms", 2),
        ratio (hr_o->median, hr_b->median), "-", -1, pair (hr_o, hr_b, "ms"));
  }

  /* --- first keyframe --- */
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < 2; k++) {
      g_autofree char *pat = g_strdup_printf ("ff-%s-%s-r*.json", T[t], K[k]);
      g_autoptr (GPtrArray) js = rounds (pat);
      ff[t][k][0] = series (samples_of (js, "from_play_ms"));
      ff[t][k][1] = series (samples_of (js, "from_connect_ms"));
      ff_failed[t][k] = sum (js, "failed");
    }
  for (int t = 0; t < 2; t++) {
    Series *o = ff[t][0][0], *b = ff[t][1][0];
    JsonObject *failed = json_object_new ();
    int met = -1;
    if (o->n && b->n)
      met = o->p90.d < 20 && o->p90.d < b->p90.d / 5;
    d = pair (o, b, "ms");
    json_object_set_member (failed, "ours", node_num (ff_failed[t][0]));
    json_object_set_member (failed, "baseline", node_num (ff_failed[t][1]));
    json_object_set_object_member (d, "failed", failed);
    row (keep (g_strdup_printf ("ff_play_%s", T[t])),
        keep (
            g_strdup_printf ("first complete keyframe after the PLAY reply, %s",
                TU[t])),
        cell (o, "ms", 1), cell (b, "ms", 1), ratio (o->median, b->median),
        "p90 < 20 ms and < 1/5 of baseline's", met, d);
  }
  for (int t = 0; t < 2; t++) {
    Series *o = ff[t][0][1], *b = ff[t][1][1];
    int met = -1;
    if (o->n && b->n)
      met = o->median.d < b->median.d / 2;
    row (keep (g_strdup_printf ("ff_connect_%s", T[t])),
        keep (g_strdup_printf ("first complete keyframe from TCP connect, %s",
            TU[t])),
        cell (o, "ms", 1), cell (b, "ms", 1), ratio (o->median, b->median),
        "median < 1/2 of baseline's", met, pair (o, b, "ms"));
  }

  /* --- readers --- */
  readers = load_keyed ("readers-*-*-r*.json",
      "readers-(\\d+)-(ours|base)-r\\d+\\.json$", FALSE);
  {
    Series *io = series (numbers (raw_path ("idle-cpu-ours.txt")));
    Series *ib = series (numbers (raw_path ("idle-cpu-base.txt")));
    Series *co = rstat (4, "ours", CPU), *cb = rstat (4, "base", CPU);
    Series *ro = rstat (4, "ours", RSS), *rb = rstat (4, "base", RSS);
    row ("cpu_idle", "CPU of 4 cameras, no reader (% of one core)",
        cell (io, "%", 1), cell (ib, "%", 1), ratio (io->median, ib->median),
        "-", -1, pair (io, ib, "% of one core"));
    row ("cpu_4", "CPU of 4 cameras, 1 TCP reader each (% of one core)",
        cell (co, "%", 1), cell (cb, "%", 1), ratio (co->median, cb->median),
        "< 1/10 of baseline's",
        !(co->n && cb->n) ? -1 : co->median.d < cb->median.d / 10,
        pair (co, cb, "% of one core"));
    row ("rss_4", "RSS, same load", cell (ro, "MiB", 1), cell (rb, "MiB", 1),
        ratio (ro->median, rb->median), "-", -1, pair (ro, rb, "MiB"));
  }

  /* --- cameras on one core --- */
  cams = load_keyed ("cams-*-*.json", "cams-(\\d+)-(ours|base)\\.json$", TRUE);
  {
    g_autofree char *mc = NULL;
    Num max_cams = none;
    Sustained so, sb;
    if (g_file_get_contents (raw_path ("ours-max-cameras.txt"), &mc, NULL,
            NULL)) {
      char *end;
      gint64 v;
      g_strstrip (mc);
      v = g_ascii_strtoll (mc, &end, 10);
      if (*mc && !*end)
        max_cams = num_i (v);
    }
    so = sustained ("ours");
    sb = sustained ("base");
    d = json_object_new ();
    json_object_set_member (d, "ours", cams_node (so, "ours"));
    json_object_set_member (d, "baseline", cams_node (sb, "base"));
    json_object_set_member (d, "server_limit", node_num (max_cams));
    row ("cams_per_core",
        "cameras one core sustains (one TCP reader each, every frame)",
        cams_cell (so, max_cams), cams_cell (sb, none),
        so.est.ok && so.est.d != 0 && sb.est.ok && sb.est.d != 0
            ? ratio (so.est, sb.est)
            : none,
        ">= 200", so.est.ok ? so.est.d >= 200 : -1, d);
  }
  {
    Series *c4o = rstat (400, "ours", CPU), *c4b = rstat (400, "base", CPU);
    Series *r4o = rstat (400, "ours", RSS), *r4b = rstat (400, "base", RSS);
    Series *t4o = rstat (400, "ours", THREADS);
    Series *t4b = rstat (400, "base", THREADS);
    Keyed *ko = keyed (readers, 400, "ours", FALSE);
    Keyed *kb = keyed (readers, 400, "base", FALSE);
    row ("cpu_400", "400 TCP readers over 4 cameras: CPU (% of one core)",
        keep (g_strconcat (cell (c4o, "%", 1), runs_note (400, "ours"), NULL)),
        keep (g_strconcat (cell (c4b, "%", 1), runs_note (400, "base"), NULL)),
        ratio (c4o->median, c4b->median), "<= baseline (aim 1/2)",
        !(c4o->n && c4b->n) ? -1 : c4o->median.d <= c4b->median.d,
        pair (c4o, c4b, "% of one core"));
    d = json_object_new ();
    json_object_set_member (d, "ours",
        ko ? nodes_array (ko->runs) : node_num (none));
    json_object_set_member (d, "baseline",
        kb ? nodes_array (kb->runs) : node_num (none));
    row ("frames_400", "400 TCP readers: every reader receives every frame",
        frames_note (400, "ours"), frames_note (400, "base"), none, "yes",
        every_frame (400, "ours"), d);
    row ("rss_400", "400 TCP readers: RSS", cell (r4o, "MiB", 1),
        cell (r4b, "MiB", 1), ratio (r4o->median, r4b->median), "< 150 MB",
        !r4o->n ? -1 : r4o->median.d * 1.048576 < 150, pair (r4o, r4b, "MiB"));
    row ("threads_400", "400 TCP readers: threads", cell (t4o, "", 0),
        cell (t4b, "", 0), ratio (t4o->median, t4b->median), "-", -1,
        pair (t4o, t4b, NULL));
  }

  /* --- churn --- */
  {
    JsonNode *jo = load_json (raw_path ("churn-ours.json"));
    JsonNode *jb = load_json (raw_path ("churn-base.json"));
    gboolean after = truthy (jo) && GET (jo, "after");
    Num cycles = truthy (jo) ? NUM (jo, "cycles")
        : truthy (jb)        ? NUM (jb, "cycles")
                             : num_i (0);
    d = json_object_new ();
    json_object_set_member (d, "ours", node_copy (jo));
    json_object_set_member (d, "baseline", node_copy (jb));
    row ("churn_rss",
        keep (g_strdup_printf ("RSS growth over %s connect/PLAY/RST cycles",
            num_grouped (cycles))),
        churn_cell (jo, TRUE), churn_cell (jb, TRUE), none, "< 5 MB",
        !after ? -1
               : NUM (jo, "rss_growth_mib").d * 1.048576 < 5
                && NUM (jo, "failed").d == 0,
        d);
    row ("churn_threads_fds", "threads and fds before -> after the cycles",
        churn_cell (jo, FALSE), churn_cell (jb, FALSE), none,
        "back where they started",
        !after ? -1
               : NUM (jo, "threads_growth").d <= 0
                && NUM (jo, "fds_growth").d <= 0,
        NULL);
  }
  {
    Series *so = series (numbers (raw_path ("sigterm-ours.txt")));
    Series *sb = series (numbers (raw_path ("sigterm-base.txt")));
    row ("sigterm", "SIGTERM to exit, 4 readers playing", cell (so, "ms", 1),
        cell (sb, "ms", 1), ratio (so->median, sb->median), "-", -1,
        pair (so, sb, "ms"));
  }

  /* --- output --- */
  table = g_string_new (
      "| figure | ours (median / p90) | baseline (median / p90) | ratio | "
      "target | met |\n|---|---|---|---|---|---|\n");
  for (guint i = 0; i < rows->len; i++) {
    Row *r = &g_array_index (rows, Row, i);
    g_string_append_printf (table, "| %s | %s | %s | ", r->figure, r->ours,
        r->base);
    if (r->ratio.ok)
      g_string_append_printf (table, "%.2f", r->ratio.d);
    else
      g_string_append (table, "-");
    g_string_append_printf (table, " | %s | %s |\n", r->target,
        r->met < 0   ? "-"
            : r->met ? "yes"
                     : "NO");
  }
  g_clear_pointer (&text, g_free);
  if (g_file_get_contents (raw_path ("events.txt"), &text, NULL, NULL)) {
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    for (char **l = lines; *l; l++)
      if (*g_strstrip (*l))
        g_ptr_array_add (events, g_strdup (*l));
  }
  if (events->len) {
    g_string_append (table,
        "\nEvents (a server that stopped answering is restarted; stacks in "
        "raw/hang-*.txt):\n");
    for (guint i = 0; i < events->len; i++)
      g_string_append_printf (table, "- %s\n", (char *) events->pdata[i]);
  }
  head = g_string_new (NULL);
  g_string_append_printf (head,
      "Machine: %s cores (%s), %s, GStreamer %s; %s; run took %s s%s; load "
      "average %s before, %s after.\n",
      machine_get (mkeys, mvals, "cores"), machine_get (mkeys, mvals, "cpu"),
      machine_get (mkeys, mvals, "os"), machine_get (mkeys, mvals, "gstreamer"),
      machine_get (mkeys, mvals, "date"), machine_get (mkeys, mvals, "seconds"),
      g_str_equal (machine_get (mkeys, mvals, "quick"), "1") ? " (--quick)"
          : g_str_equal (machine_get (mkeys, mvals, "quick"), "smoke")
          ? " (--smoke)"
          : "",
      machine_get (mkeys, mvals, "load_before"),
      machine_get (mkeys, mvals, "load_after"));
  {
    g_autofree char *md = g_strconcat (head->str, "\n", table->str, NULL);
    write_file ("table.md", md);
  }

  top = json_object_new ();
  mobj = json_object_new ();
  for (guint i = 0; i < mkeys->len; i++)
    json_object_set_string_member (mobj, mkeys->pdata[i], mvals->pdata[i]);
  json_object_set_object_member (top, "machine", mobj);
  tarr = json_array_new ();
  for (guint i = 0; i < rows->len; i++) {
    Row *r = &g_array_index (rows, Row, i);
    JsonObject *o = json_object_new ();
    json_object_set_string_member (o, "key", r->key);
    json_object_set_string_member (o, "figure", r->figure);
    json_object_set_string_member (o, "ours", r->ours);
    json_object_set_string_member (o, "baseline", r->base);
    json_object_set_member (o, "ratio", node_num (r->ratio));
    json_object_set_string_member (o, "target", r->target);
    json_object_set_member (o, "met", node_tri (r->met));
    json_array_add_object_element (tarr, o);
  }
  json_object_set_array_member (top, "table", tarr);
  json_object_set_object_member (top, "figures", json_object_ref (figures));
  earr = json_array_new ();
  for (guint i = 0; i < events->len; i++)
    json_array_add_string_element (earr, events->pdata[i]);
  json_object_set_array_member (top, "events", earr);
  root = node_obj (top);
  json = g_string_new (NULL);
  append_json (json, root, 0);
  write_file ("results.json", json->str);

  csv = g_string_new ("figure,server,median,p90,n,unit\n");
  {
    g_autoptr (GList) keys = json_object_get_members (figures);
    for (GList *k = keys; k; k = k->next) {
      JsonNode *fig = json_object_get_member (figures, k->data);
      static const char *const srvs[] = { "ours", "baseline" };
      for (int i = 0; i < 2; i++) {
        JsonNode *s = GET (fig, srvs[i]);
        JsonNode *unit = GET (fig, "unit");
        if (!s || !JSON_NODE_HOLDS_OBJECT (s) || !GET (s, "median"))
          continue;
        g_string_append_printf (csv, "%s,%s,%s,%s,%s,%s\n", (char *) k->data,
            srvs[i],
            JSON_NODE_HOLDS_NULL (GET (s, "median"))
                ? ""
                : value_text (GET (s, "median")),
            GET (s, "p90") && !JSON_NODE_HOLDS_NULL (GET (s, "p90"))
                ? value_text (GET (s, "p90"))
                : "",
            value_text (GET (s, "n")), unit ? value_text (unit) : "");
      }
    }
  }
  {
    g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
    g_ptr_array_extend (sorted, readers, NULL, NULL);
    g_ptr_array_sort (sorted, cmp_keyed);
    for (guint i = 0; i < sorted->len; i++) {
      Keyed *k = sorted->pdata[i];
      const char *srv = g_str_equal (k->kind, "ours") ? "ours" : "baseline";
      for (guint r = 0; r < k->runs->len; r++) {
        JsonNode *j = k->runs->pdata[r];
        if (!truthy (GET (j, "server")))
          continue;
        g_string_append_printf (csv,
            "readers_%d_cpu_pct,%s,%s,,1,%% of one core\n", k->n, srv,
            value_text (GET (j, "server", "cpu_pct")));
        g_string_append_printf (csv, "readers_%d_rss_mib,%s,%s,,1,MiB\n", k->n,
            srv, value_text (GET (j, "server", "end", "rss_mib")));
      }
    }
  }
  write_file ("results.csv", csv->str);
  printf ("%s\n%s\n", head->str, table->str);
  fflush (stdout);

  plots (machine_get (mkeys, mvals, "cores"), ff);

  json_object_unref (figures);
  g_array_unref (rows);
  g_ptr_array_unref (readers);
  g_ptr_array_unref (cams);
  g_ptr_array_unref (all_series);
  g_ptr_array_unref (keep_nodes);
  g_ptr_array_unref (keep_strs);
  g_free (raw);
  return 0;
}
