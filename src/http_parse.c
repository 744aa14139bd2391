/* http_parse.c -- see http_parse.h. A byte-at-a-time state machine for
 * what must be read (method, target, status code, the names and values of
 * Content-Length and Transfer-Encoding), with everything else skipped in
 * bulk: the rest of a start line, headers that cannot be one of those two
 * (told by their first letter and where their first colon is), chunk
 * extensions and trailers go by to the next LF, and bodies and chunk data
 * by count. Stepping through every byte cost some 30 instructions a byte,
 * a third of what an nginx worker spent on a small request. Now, with
 * SSE2 (every x86-64), a whole head's LFs are found 64 bytes at a time,
 * each stretch compared once however many lines it holds, and a header
 * line costs a look at its first byte; a target is scanned 16 bytes at a
 * time for the byte that ends its path; the two header names that matter
 * are compared 8 bytes at a time. rp_http_feed takes a whole start line
 * or whole header lines itself and leaves the rest to a general loop
 * (feed_from), so the common case is two short calls a message.
 *
 * Start lines are checked strictly: they are what make requests. Header
 * lines are only framed: one without a colon is passed over, as the
 * server will answer such a request (nginx with 400) and the answer is
 * the request's. Bare LF ends a line as CRLF does, and CR is otherwise
 * ignored, as servers are lenient in what they accept.
 */
#include <stddef.h>
#include <string.h>
#include "hot.h"
#include "http_parse.h"
#if defined(__SSE2__) && !defined(RP_HTTP_PORTABLE)
#include <emmintrin.h>
#define RP_HTTP_SSE2 1
#endif

enum state {
    S_IDLE,         /* between messages: blank lines are skipped */
    S_METHOD,
    S_TARGET,
    S_VERSION,      /* "HTTP/1." after the target */
    S_STATUS_PROTO, /* "HTTP/1." opening a status line */
    S_STATUS_VER,   /* the rest of the version, up to the space */
    S_STATUS_CODE,
    S_LINE_REST,    /* to the end of the start line */
    S_HDR_START,
    S_HDR_NAME,
    S_HDR_VALUE,
    S_HDR_SKIP,     /* a header that is neither of ours: to its LF */
    S_BODY,
    S_CHUNK_SIZE,
    S_CHUNK_EXT,
    S_CHUNK_DATA,
    S_CHUNK_END,    /* the CRLF after chunk data */
    S_TRAILER_START,
    S_TRAILER_LINE,
    S_UNTIL_CLOSE,  /* a response body that ends when the connection does */
    S_BAD,
};

enum { H_CONTENT_LENGTH = 1, H_TRANSFER_ENCODING = 2 }; /* bits of .match while in a name */

static const char *const interesting[] = { "content-length", "transfer-encoding" };
static const uint8_t interesting_len[] = { 14, 17 };
static const char http1[] = "HTTP/1.";

#define METHOD_MAX 20

RP_HOT void rp_http_init(struct rp_http_parser *p, enum rp_http_dir dir)
{
    memset(p, 0, sizeof *p);
    p->dir = (uint8_t)dir;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* LFs are looked for a stretch of a head at a time, each stretch looked
 * at once however many lines it holds: a head's lines are short (nginx's
 * average 25 bytes), and a memchr per line costs more in its call and
 * set-up than the rest of the line's bookkeeping. lf_chunk is the mask of
 * the LFs in the 64 bytes at blk of the buffer [start, end) (fewer at its
 * end), bit i for blk[i]. With SSE2, which every x86-64 has, 16 bytes are
 * compared at once, and a stretch that end cuts short is read as the
 * buffer's last 16 or 64 bytes, shifted, so that nothing outside the
 * buffer is read; elsewhere memchr finds each LF. */
#ifdef RP_HTTP_SSE2
/* c in every byte of a vector, made in registers: as a constant, the
 * compiler would load it from .rodata, a page of its own that the parser
 * would touch between two system calls (hot.h). */
static inline __m128i splat(unsigned char c)
{
    unsigned x = c * 0x01010101u;
    __asm__("" : "+r"(x));
    return _mm_shuffle_epi32(_mm_cvtsi32_si128((int)x), 0);
}

static inline unsigned lf_mask16(const char *at)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)at), splat('\n')));
}

/* The mask of the 16 bytes at blk. */
static inline unsigned lf_block(const char *start, const char *blk, const char *end)
{
    if (end - blk >= 16)
        return lf_mask16(blk);
    if (end - start >= 16)
        return lf_mask16(end - 16) >> (16 - (end - blk));
    unsigned m = 0;
    for (unsigned i = 0; blk + i < end; i++)
        m |= (unsigned)(blk[i] == '\n') << i;
    return m;
}

static inline uint64_t lf_chunk(const char *start, const char *blk, const char *end)
{
    if (end - start >= 64) {
        const char *at = end - blk >= 64 ? blk : end - 64;
        uint64_t m = (uint64_t)lf_mask16(at) | (uint64_t)lf_mask16(at + 16) << 16
                     | (uint64_t)lf_mask16(at + 32) << 32 | (uint64_t)lf_mask16(at + 48) << 48;
        return m >> (blk - at);
    }
    uint64_t m = 0;    /* a buffer shorter than 64 bytes: headers_whole asks for blk == start */
    for (const char *b = blk; b < end; b += 16)
        m |= (uint64_t)lf_block(start, b, end) << (b - blk);
    return m;
}

/* The first LF in [at, end), or NULL: a line at a time, for start lines. */
static const char *find_lf(const char *at, const char *end)
{
    for (const char *blk = at; blk < end; blk += 16) {
        unsigned m = lf_block(at, blk, end);
        if (m)
            return blk + __builtin_ctz(m);
    }
    return NULL;
}
#else
static inline uint64_t lf_chunk(const char *start, const char *blk, const char *end)
{
    (void)start;
    const char *stop = end - blk > 64 ? blk + 64 : end;
    uint64_t m = 0;
    for (const char *at = blk; at < stop && (at = memchr(at, '\n', (size_t)(stop - at))); at++)
        m |= (uint64_t)1 << (at - blk);
    return m;
}

static const char *find_lf(const char *at, const char *end)
{
    return memchr(at, '\n', (size_t)(end - at));
}
#endif

static void start_message(struct rp_http_parser *p)
{
    uint8_t dir = p->dir;
    memset(p, 0, offsetof(struct rp_http_parser, start)); /* start[] is as long as start_len says */
    p->start[0] = '\0';
    p->dir = dir;
    p->state = p->dir == RP_HTTP_REQUESTS ? S_METHOD : S_STATUS_PROTO;
}

static void append_start(struct rp_http_parser *p, char c)
{
    if (p->start_len + 1 < RP_ROUTE_LEN) {
        p->start[p->start_len++] = c;
        p->start[p->start_len] = '\0';
    }
}

/* The blank line after the headers: what comes next, and whether the
 * message is already complete. */
RP_HOT_HEAD static enum rp_http_event head_end(struct rp_http_parser *p)
{
    if (p->dir == RP_HTTP_RESPONSES) {
        if (p->status == 101) {            /* upgraded: no longer HTTP */
            p->state = S_BAD;
            return RP_HTTP_DONE;
        }
        if (p->interim) {                  /* 100 Continue and friends: the real head follows */
            p->state = S_IDLE;
            return RP_HTTP_NONE;
        }
        if (p->no_body || p->status == 204 || p->status == 304) {
            p->state = S_IDLE;
            return RP_HTTP_DONE;
        }
    }
    if (p->chunked) {
        p->state = S_CHUNK_SIZE;
        p->length = 0;
        return RP_HTTP_NONE;
    }
    if (p->has_length && p->length > 0) {
        p->state = S_BODY;
        return RP_HTTP_NONE;
    }
    if (p->dir == RP_HTTP_RESPONSES && !p->has_length) {
        p->state = S_UNTIL_CLOSE;
        return RP_HTTP_NONE;
    }
    p->state = S_IDLE;
    return RP_HTTP_DONE;
}

static enum rp_http_event bad(struct rp_http_parser *p)
{
    p->state = S_BAD;
    return RP_HTTP_BAD;
}

static void header_name_char(struct rp_http_parser *p, char c)
{
    for (unsigned k = 0; k < 2; k++)
        if ((p->match & (1u << k)) && (p->pos >= interesting_len[k] || interesting[k][p->pos] != c))
            p->match &= (uint8_t)~(1u << k);
    if (p->pos < 255)
        p->pos++;
}

/* A byte of a Content-Length value: a digit adds up into *length (1),
 * anything else is passed over (0); -1 when the length would not fit. */
static inline int length_byte(uint64_t *length, char c)
{
    unsigned digit = (unsigned)(unsigned char)c - '0';
    if (digit > 9)
        return 0;
    if (*length > (UINT64_MAX - 9) / 10)
        return -1;
    *length = *length * 10 + digit;
    return 1;
}

/* The same for the parser's own length, a step at a time: a length that
 * would not fit is BAD. */
static inline enum rp_http_event length_char(struct rp_http_parser *p, char c)
{
    int r = length_byte(&p->length, c);
    if (r < 0)
        return bad(p);
    p->has_length |= (uint8_t)r;
    return RP_HTTP_NONE;
}

RP_HOT static enum rp_http_event header_value_char(struct rp_http_parser *p, char c)
{
    if (p->match == H_CONTENT_LENGTH) {
        return length_char(p, c);
    } else if (p->match == H_TRANSFER_ENCODING) {
        static const char chunked[] = "chunked";
        c = lower(c);
        p->pos = c == chunked[p->pos] ? (uint8_t)(p->pos + 1) : (c == 'c');
        if (p->pos == sizeof chunked - 1) {
            p->chunked = 1;
            p->pos = 0;
        }
    }
    return RP_HTTP_NONE;
}

/* What the first byte of a header line says: BLANK, the line ends the
 * head; a length, the line may be Content-Length (14) or
 * Transfer-Encoding (17), whose name's first colon is that far in; 0, it
 * is neither. A name ends at its first colon, so a line whose byte 14 is
 * not a colon is not Content-Length. Not const, as request_byte: both are
 * read on every message, and on the hot data page (hot.h) they cost no
 * page walk of their own, as .rodata's page would. */
enum { BLANK = 255 };
RP_HOT_DATA static uint8_t line_start[256] = {
    ['\r'] = BLANK, ['\n'] = BLANK, ['c'] = 14, ['C'] = 14, ['t'] = 17, ['T'] = 17,
};

/* Whether the 8 bytes at s are those of `lower` (letters and '-' only)
 * with the letters in either case: OR-ing 0x20 turns only 'A'-'Z' into
 * 'a'-'z', but it also turns CR into '-', so the caller checks the
 * dashes itself. */
static int same8(const char *s, const char *lower)
{
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, lower, 8);
    return (a | 0x2020202020202020ull) == b;
}

/* Which of our headers the line at s is (0 for neither), its first colon
 * being k bytes in (line_start's length for its first byte). */
static unsigned header_named(const char *s, unsigned k)
{
    if (k == 14 && same8(s, "content-") && same8(s + 6, "t-length") && s[7] == '-')
        return H_CONTENT_LENGTH;
    if (k == 17 && same8(s, "transfer") && same8(s + 8, "-encodin") && same8(s + 9, "encoding")
        && s[8] == '-')
        return H_TRANSFER_ENCODING;
    return 0;
}

/* The value of one of our headers, from after its colon to its LF. */
static void header_value(struct rp_http_parser *p, unsigned match, const char *v, const char *lf)
{
    p->match = (uint8_t)match;
    if (match == H_CONTENT_LENGTH) {
        uint64_t length = 0;          /* the last Content-Length counts; a local, kept in */
        int digits = 0;               /* a register, where p->length would be stored at every byte */
        for (; v < lf; v++) {
            int r = length_byte(&length, *v);
            if (r < 0) {
                bad(p);
                return;
            }
            digits |= r;
        }
        p->length = length;
        p->has_length |= (uint8_t)digits;
    } else {
        p->pos = 0;
        for (; v < lf; v++)
            header_value_char(p, *v);
    }
}

/* Whole header lines at the start of buf, up to and including the blank
 * line that ends the head when it is there: a line that cannot be one of
 * ours (its first byte, and where its first colon would be, tell) costs
 * a bit of an LF mask; the values of ours are read. Returns the bytes
 * taken, with *ev set by head_end when the head ended; stops early at a line
 * not whole in buf or a CR not followed by LF at a line's start, which
 * the caller then deals with, and at a Content-Length too large (BAD). */
RP_HOT_HEAD static size_t headers_whole(struct rp_http_parser *p, const char *buf, size_t n, enum rp_http_event *ev)
{
    const char *at = buf, *end = buf + n;   /* at: the start of the line being looked for */
    for (const char *blk = buf; blk < end; blk += 64)
        for (uint64_t m = lf_chunk(buf, blk, end); m; m &= m - 1) {
            const char *lf = blk + __builtin_ctzll(m);
            unsigned k = line_start[(unsigned char)*at];
            if (k == BLANK) {
                if (lf > at + (*at == '\r'))   /* a CR that another byte follows: the caller's */
                    return (size_t)(at - buf);
                *ev = head_end(p);
                return (size_t)(lf + 1 - buf);
            }
            unsigned match = k && lf - at > k && at[k] == ':' ? header_named(at, k) : 0;
            if (match) {
                header_value(p, match, at + k + 1, lf);
                if (p->state == S_BAD) {
                    *ev = RP_HTTP_BAD;
                    return (size_t)(lf + 1 - buf);
                }
            }
            at = lf + 1;
        }
    return (size_t)(at - buf);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Bytes of a request line: T_METHOD may be in a method; T_END ends a
 * target (controls, space, DEL); T_CUT ends its path (query, fragment). */
enum { T_METHOD = 1, T_END = 2, T_CUT = 4 };
RP_HOT_DATA static uint8_t request_byte[256] = {
    [0 ... ' '] = T_END, [0x7f] = T_END, ['?'] = T_CUT, ['#'] = T_CUT,
    ['A' ... 'Z'] = T_METHOD, ['-'] = T_METHOD, ['_'] = T_METHOD,
};

/* The first byte in [at, end) that is one of `stop` (T_END, or T_END |
 * T_CUT), or end; with SSE2, 16 bytes at a time: a path is tens of bytes. */
static inline const char *target_stop(const char *at, const char *end, unsigned stop)
{
#ifdef RP_HTTP_SSE2
    for (; end - at >= 16; at += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)at);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(b, splat(' ')), b), /* <= ' ' */
                                   _mm_cmpeq_epi8(b, splat(0x7f)));
        if (stop & T_CUT)
            hit = _mm_or_si128(hit, _mm_or_si128(_mm_cmpeq_epi8(b, splat('?')), _mm_cmpeq_epi8(b, splat('#'))));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return at + __builtin_ctz(m);
    }
#endif
    while (at < end && !(request_byte[(unsigned char)*at] & stop))
        at++;
    return at;
}

static int method_char(char c)
{
    return request_byte[(unsigned char)c] & T_METHOD;
}

/* A whole start line in buf, up to its LF: parsed with a few scans
 * instead of a step per byte. Returns the bytes taken, with *ev set to
 * RP_HTTP_START_LINE; 0 when the line is not whole in buf or anything in
 * it is off (the byte-wise path then takes it, and finds what is wrong). */
RP_HOT_HEAD static size_t start_line_whole(struct rp_http_parser *p, const char *buf, size_t n, enum rp_http_event *ev)
{
    const char *lf = find_lf(buf, buf + n);
    if (!lf)
        return 0;
    size_t len = (size_t)(lf - buf), i = 0;
    if (p->dir == RP_HTTP_RESPONSES) {
        if (len < 12 || memcmp(buf, http1, sizeof http1 - 1) != 0)
            return 0;
        for (i = sizeof http1 - 1; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
            ;
        if (i == sizeof http1 - 1 || i + 4 > len || buf[i] != ' ')
            return 0;
        uint16_t status = 0;
        for (size_t k = i + 1; k < i + 4; k++) {
            if (buf[k] < '0' || buf[k] > '9')
                return 0;
            status = (uint16_t)(status * 10 + (buf[k] - '0'));
        }
        p->status = status;
        p->interim = status >= 100 && status < 200;
    } else {
        while (i < len && i < METHOD_MAX && method_char(buf[i]))
            i++;
        if (i == 0 || i == len || buf[i] != ' ')
            return 0;
        size_t method = i++, target = i;
        /* buf[len] is the LF, which ends these scans if nothing before does */
        size_t path_end = (size_t)(target_stop(buf + i, buf + n, T_END | T_CUT) - buf);
        i = path_end;
        if (!(request_byte[(unsigned char)buf[i]] & T_END))
            i = (size_t)(target_stop(buf + i, buf + n, T_END) - buf);
        if (i == target || i == len || buf[i] != ' ' || len - i - 1 < sizeof http1 - 1
            || memcmp(buf + i + 1, http1, sizeof http1 - 1) != 0)
            return 0;
        /* the method (at most METHOD_MAX), its space and the path are
         * buf[0, path_end): the route, cut to fit */
        size_t route = path_end < RP_ROUTE_LEN - 1 ? path_end : RP_ROUTE_LEN - 1;
        memcpy(p->start, buf, route);
        p->start_len = (uint16_t)route;
        p->start[p->start_len] = '\0';
        p->method_len = (uint8_t)method;
    }
    p->state = S_HDR_START;
    *ev = RP_HTTP_START_LINE;
    return len + 1;
}

/* One byte of a start line or header block. */
static enum rp_http_event step(struct rp_http_parser *p, char c)
{
    switch (p->state) {
    case S_METHOD:
        if (c == ' ' && p->start_len > 0) {
            p->method_len = (uint8_t)p->start_len;
            append_start(p, ' ');
            p->state = S_TARGET;
            p->match = 0;
            return RP_HTTP_NONE;
        }
        if (method_char(c) && p->start_len < METHOD_MAX) {
            append_start(p, c);
            return RP_HTTP_NONE;
        }
        return bad(p);
    case S_TARGET:
        if (c == ' ') {
            p->state = S_VERSION;
            p->pos = 0;
        } else if ((unsigned char)c <= ' ' || c == 0x7f) {
            return bad(p);
        } else if (c == '?' || c == '#') {
            p->match = 1; /* the query is not part of the route */
        } else if (!p->match) {
            append_start(p, c);
        }
        return RP_HTTP_NONE;
    case S_VERSION:
    case S_STATUS_PROTO:
        if (c != http1[p->pos])
            return bad(p);
        if (++p->pos == sizeof http1 - 1)
            p->state = p->state == S_VERSION ? S_LINE_REST : S_STATUS_VER;
        return RP_HTTP_NONE;
    case S_STATUS_VER:
        if (c == ' ') {
            p->state = S_STATUS_CODE;
            p->pos = 0;
        } else if (c < '0' || c > '9') {
            return bad(p);
        }
        return RP_HTTP_NONE;
    case S_STATUS_CODE:
        if (c < '0' || c > '9')
            return bad(p);
        p->status = (uint16_t)(p->status * 10 + (c - '0'));
        if (++p->pos == 3) {
            p->interim = p->status >= 100 && p->status < 200;
            p->state = S_LINE_REST;
        }
        return RP_HTTP_NONE;
    case S_LINE_REST:
        if (c == '\n') {
            p->state = S_HDR_START;
            return RP_HTTP_START_LINE;
        }
        return RP_HTTP_NONE;
    case S_HDR_START:
        if (c == '\r')
            return RP_HTTP_NONE;
        if (c == '\n')
            return head_end(p);
        p->pos = 0;
        if (lower(c) != 'c' && lower(c) != 't') {
            p->state = S_HDR_SKIP;
            return RP_HTTP_NONE;
        }
        p->state = S_HDR_NAME;
        p->match = H_CONTENT_LENGTH | H_TRANSFER_ENCODING;
        __attribute__((fallthrough)); /* c is the name's first byte */
    case S_HDR_NAME:
        if (c == ':') {
            unsigned k = 0;
            while (k < 2 && !((p->match & (1u << k)) && p->pos == interesting_len[k]))
                k++;
            p->match = k < 2 ? (uint8_t)(1u << k) : 0;
            if (p->match == H_CONTENT_LENGTH)
                p->length = 0; /* the last Content-Length counts */
            p->pos = 0;
            p->state = S_HDR_VALUE;
        } else if (c == '\n') {
            p->state = S_HDR_START;  /* no colon: passed over */
        } else {
            header_name_char(p, lower(c));
        }
        return RP_HTTP_NONE;
    case S_HDR_VALUE:
        if (c == '\n') {
            p->state = S_HDR_START;
            return RP_HTTP_NONE;
        }
        return header_value_char(p, c);
    case S_HDR_SKIP:
        if (c == '\n')
            p->state = S_HDR_START;
        return RP_HTTP_NONE;
    case S_CHUNK_SIZE: {
        int v = hex_value(c);
        if (v >= 0) {
            if (p->length >> 59)
                return bad(p);
            p->length = p->length * 16 + (uint64_t)v;
        } else if (c == ';' || c == ' ' || c == '\t') {
            p->state = S_CHUNK_EXT;
        } else if (c == '\n') {
            p->state = p->length ? S_CHUNK_DATA : S_TRAILER_START;
        } else if (c != '\r') {
            return bad(p);
        }
        return RP_HTTP_NONE;
    }
    case S_CHUNK_EXT:
        if (c == '\n')
            p->state = p->length ? S_CHUNK_DATA : S_TRAILER_START;
        return RP_HTTP_NONE;
    case S_CHUNK_END:
        if (c == '\n') {
            p->state = S_CHUNK_SIZE;
            p->length = 0;
        } else if (c != '\r') {
            return bad(p);
        }
        return RP_HTTP_NONE;
    case S_TRAILER_START:
        if (c == '\r')
            return RP_HTTP_NONE;
        if (c == '\n') {
            p->state = S_IDLE;
            return RP_HTTP_DONE;
        }
        p->state = S_TRAILER_LINE;
        return RP_HTTP_NONE;
    case S_TRAILER_LINE:
        if (c == '\n')
            p->state = S_TRAILER_START;
        return RP_HTTP_NONE;
    default:
        return bad(p);
    }
}

/* Body bytes, counted down in bulk. */
static size_t take_body(struct rp_http_parser *p, size_t n, enum rp_http_event *ev)
{
    size_t take = p->length < n ? (size_t)p->length : n;
    p->length -= take;
    if (p->length == 0) {
        if (p->state == S_BODY) {
            p->state = S_IDLE;
            *ev = RP_HTTP_DONE;
        } else {
            p->state = S_CHUNK_END;
        }
    }
    return take;
}

/* Bytes before the next LF (all n if there is none). */
static size_t to_lf(const char *buf, size_t n)
{
    const char *lf = find_lf(buf, buf + n);
    return lf ? (size_t)(lf - buf) : n;
}

/* The general case: one dispatch per turn of the loop, each state taking
 * what it can in bulk (a whole start line, whole header lines, body
 * bytes, the rest of a line), else one byte through step(). Out of line:
 * rare, and large beside rp_http_feed, which calls it last. */
static __attribute__((noinline)) size_t feed_from(struct rp_http_parser *p, const char *buf, size_t n, size_t i,
                        enum rp_http_event *ev)
{
    size_t used;
    while (i < n) {
        switch (p->state) {
        case S_BAD:
            *ev = RP_HTTP_BAD;
            return n;
        case S_UNTIL_CLOSE:
            return n;
        case S_IDLE:
            if (buf[i] == '\r' || buf[i] == '\n') {
                i++;
                continue;
            }
            start_message(p);
            if ((used = start_line_whole(p, buf + i, n - i, ev)))
                return i + used;   /* its START_LINE says it began */
            *ev = RP_HTTP_BEGIN;
            return i;
        case S_METHOD:
        case S_STATUS_PROTO:        /* at the line's start, nothing of it is kept yet */
            if (p->start_len == 0 && p->pos == 0 && (used = start_line_whole(p, buf + i, n - i, ev)))
                return i + used;
            *ev = step(p, buf[i++]);
            break;
        case S_HDR_START:
            if ((used = headers_whole(p, buf + i, n - i, ev)))
                i += used;
            else
                *ev = step(p, buf[i++]);
            break;
        case S_BODY:
        case S_CHUNK_DATA:
            i += take_body(p, n - i, ev);
            break;
        case S_HDR_VALUE:
            if (p->match != 0) {
                *ev = step(p, buf[i++]);
                break;
            }
            __attribute__((fallthrough)); /* a value nobody reads */
        case S_LINE_REST:
        case S_HDR_SKIP:
        case S_CHUNK_EXT:
        case S_TRAILER_LINE:        /* to the LF, which step() then takes */
            i += to_lf(buf + i, n - i);
            if (i == n)
                return i;
            *ev = step(p, buf[i++]);
            break;
        default:
            *ev = step(p, buf[i++]);
            break;
        }
        if (*ev != RP_HTTP_NONE)
            return *ev == RP_HTTP_BAD ? n : i;
    }
    return i;
}

/* A message's whole start line, and a head's whole header lines and a
 * body that follows them, which is what a server reads and writes nearly
 * always, are taken here; anything else by feed_from, whose switch is a
 * jump table in .rodata, a page of its own (hot.h). */
RP_HOT_HEAD size_t rp_http_feed(struct rp_http_parser *p, const char *buf, size_t n, enum rp_http_event *ev)
{
    size_t used = 0;
    *ev = RP_HTTP_NONE;
    if (n == 0)
        return 0;
    if (p->state == S_IDLE && buf[0] != '\r' && buf[0] != '\n') {
        start_message(p);
        if ((used = start_line_whole(p, buf, n, ev)))
            return used;
        *ev = RP_HTTP_BEGIN;
        return 0;
    }
    if (p->state == S_HDR_START) {
        used = headers_whole(p, buf, n, ev);
        if (*ev != RP_HTTP_NONE)
            return *ev == RP_HTTP_BAD ? n : used;
        if (used == n)
            return n;
    }
    if (p->state == S_BODY)   /* a body, after its head or in a buffer of its own */
        return used + take_body(p, n - used, ev);
    return feed_from(p, buf, n, used, ev);
}

RP_HOT_IO int rp_http_until_close(const struct rp_http_parser *p)
{
    return p->state == S_UNTIL_CLOSE;
}

RP_HOT_IO size_t rp_http_skip(struct rp_http_parser *p, size_t n, enum rp_http_event *ev)
{
    *ev = RP_HTTP_NONE;
    if (p->state == S_UNTIL_CLOSE || n == 0)
        return n;
    if (p->state == S_BODY || p->state == S_CHUNK_DATA)
        return take_body(p, n, ev);
    p->state = S_BAD;
    *ev = RP_HTTP_BAD;
    return n;
}
