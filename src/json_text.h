/* json_text: a string as JSON text, for the log's JSON lines and the HTTP
 * answers alike.
 *
 * Owns how text becomes a JSON string: the short escapes where JSON has
 * them, \u00XX for every other control character and DEL, and each byte
 * that is not UTF-8 (a file's name, a broken server's answer quoted in an
 * error may hold any) written as the text \xNN: copied, it made the line or
 * the answer invalid JSON. */
#pragma once

#include <glib.h>

/* TEXT, quoted and escaped, appended to OUT. */
void rts_json_append_string (GString *out, const char *text);
