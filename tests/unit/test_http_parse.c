/* test_http_parse -- the HTTP/1.x framing parser on requests and
 * responses of every framing it knows, each fed whole, byte by byte and
 * in every two-piece split: the events must not depend on how the bytes
 * arrived. Events are written as a string, e.g. "L(GET /a) D": L start
 * line (route or status), D done, X bad, B begin. A BEGIN is reported
 * only when the start line is cut, and a start line without one begins
 * its message, so "B L" is written "L". */
#include <stdlib.h>
#include <string.h>
#include "http_parse.h"
#include "../tap.h"

static void note(char *out, size_t cap, const struct rp_http_parser *p, enum rp_http_event ev, int *begun)
{
    char item[200];
    if (ev == RP_HTTP_BEGIN) {
        *begun = 1;
        return;
    }
    if (*begun && ev != RP_HTTP_START_LINE && ev != RP_HTTP_NONE)
        strncat(out, "B ", cap - strlen(out) - 1);
    if (ev != RP_HTTP_NONE)
        *begun = 0;
    switch (ev) {
    case RP_HTTP_START_LINE:
        if (p->dir == RP_HTTP_REQUESTS)
            snprintf(item, sizeof item, "L(%s) ", p->start);
        else
            snprintf(item, sizeof item, "L(%u) ", p->status);
        break;
    case RP_HTTP_DONE:
        snprintf(item, sizeof item, "D ");
        break;
    case RP_HTTP_BAD:
        snprintf(item, sizeof item, "X ");
        break;
    default:
        return;
    }
    strncat(out, item, cap - strlen(out) - 1);
}

/* Feeds text in pieces of the given lengths (0-terminated list; the last
 * piece takes the rest). no_body is set at each BEGIN and START_LINE when
 * asked, as conn.c does. Each piece is fed from a heap block of exactly
 * its size, so that the sanitizer build catches a read outside it. */
static void run(enum rp_http_dir dir, const char *text, size_t len, const size_t *pieces,
                int no_body, char *out, size_t cap)
{
    struct rp_http_parser p;
    rp_http_init(&p, dir);
    out[0] = '\0';
    size_t at = 0;
    int bad = 0, begun = 0;
    for (const size_t *piece = pieces; at < len && !bad; piece++) {
        size_t n = *piece && *piece < len - at ? *piece : len - at;
        char *copy = malloc(n);
        if (!copy) {
            printf("Bail out! out of memory\n");
            exit(1);
        }
        memcpy(copy, text + at, n);
        const char *buf = copy;
        at += n;
        while (n) {
            enum rp_http_event ev;
            size_t used = rp_http_feed(&p, buf, n, &ev);
            if (ev == RP_HTTP_BEGIN || ev == RP_HTTP_START_LINE)
                p.no_body = (uint8_t)no_body;
            note(out, cap, &p, ev, &begun);
            if (ev == RP_HTTP_BAD) {  /* "nothing more will be found": the caller stops */
                bad = 1;
                break;
            }
            buf += used;
            n -= used;
        }
        free(copy);
    }
    size_t l = strlen(out);
    if (l && out[l - 1] == ' ')
        out[l - 1] = '\0';
}

/* The events must be `want` however the text is cut. */
static void check(enum rp_http_dir dir, const char *text, int no_body, const char *want, const char *what)
{
    char got[1024], cut[1024];
    size_t len = strlen(text), whole[] = { 0 }, bytes[4096];
    int same = 1;
    run(dir, text, len, whole, no_body, got, sizeof got);
    if (!ok(strcmp(got, want) == 0, "%s: whole", what))
        printf("# got  '%s'\n# want '%s'\n", got, want);
    for (size_t i = 0; i < len && i < 4095; i++)
        bytes[i] = 1;
    bytes[len < 4095 ? len : 4095] = 0;
    run(dir, text, len, bytes, no_body, cut, sizeof cut);
    if (!ok(strcmp(cut, want) == 0, "%s: byte by byte", what))
        printf("# got  '%s'\n", cut);
    for (size_t split = 1; split < len; split++) {
        size_t two[] = { split, 0 };
        run(dir, text, len, two, no_body, cut, sizeof cut);
        if (strcmp(cut, want) != 0) {
            printf("# split at %zu: '%s'\n", split, cut);
            same = 0;
            break;
        }
    }
    ok(same, "%s: every split in two", what);
}

/* Feeds all of text; returns the last event. */
static enum rp_http_event feed_all(struct rp_http_parser *p, const char *text)
{
    enum rp_http_event ev = RP_HTTP_NONE, last = RP_HTTP_NONE;
    for (size_t at = 0, n = strlen(text); at < n;) {
        at += rp_http_feed(p, text + at, n - at, &ev);
        if (ev != RP_HTTP_NONE)
            last = ev;
    }
    return last;
}

/* BEGIN comes before the first byte of a message whose start line is cut;
 * a whole one is its START_LINE alone. */
static void begin_check(void)
{
    struct rp_http_parser p;
    enum rp_http_event ev;
    static const char line[] = "GET /a HTTP/1.1\r\n";

    rp_http_init(&p, RP_HTTP_REQUESTS);
    size_t used = rp_http_feed(&p, line, sizeof line - 1, &ev);
    ok(used == sizeof line - 1 && ev == RP_HTTP_START_LINE, "a whole request line: START_LINE, no BEGIN");
    rp_http_init(&p, RP_HTTP_REQUESTS);
    used = rp_http_feed(&p, line, 9, &ev);
    ok(used == 0 && ev == RP_HTTP_BEGIN, "a cut request line: BEGIN, before its first byte");
    used = rp_http_feed(&p, line, 9, &ev);
    ok(used == 9 && ev == RP_HTTP_NONE, "then its bytes");
}

static void skip_check(void)
{
    struct rp_http_parser p;
    enum rp_http_event ev;

    rp_http_init(&p, RP_HTTP_RESPONSES);
    feed_all(&p, "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n");
    ok(rp_http_skip(&p, 4000, &ev) == 4000 && ev == RP_HTTP_NONE, "sendfile bytes count as body");
    ok(rp_http_skip(&p, 7000, &ev) == 6000 && ev == RP_HTTP_DONE,
       "the body ends where Content-Length says, mid-sendfile");

    rp_http_init(&p, RP_HTTP_RESPONSES);
    feed_all(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n");
    ok(rp_http_skip(&p, 4096, &ev) == 4096 && ev == RP_HTTP_NONE, "sendfile bytes count as chunk data");
    ok(feed_all(&p, "\r\n0\r\n\r\n") == RP_HTTP_DONE, "the last chunk after sendfile'd data ends the response");

    rp_http_init(&p, RP_HTTP_RESPONSES);
    feed_all(&p, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome");
    ok(rp_http_until_close(&p) && rp_http_skip(&p, 5000, &ev) == 5000 && ev == RP_HTTP_NONE,
       "a response without length or chunks lasts until the close, sendfile included");
    rp_http_init(&p, RP_HTTP_RESPONSES);
    feed_all(&p, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n");
    ok(!rp_http_until_close(&p), "one with a length does not");

    rp_http_init(&p, RP_HTTP_REQUESTS);
    ok(feed_all(&p, "GET /a HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n") == RP_HTTP_BAD,
       "a Content-Length that overflows is BAD at once, with nothing after its line");

    rp_http_init(&p, RP_HTTP_RESPONSES);
    feed_all(&p, "HTTP");
    ok(rp_http_skip(&p, 10, &ev) == 10 && ev == RP_HTTP_BAD, "sendfile in the middle of a head is not HTTP framing");
}

/* Header lines of 1 to 40 bytes before and after the framing header, so
 * that LFs fall on every offset of the 16- and 64-byte stretches the line scan
 * reads, and lines cross them. */
static void lines_of_every_length(void)
{
    char head[2048];
    size_t at = (size_t)snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
    for (int len = 1; len <= 40; len++) {
        if (len == 20)
            at += (size_t)snprintf(head + at, sizeof head - at, "Content-Length: 3\r\n");
        at += (size_t)snprintf(head + at, sizeof head - at, "X%.*s\r\n", len - 1,
                               ":abcdefghijklmnopqrstuvwxyz0123456789abcdefghij");
    }
    snprintf(head + at, sizeof head - at, "\r\nabcHTTP/1.1 204 No Content\r\n\n");
    check(RP_HTTP_RESPONSES, head, 0, "L(200) D L(204) D", "header lines of every length from 1 to 40 bytes");
}

/* Request targets of 1 to 40 bytes with the byte that ends the path or
 * the target, or makes the line bad, at their end: the target scan reads
 * 16 bytes at a time, and its last bytes one at a time. */
static void targets_of_every_length(void)
{
    static const struct { char stop; int cut; const char *what; } kinds[] = {
        { '?', 1, "a query" }, { '#', 1, "a fragment" }, { 0x7f, 0, "DEL" },
        { 0x01, 0, "a control character" }, { 'x', 2, "no stop" },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int wrong = 0;
        for (int len = 1; len <= 40; len++) {
            char path[64], text[128], want[128], got[256];
            memset(path, 'p', sizeof path);
            path[0] = '/';
            path[len] = '\0';
            if (kinds[k].cut == 2)
                snprintf(text, sizeof text, "GET %s HTTP/1.0\n\n", path);
            else
                snprintf(text, sizeof text, "GET %s%cq HTTP/1.0\n\n", path, kinds[k].stop);
            if (kinds[k].cut)
                snprintf(want, sizeof want, "L(GET %s) D", path);
            else
                snprintf(want, sizeof want, "B X");
            size_t whole[] = { 0 };
            run(RP_HTTP_REQUESTS, text, strlen(text), whole, 0, got, sizeof got);
            if (strcmp(got, want) != 0) {
                printf("# %s after %d bytes: got '%s', want '%s'\n", kinds[k].what, len, got, want);
                wrong++;
            }
        }
        ok(wrong == 0, "targets of 1 to 40 bytes ending in %s", kinds[k].what);
    }
}

/* Response heads whose header lines, after the status line, come to
 * 60-70 bytes, Content-Length last: the head's LFs are found 64 bytes at
 * a time, and those of a shorter buffer 16 at a time. */
static void heads_around_64_bytes(void)
{
    for (int total = 60; total <= 70; total++) {
        char head[256], what[64];
        int pad = total - 3 - (int)strlen("Content-Length: 2\r\n") - 2 - 2; /* "X: ", CRLF, blank */
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nX: %.*s\r\nContent-Length: 2\r\n\r\nok",
                 pad, "0123456789012345678901234567890123456789012345678901234567890123456789");
        snprintf(what, sizeof what, "header lines of %d bytes", total);
        check(RP_HTTP_RESPONSES, head, 0, "L(200) D", what);
    }
}

int main(void)
{
    const enum rp_http_dir rq = RP_HTTP_REQUESTS, rs = RP_HTTP_RESPONSES;

    check(rq, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 0, "L(GET /a) D", "a GET");
    check(rq, "GET /a/b?x=1&y=2#f HTTP/1.1\r\nHost: x\r\n\r\n", 0, "L(GET /a/b) D", "the query is cut");
    check(rq, "GET /a HTTP/1.0\n\n", 0, "L(GET /a) D", "bare LF ends lines");
    check(rq, "\r\nGET /a HTTP/1.1\r\n\r\n", 0, "L(GET /a) D", "a blank line before the request is skipped");
    check(rq, "POST /up HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", 0, "L(POST /up) D",
          "a Content-Length body");
    check(rq, "POST /up HTTP/1.1\r\ncOnTeNt-lEnGtH:   3\r\n\r\nabcGET /n HTTP/1.1\r\n\r\n", 0,
          "L(POST /up) D L(GET /n) D", "header names in any case; the next request after the body");
    check(rq, "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
              "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nGET /z HTTP/1.1\r\n\r\n", 0,
          "L(POST /c) D L(GET /z) D", "a chunked body with an extension and a trailer");
    check(rq, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nHEAD /3 HTTP/1.1\r\n\r\n", 0,
          "L(GET /1) D L(GET /2) D L(HEAD /3) D", "pipelined requests");
    check(rq, "\x16\x03\x01\x02\x00\x01", 0, "B X", "TLS is not HTTP");
    check(rq, "SSH-2.0-OpenSSH\r\n", 0, "B X", "SSH is not HTTP");
    check(rq, "get / HTTP/1.1\r\n\r\n", 0, "B X", "a lower-case method is not HTTP");
    check(rq, "GET / HTTP/2.0\r\n\r\n", 0, "B X", "HTTP/2 is not HTTP/1.x");
    check(rq, "GET /a\r\n", 0, "B X", "HTTP/0.9 is not followed");
    check(rq, "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0, "L(POST /) X",
          "a Content-Length that overflows");
    check(rq, "GET / HTTP/1.1\r\nno colon here\r\ncontent-lengthy\r\n\r\n", 0, "L(GET /) D",
          "header lines without a colon are passed over (the server answers them)");
    check(rq, "POST /f HTTP/1.1\r\nCx: a very long:value\r\nContent-Lengthy: 9\r\nTransfer-Encodings: chunked\r\n"
              "Content-Type: text/plain\r\nTE: chunked\r\nContent-Length: 2\r\n\r\nokGET /g HTTP/1.1\r\n\r\n", 0,
          "L(POST /f) D L(GET /g) D", "only Content-Length and Transfer-Encoding themselves frame a body");
    check(rq, "GET /q?a=b?c#d HTTP/1.1\r\n\r\nGET /h#x?y HTTP/1.1\r\n\r\n", 0, "L(GET /q) D L(GET /h) D",
          "the path ends at the first ? or #");
    check(rq, "GET /a\tb HTTP/1.1\r\n\r\n", 0, "B X", "a control character in the target is not HTTP");
    /* targets longer than the 16 bytes the scan looks at in one go */
    check(rq, "GET /a/long/path/to/something/deep?with=query&x=1 HTTP/1.1\r\n\r\n", 0,
          "L(GET /a/long/path/to/something/deep) D", "a query 30 bytes into the target is cut");
    check(rq, "GET /caf\xc3\xa9/cr\xc3\xa8me/br\xc3\xbbl\xc3\xa9e HTTP/1.1\r\n\r\n", 0,
          "L(GET /caf\xc3\xa9/cr\xc3\xa8me/br\xc3\xbbl\xc3\xa9e) D", "bytes above 0x7f are path bytes");
    check(rq, "GET /a/long/path/to/something/deep\x7f HTTP/1.1\r\n\r\n", 0, "B X",
          "DEL 30 bytes into the target is not HTTP");
    check(rq, "GET /a?a/long/query/that/goes/on\x01 HTTP/1.1\r\n\r\n", 0, "B X",
          "a control character in a long query is not HTTP");
    check(rq, "POST /u HTTP/1.1\r\nTRANSFER-ENCODING: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\nGET /v HTTP/1.1\r\n\r\n", 0,
          "L(POST /u) D L(GET /v) D", "Transfer-Encoding in capitals");
    check(rq, "POST /a HTTP/1.1\r\nContent\rLength: 3\r\nTransfer\rEncoding: chunked\r\n\r\n"
              "GET /b HTTP/1.1\r\n\r\n", 0,
          "L(POST /a) D L(GET /b) D", "a CR where the name has its dash is not that header");

    char longreq[600];
    snprintf(longreq, sizeof longreq, "GET /%0300d HTTP/1.1\r\n\r\n", 7);
    struct rp_http_parser p;
    enum rp_http_event ev = RP_HTTP_NONE;
    rp_http_init(&p, rq);
    for (size_t at = 0, n = strlen(longreq); at < n && ev != RP_HTTP_START_LINE;)
        at += rp_http_feed(&p, longreq + at, n - at, &ev);
    ok(ev == RP_HTTP_START_LINE && strlen(p.start) == RP_ROUTE_LEN - 1 && memcmp(p.start, "GET /000", 8) == 0,
       "a long target is cut to the route length");

    check(rs, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, "L(200) D", "a Content-Length response");
    check(rs, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 1, "L(200) D", "a response to HEAD has no body");
    check(rs, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0,
          "L(100) L(201) D", "100 Continue, then the response");
    check(rs, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0,
          "L(204) D L(304) D", "204 and 304 have no body");
    check(rs, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
              "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno", 0,
          "L(200) D L(404) D", "a chunked response, then the next");
    check(rs, "HTTP/1.0 200 OK\r\n\r\nuntil the connection closes HTTP/1.1 200", 0, "L(200)",
          "a body delimited by the close never completes");
    check(rs, "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello", 0, "L(101) D X",
          "after 101 the connection is not HTTP");
    check(rs, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 23 Nov 2026 20:31:02 GMT\r\n"
              "Content-Type: application/octet-stream\r\nContent-Length: 4\r\n"
              "Last-Modified: Mon, 23 Nov 2026 20:03:11 GMT\r\nConnection: keep-alive\r\n"
              "ETag: \"6563b0af-1000\"\r\nAccept-Ranges: bytes\r\n\r\nbody"
              "HTTP/1.1 304 Not Modified\r\nServer: nginx\r\n\r\n", 0,
          "L(200) D L(304) D", "the heads nginx writes");
    check(rs, "<html>", 0, "B X", "a response that is not HTTP");
    check(rq, "POST / HTTP/1.1\r\n\rContent-Length: 3\r\n\r\nabcGET /n HTTP/1.1\r\n\r\n", 0,
          "L(POST /) D L(GET /n) D", "a CR at a header line's start before other bytes is passed over");
    check(rq, "GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", 0, "L(GET /) D", "CR CR LF ends a head");
    check(rs, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nabc", 0, "L(200)",
          "a Content-Length without digits frames nothing: the body lasts until the close");
    check(rs, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: x\r\n\r\n", 0, "L(200) D",
          "the last Content-Length counts, and one without digits is 0");
    lines_of_every_length();
    targets_of_every_length();
    heads_around_64_bytes();
    begin_check();
    skip_check();
    return done_testing();
}
