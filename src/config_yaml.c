/* config_yaml: see config_yaml.h. */
#include "config_yaml.h"

#include "config.h"

#include <string.h>
#include <yaml.h>

/* An alias can make a small file describe a huge tree: bound the walk. */
#define MAX_DEPTH 8
#define MAX_ENTRIES 10000
/* A value longer than any setting takes (a path, a token: 4 KiB), and
 * all values together no more than a file may hold: a list of aliases
 * of one long text multiplied it (100,000 aliases of 500 KB, a 900 KB
 * file, asked for 2 GiB and crashed). */
#define MAX_VALUE_BYTES 8192
#define MAX_TOTAL_BYTES (1024 * 1024)
/* Brackets or indentation deeper than any configuration: libyaml's loader
 * takes time in the square of the depth (100,000 brackets, a 100 KB file:
 * 9.5 s, with SIGTERM not yet taken), so a linear pass over the events
 * refuses such a file before it is loaded. */
#define MAX_NESTING 16

typedef struct {
  const char *name;
  yaml_document_t *doc;
  GPtrArray *entries;
  GHashTable *seen; /* "scope/key", "top/key" -> first line (a pointer) */
  gsize bytes;      /* of the values added so far */
  GError **error;
} Walk;

static void
entry_free (gpointer data)
{
  RtsYamlEntry *e = data;
  g_free (e->key);
  g_free (e->value);
  g_free (e->shape_error);
  g_free (e);
}

static gboolean
fail (Walk *w, const yaml_node_t *node, const char *what)
{
  g_set_error (w->error, RTS_CONFIG_ERROR, 0, "%s:%zu: %s", w->name,
      node->start_mark.line + 1, what);
  return FALSE;
}

/* A plain null, ~ or nothing: YAML's "no value", which read as text
 * became the setting "null" (a control token of "null", a user "~"). */
static gboolean
is_null (const yaml_node_t *node)
{
  const char *v = (const char *) node->data.scalar.value;

  return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
      && (node->data.scalar.length == 0 || g_str_equal (v, "~")
          || g_str_equal (v, "null") || g_str_equal (v, "Null")
          || g_str_equal (v, "NULL"));
}

/* KEY as a reader of the file knows it: "cameras[1].fps". */
static char *
shown_key (int scope, const char *key)
{
  if (scope == RTS_YAML_SERVER)
    return g_strdup (key);
  if (scope == RTS_YAML_DEFAULTS)
    return g_strdup_printf ("defaults.%s", key);
  return g_strdup_printf ("cameras[%d].%s", scope, key);
}

/* A quoted "\0" is a NUL inside the scalar: read as C text, the value
 * would end there ("/x\0/../y" taken as "/x"), past what was checked. */
static gboolean
has_nul (const yaml_node_t *node)
{
  return memchr (node->data.scalar.value, 0, node->data.scalar.length) != NULL;
}

/* Whether K, a map's key, is a name a setting could have: a scalar,
 * with no NUL in it. */
static gboolean
plain_key (const yaml_node_t *k)
{
  return k && k->type == YAML_SCALAR_NODE && !has_nul (k);
}

/* "<<: *base": libyaml loads a merge key as a key named "<<", so the map
 * behind it was reported as unknown keys ("cameras[0].<<.fps"). Fails
 * saying what is supported instead. */
static gboolean
no_merge_key (Walk *w, const yaml_node_t *k)
{
  if (k->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
      || !g_str_equal ((const char *) k->data.scalar.value, "<<"))
    return TRUE;
  return fail (w, k,
      "merge keys (<<: *name) are not supported: an alias works as a "
      "whole value (fps: *rate), and settings every camera shares go "
      "under defaults");
}

static char *
scalar (const yaml_node_t *node)
{
  return g_strndup ((const char *) node->data.scalar.value,
      node->data.scalar.length);
}

/* Whether ID (taking it) names a key not met before; if met, fails naming
 * KEY and both lines. libyaml keeps both of a repeated key: read as they
 * were, the last one silently won. */
static gboolean
first_time (Walk *w, char *id, const char *key, const yaml_node_t *node)
{
  gpointer first = g_hash_table_lookup (w->seen, id);

  if (first) {
    g_autofree char *what =
        g_strdup_printf ("key '%s' given twice (first on line %u)", key,
            GPOINTER_TO_UINT (first));
    g_free (id);
    return fail (w, node, what);
  }
  g_hash_table_insert (w->seen, id,
      GUINT_TO_POINTER (node->start_mark.line + 1));
  return TRUE;
}

static gboolean
add (Walk *w, int scope, const char *key, char *value, gboolean list,
    const yaml_node_t *node)
{
  RtsYamlEntry *e;

  if (w->entries->len >= MAX_ENTRIES) {
    g_free (value);
    return fail (w, node, "too many settings (aliases expanding?)");
  }
  w->bytes += value ? strlen (value) : 0;
  if (w->bytes > MAX_TOTAL_BYTES) {
    g_free (value);
    return fail (w, node,
        "the values add up to over 1 MiB (aliases expanding?); a "
        "configuration is far less");
  }
  g_autofree char *shown = shown_key (scope, key);
  if (!first_time (w, g_strdup_printf ("%d/%s", scope, key), shown, node)) {
    g_free (value);
    return FALSE;
  }
  e = g_new0 (RtsYamlEntry, 1);
  e->scope = scope;
  e->key = g_strdup (key);
  e->value = value;
  e->list = list;
  e->line = node->start_mark.line + 1;
  g_ptr_array_add (w->entries, e);
  return TRUE;
}

/* An entry that is not a value: an empty map (SHAPE NULL) or a shape the
 * key cannot have. */
static gboolean
add_shape (Walk *w, int scope, const char *key, const char *shape,
    const yaml_node_t *node)
{
  RtsYamlEntry *e;

  if (!add (w, scope, key, NULL, FALSE, node))
    return FALSE;
  e = w->entries->pdata[w->entries->len - 1];
  e->section = shape == NULL;
  e->shape_error = g_strdup (shape);
  return TRUE;
}

static gboolean walk_map (Walk *w, int scope, const char *prefix,
    yaml_node_t *map, const yaml_node_t *at, guint depth);

/* A value longer than MAX_VALUE_BYTES fails, saying so at AT. */
static gboolean
short_enough (Walk *w, int scope, const char *key, gsize len,
    const yaml_node_t *at)
{
  g_autofree char *shown = NULL;
  g_autofree char *what = NULL;

  if (len <= MAX_VALUE_BYTES)
    return TRUE;
  shown = shown_key (scope, key);
  what = g_strdup_printf ("key '%s': the value is over %d bytes; no setting "
                          "takes so long a one",
      shown, MAX_VALUE_BYTES);
  return fail (w, at, what);
}

/* NODE, the value of KEY, written at AT (its key: an alias's value is
 * the anchor's node, a block list's starts a line lower). */
static gboolean
walk_value (Walk *w, int scope, const char *key, yaml_node_t *node,
    const yaml_node_t *at, guint depth)
{
  if (!node)
    return FALSE;
  switch (node->type) {
    case YAML_SCALAR_NODE:
      if (is_null (node)) {
        g_autofree char *shown = shown_key (scope, key);
        g_autofree char *what =
            g_strdup_printf ("key '%s' has no value (YAML null): leave the key "
                             "out for its default",
                shown);
        return fail (w, at, what);
      }
      if (has_nul (node)) {
        g_autofree char *shown = shown_key (scope, key);
        g_autofree char *what =
            g_strdup_printf ("key '%s': the value holds a NUL character "
                             "(\\0), which no setting may",
                shown);
        return fail (w, at, what);
      }
      if (!short_enough (w, scope, key, node->data.scalar.length, at))
        return FALSE;
      return add (w, scope, key, scalar (node), FALSE, at);
    case YAML_SEQUENCE_NODE: {
      GString *joined = g_string_new (NULL);
      for (yaml_node_item_t *i = node->data.sequence.items.start;
           i < node->data.sequence.items.top; i++) {
        yaml_node_t *item = yaml_document_get_node (w->doc, *i);
        if (!item || item->type != YAML_SCALAR_NODE) {
          g_string_free (joined, TRUE);
          return add_shape (w, scope, key,
              "a list here holds plain values, not maps or lists", at);
        }
        if (has_nul (item)) {
          g_autofree char *shown = shown_key (scope, key);
          g_autofree char *what =
              g_strdup_printf ("key '%s': an item holds a NUL character (\\0)",
                  shown);
          g_string_free (joined, TRUE);
          return fail (w, item, what);
        }
        g_autofree char *text = scalar (item);
        /* Items are joined with commas: "tcp,udp" as one item would pass
         * as two, which is not what the list says. */
        if (strchr (text, ',')) {
          g_autofree char *shown = shown_key (scope, key);
          g_autofree char *what =
              g_strdup_printf ("key '%s': item '%s' holds a comma: one value "
                               "per item "
                               "([a, b])",
                  shown, text);
          g_string_free (joined, TRUE);
          return fail (w, item, what);
        }
        if (joined->len)
          g_string_append_c (joined, ',');
        g_string_append (joined, text);
        if (!short_enough (w, scope, key, joined->len, at)) {
          g_string_free (joined, TRUE);
          return FALSE;
        }
      }
      return add (w, scope, key, g_string_free (joined, FALSE), TRUE, at);
    }
    case YAML_MAPPING_NODE:
      return walk_map (w, scope, key, node, at, depth + 1);
    case YAML_NO_NODE:
    default:
      return fail (w, at, "unexpected YAML node");
  }
}

static gboolean
walk_cameras (Walk *w, yaml_node_t *list, guint *n)
{
  if (list->type != YAML_SEQUENCE_NODE)
    return fail (w, list,
        "key 'cameras': expects a list of cameras (- name: ... port: ...)");
  for (yaml_node_item_t *i = list->data.sequence.items.start;
       i < list->data.sequence.items.top; i++) {
    yaml_node_t *cam = yaml_document_get_node (w->doc, *i);
    if (!cam || cam->type != YAML_MAPPING_NODE)
      return fail (w, cam ? cam : list,
          "key 'cameras': each camera is a map (name: ..., port: ...)");
    if (*n >= RTS_MAX_CAMERAS) {
      g_autofree char *what =
          g_strdup_printf ("key 'cameras': at most %d cameras",
              RTS_MAX_CAMERAS);
      return fail (w, cam, what);
    }
    if (!walk_map (w, (int) *n, NULL, cam, cam, 1))
      return FALSE;
    (*n)++;
  }
  return TRUE;
}

static gboolean
walk_map (Walk *w, int scope, const char *prefix, yaml_node_t *map,
    const yaml_node_t *at, guint depth)
{
  if (depth > MAX_DEPTH)
    return fail (w, at, "nested too deeply");
  if (prefix && map->data.mapping.pairs.start == map->data.mapping.pairs.top)
    return add_shape (w, scope, prefix, NULL, at);
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
       p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node (w->doc, p->key);
    yaml_node_t *v = yaml_document_get_node (w->doc, p->value);
    if (!plain_key (k))
      return fail (w, k ? k : map, "a key must be a plain name");
    if (!no_merge_key (w, k))
      return FALSE;
    g_autofree char *name = scalar (k);
    g_autofree char *key =
        prefix ? g_strconcat (prefix, ".", name, NULL) : g_strdup (name);
    if (!walk_value (w, scope, key, v, k, depth))
      return FALSE;
  }
  return TRUE;
}

/* No U+0085, U+2028 or U+2029 anywhere in the file: YAML 1.1 (libyaml)
 * takes them for line ends, so inside a quoted value one became a space,
 * silently (a user "u<NEL>x" was "u x"), and outside one the next error
 * named the wrong line. Refused where they are, as any other control
 * character in a value is. */
static gboolean
no_yaml_breaks (const char *name, const char *text, gsize len, GError **error)
{
  guint line = 1;

  for (gsize i = 0; i < len; i++) {
    const char *what = NULL;

    if (text[i] == '\n'
        || (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n')))
      line++;
    else if ((guchar) text[i] == 0xc2 && i + 1 < len
        && (guchar) text[i + 1] == 0x85)
      what = "U+0085 (NEL)";
    else if ((guchar) text[i] == 0xe2 && i + 2 < len
        && (guchar) text[i + 1] == 0x80
        && ((guchar) text[i + 2] == 0xa8 || (guchar) text[i + 2] == 0xa9))
      what = (guchar) text[i + 2] == 0xa8 ? "U+2028 (LINE SEPARATOR)"
                                          : "U+2029 (PARAGRAPH SEPARATOR)";
    if (what) {
      g_set_error (error, RTS_CONFIG_ERROR, 0,
          "%s:%u: %s, which YAML takes for a line end (a quoted value "
          "would hold a space instead): not allowed in the file",
          name, line, what);
      return FALSE;
    }
  }
  return TRUE;
}

/* MAX_NESTING, checked by libyaml's event parser (linear) before its
 * loader runs. A syntax error is left for the loader to say. */
static gboolean
shallow_enough (const char *name, const char *text, gsize len, GError **error)
{
  yaml_parser_t parser;
  yaml_event_t ev;
  guint depth = 0;
  gboolean ok = TRUE, done = FALSE;

  yaml_parser_initialize (&parser);
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
  while (ok && !done && yaml_parser_parse (&parser, &ev)) {
    if (ev.type == YAML_SEQUENCE_START_EVENT
        || ev.type == YAML_MAPPING_START_EVENT) {
      if (++depth > MAX_NESTING) {
        g_set_error (error, RTS_CONFIG_ERROR, 0,
            "%s:%zu: nested deeper than %d levels; a configuration is a few",
            name, ev.start_mark.line + 1, MAX_NESTING);
        ok = FALSE;
      }
    } else if (ev.type == YAML_SEQUENCE_END_EVENT
        || ev.type == YAML_MAPPING_END_EVENT) {
      depth--;
    } else if (ev.type == YAML_STREAM_END_EVENT) {
      done = TRUE;
    }
    yaml_event_delete (&ev);
  }
  yaml_parser_delete (&parser);
  return ok;
}

/* Fails naming the line libyaml's PARSER stopped at in TEXT. */
static void
syntax_error (const char *name, const yaml_parser_t *parser, const char *text,
    gsize len, GError **error)
{
  const char *problem = parser->problem ? parser->problem : "syntax error";

  if (parser->error == YAML_READER_ERROR) {
    /* Bad bytes (invalid UTF-8, a control character) are found by the
     * reader, which gives only a byte offset: its marks stay at the
     * start, so the message named line 1 whatever the line. */
    gsize at = MIN (parser->problem_offset, len), line = 1, col = 1;
    for (gsize i = 0; i < at; i++) {
      line += text[i] == '\n';
      col = text[i] == '\n' ? 1 : col + 1;
    }
    g_autofree char *value = parser->problem_value >= 0
        ? g_strdup_printf (" (0x%02x)", parser->problem_value)
        : g_strdup ("");
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s:%zu: not valid YAML: %s%s at column %zu", name, line, problem,
        value, col);
    return;
  }
  /* An unclosed quote or bracket is found at the end of the file: the
   * line it was opened on is the one to look at. */
  g_autofree char *opened =
      parser->context && parser->context_mark.line != parser->problem_mark.line
      ? g_strdup_printf (" (begun on line %zu)", parser->context_mark.line + 1)
      : g_strdup ("");
  g_set_error (error, RTS_CONFIG_ERROR, 0, "%s:%zu: not valid YAML: %s%s%s%s",
      name, parser->problem_mark.line + 1, problem, parser->context ? " " : "",
      parser->context ? parser->context : "", opened);
}

GPtrArray *
rts_yaml_read (const char *name, const char *text, gsize len, guint *n_cameras,
    gboolean *has_cameras, GError **error)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_node_t *root;
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (entry_free);
  g_autoptr (GHashTable) seen =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Walk w = { name, &doc, entries, seen, 0, error };
  gboolean ok = TRUE;

  *n_cameras = 0;
  *has_cameras = FALSE;
  if (!no_yaml_breaks (name, text, len, error)
      || !shallow_enough (name, text, len, error))
    return NULL;
  yaml_parser_initialize (&parser);
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
  if (!yaml_parser_load (&parser, &doc)) {
    syntax_error (name, &parser, text, len, error);
    yaml_parser_delete (&parser);
    return NULL;
  }
  root = yaml_document_get_root_node (&doc);
  if (!root) {
    /* An empty file (a failed mount of a ConfigMap, say) gave the four
     * default cameras without a word, though "---" or "~" is refused. */
    g_set_error (error, RTS_CONFIG_ERROR, 0,
        "%s: the file holds no settings (no YAML document); leave out "
        "--config for the default cameras",
        name);
    ok = FALSE;
  } else if (root->type != YAML_MAPPING_NODE) {
    ok = fail (&w, root, "the file must be a map of settings (key: value)");
  } else {
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         ok && p < root->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node (&doc, p->key);
      yaml_node_t *v = yaml_document_get_node (&doc, p->value);
      if (!plain_key (k)) {
        ok = fail (&w, k ? k : root, "a key must be a plain name");
        break;
      }
      if (!no_merge_key (&w, k)) {
        ok = FALSE;
        break;
      }
      g_autofree char *key = scalar (k);
      if (!first_time (&w, g_strdup_printf ("top/%s", key), key, k)) {
        ok = FALSE;
        break;
      }
      if (g_strcmp0 (key, "cameras") == 0) {
        *has_cameras = TRUE;
        ok = walk_cameras (&w, v, n_cameras);
      } else if (g_strcmp0 (key, "defaults") == 0) {
        ok = v->type == YAML_MAPPING_NODE
            ? walk_map (&w, RTS_YAML_DEFAULTS, NULL, v, k, 1)
            : fail (&w, v, "key 'defaults': expects a map of camera settings");
      } else {
        ok = walk_value (&w, RTS_YAML_SERVER, key, v, k, 1);
      }
    }
  }
  yaml_document_delete (&doc);
  if (ok) {
    /* A second document (after ---) was ignored without a word. */
    if (!yaml_parser_load (&parser, &doc)) {
      syntax_error (name, &parser, text, len, error);
      ok = FALSE;
    } else {
      root = yaml_document_get_root_node (&doc);
      if (root && !(root->type == YAML_SCALAR_NODE && is_null (root)))
        ok = fail (&w, root,
            "a second YAML document: the file holds one map of settings");
      yaml_document_delete (&doc);
    }
  }
  yaml_parser_delete (&parser);
  return ok ? g_steal_pointer (&entries) : NULL;
}
