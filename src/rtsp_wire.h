/* rtsp_wire: reading RTSP and HTTP responses off the wire, and one edit
 * of an RTSP answer's header.
 *
 * Owns nothing but pure functions over byte buffers. It depends on libc only,
 * because rtsp-health-check links it into an image that may have nothing
 * else; the server's own probe uses the same code so both judge a response
 * the same way. */
#pragma once

#include <stddef.h>

/* Length of the header block including its blank line ("\r\n\r\n"), or 0 if
 * the buffer does not hold a whole header block yet. */
size_t wire_header_end (const char *buf, size_t len);

/* The status code of a response whose status line starts with PROTOCOL
 * ("RTSP" or "HTTP", case-sensitive) followed by "/1.0" or "/1.1", e.g.
 * "RTSP/1.0 200 OK". Returns 100..599, or -1 when the line is absent,
 * incomplete (its "\r\n" has not arrived) or malformed. */
int wire_status_code (const char *buf, size_t len, const char *protocol);

/* The Content-Length of a header block (case-insensitive name). Only whole
 * lines before the first blank one are looked at. Returns the value, -1 when
 * absent, -2 when malformed, absurd (> 16 MiB) or given twice with different
 * values. */
long wire_content_length (const char *hdr, size_t hdr_len);

/* 1 when a JSON body is an object whose top-level "status" member is the
 * string "healthy" ("unhealthy" does not match, nor does a "status" nested
 * deeper), else 0. Tolerates white space, not escapes: the server never
 * escapes that value. */
int wire_body_is_healthy (const char *body, size_t len);

/* The outermost object's member KEY, when its value is a string: the
 * length of its text as sent (escapes kept), with *VALUE pointing at it in
 * BODY; -1 when there is no such member (or the JSON breaks off first). */
long wire_body_member (const char *body, size_t len, const char *key,
    const char **value);

/* RTP-Info (RFC 2326 12.33: entries "url=U;seq=N;rtptime=T" separated by
 * commas) with SEQ as the seq parameter of the entry whose URL's last path
 * segment is CONTROL ("stream=0"), or with no seq parameter there when SEQ
 * is negative (RFC 2326 makes it optional: the client takes the first
 * packet it gets); everything else as it was. A copy to free(), or NULL
 * when no such entry has a seq (or out of memory). */
char *wire_rtpinfo_set_seq (const char *rtpinfo, const char *control, long seq);
