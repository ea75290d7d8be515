/* json_text: strings, numbers and whole documents as JSON text, for the
 * log's JSON lines and the HTTP answers alike.
 *
 * Owns how a value becomes JSON text. A string: the short escapes where JSON has
 * them, \u00XX for every other control character and DEL, and each byte
 * that is not UTF-8 (a file's name, a broken server's answer quoted in an
 * error may hold any) written as the text \xNN: copied, it made the line or
 * the answer invalid JSON. */
#pragma once

#include <glib.h>

/* TEXT, quoted and escaped, appended to OUT. */
void rts_json_append_string (GString *out, const char *text);

/* V in the fewest digits that read back as V ("2.67", not "%.17g"'s
 * "2.6699999999999999"), C locale; returns BUF. */
const char *
rts_json_format_number (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v);

/* A JSON document written front to back, compact, as JsonBuilder's calls
 * would build it: begin and end containers, name each member, add values.
 * Its doubles are written by rts_json_format_number (ending ".0" when whole,
 * so a double stays one to a client that checks; null when not finite:
 * JSON has no NaN), its strings by rts_json_append_string. /health is
 * answered on every request: a JsonBuilder's tree of nodes and walking it
 * again to print it took a fifth of the server's time per request. */
typedef struct _RtsJsonWriter RtsJsonWriter;

RtsJsonWriter *rts_json_writer_new (void);
void rts_json_writer_free (RtsJsonWriter *w);
/* The text written, and the writer freed. Every container must be ended. */
char *rts_json_writer_finish (RtsJsonWriter *w);

void rts_json_begin_object (RtsJsonWriter *w);
void rts_json_end_object (RtsJsonWriter *w);
void rts_json_begin_array (RtsJsonWriter *w);
void rts_json_end_array (RtsJsonWriter *w);
/* The next value is the open object's member NAME. */
void rts_json_member (RtsJsonWriter *w, const char *name);
/* NULL writes null. */
void rts_json_string (RtsJsonWriter *w, const char *value);
void rts_json_int (RtsJsonWriter *w, gint64 value);
void rts_json_double (RtsJsonWriter *w, double value);
void rts_json_bool (RtsJsonWriter *w, gboolean value);
void rts_json_null (RtsJsonWriter *w);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtsJsonWriter, rts_json_writer_free)
