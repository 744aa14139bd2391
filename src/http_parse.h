/* http_parse.h -- HTTP/1.x message framing, one direction of one
 * connection, fed incrementally with whatever each read or write carried.
 *
 * It finds where messages begin and end and nothing more: the request
 * line (for the route tag), the status code, Content-Length and chunked
 * bodies. It keeps no bytes but the route tag, so a connection costs a
 * few dozen bytes of state, and it never looks at a body byte but to
 * count it (chunk sizes excepted). Anything that is not HTTP/1.x framing
 * stops it for good (RP_HTTP_BAD): a connection we misread must not make
 * up requests. Start lines, which make requests, are checked strictly;
 * header lines are only framed (one without a colon is passed over).
 */
#ifndef REQPROF_HTTP_PARSE_H
#define REQPROF_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "ring_format.h"

enum rp_http_dir { RP_HTTP_REQUESTS = 0, RP_HTTP_RESPONSES = 1 };

enum rp_http_event {
    RP_HTTP_NONE = 0,   /* the bytes were consumed, nothing happened */
    RP_HTTP_BEGIN,      /* a message starts with the next byte (none consumed); only
                         * when its start line is not whole in what was fed: */
    RP_HTTP_START_LINE, /* its request line (route in .start) or status line (.status) is
                         * complete; with no BEGIN before it, the message began with it */
    RP_HTTP_DONE,       /* the message is complete */
    RP_HTTP_BAD,        /* not HTTP/1.x framing: nothing more will be found */
};

struct rp_http_parser {
    uint8_t  dir;           /* enum rp_http_dir */
    uint8_t  state;
    uint8_t  no_body;       /* responses: set at RP_HTTP_BEGIN or START_LINE when the request was HEAD */
    uint8_t  chunked;       /* Transfer-Encoding names chunked */
    uint8_t  match;         /* header name being matched, or chars of "chunked" matched */
    uint8_t  pos;           /* chars of the name, prefix or digits seen */
    uint8_t  interim;       /* a 1xx response: another head follows */
    uint8_t  method_len;    /* requests: length of the method in .start */
    uint16_t status;        /* responses */
    uint16_t start_len;
    uint64_t length;        /* Content-Length, then body or chunk bytes still to come */
    uint8_t  has_length;
    char     start[RP_ROUTE_LEN]; /* requests: "METHOD /path", query cut, NUL-terminated */
};

void rp_http_init(struct rp_http_parser *p, enum rp_http_dir dir);

/* Consumes bytes of buf[0..n) up to and including the first event's and
 * returns how many; *ev is that event, RP_HTTP_NONE when all n went by
 * quietly. Call again with the rest. */
size_t rp_http_feed(struct rp_http_parser *p, const char *buf, size_t n, enum rp_http_event *ev);

/* Whether the response being sent ends only when the connection does
 * (no Content-Length, not chunked): at close it is complete. */
int rp_http_until_close(const struct rp_http_parser *p);

/* n body bytes the caller cannot see (sendfile): counted as body or
 * chunk data if a body is being sent, else they desynchronise the
 * stream (RP_HTTP_BAD). Returns how many were consumed, as above. */
size_t rp_http_skip(struct rp_http_parser *p, size_t n, enum rp_http_event *ev);

#endif
