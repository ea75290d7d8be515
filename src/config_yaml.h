/* config_yaml: reads a configuration file into flat (key, value, line)
 * entries; config.c decides what they mean.
 *
 * Owns nothing but the walk over libyaml's document: nested maps become
 * dotted keys ("http.port"), a list of scalars becomes one comma-separated
 * value, "defaults" holds camera settings for every camera and "cameras" is
 * a list of camera maps. Pure: no I/O beyond the bytes it is given, so it
 * can be fuzzed. */
#pragma once

#include <glib.h>

#define RTS_YAML_SERVER (-1)
#define RTS_YAML_DEFAULTS (-2)

typedef struct {
  int scope;     /* RTS_YAML_SERVER, RTS_YAML_DEFAULTS or a camera index */
  char *key;     /* dotted: "http.port", "auth.user" */
  char *value;   /* scalar text; a list's items joined by ',' */
  gboolean list; /* the value was a YAML list */
  guint line;    /* 1-based, of the value */
  /* An empty map ("http: {}"): VALUE is NULL; a known section is fine, an
   * unknown key is one. */
  gboolean section;
  /* A shape the key cannot have (a list of maps): VALUE is NULL and this
   * says why, once the key is known to exist (else: an unknown key, with
   * its "did you mean"). */
  char *shape_error;
} RtsYamlEntry;

/* Entries of TEXT (LEN bytes), in file order; NAME is the file's name for
 * messages. *N_CAMERAS gets the number of camera maps (0 if there is no
 * "cameras" key; -1 never). A syntax error, or a shape the configuration
 * cannot have (a map in a list, a file that is not a map, nesting deeper
 * than any configuration, a NUL in a value), fails naming NAME:LINE; a
 * list of maps under a key other than "cameras" is an entry with
 * shape_error, for config.c to name the key first. */
GPtrArray *rts_yaml_read (const char *name, const char *text, gsize len,
    guint *n_cameras, gboolean *has_cameras, GError **error);
