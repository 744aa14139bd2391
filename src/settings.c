/* settings.c -- see settings.h. Parsing is done by hand, with no locale
 * and no malloc, because it runs inside the host's first malloc call. */
#include <string.h>
#include "log.h"
#include "settings.h"

int rp_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!text || !*text)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int rp_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char digits[32];
    size_t len = text ? strlen(text) : 0;
    unsigned shift = 0;
    if (len == 0 || len >= sizeof digits)
        return -1;
    memcpy(digits, text, len + 1);
    switch (digits[len - 1]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: break;
    }
    if (shift)
        digits[--len] = '\0';
    uint64_t v;
    if (rp_parse_uint(digits, 0, UINT64_MAX >> shift, &v) < 0)
        return -1;
    v <<= shift;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int rp_parse_bool(const char *text, int *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off", "" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (strcmp(text, yes[i]) == 0)
            return *out = 1, 0;
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcmp(text, no[i]) == 0)
            return *out = 0, 0;
    return -1;
}

int rp_valid_dir(const char *dir)
{
    return dir[0] == '/' && strlen(dir) < RP_DIR_MAX;
}

static void reject(const char *name, const char *value, const char *want, const char *fallback)
{
    rp_log(name, "=", value, " is not ", want, "; using ", fallback, NULL);
}

static uint64_t number_setting(rp_getenv_fn get, const char *name, uint64_t min, uint64_t max,
                               uint64_t dflt, const char *want,
                               int (*parse)(const char *, uint64_t, uint64_t, uint64_t *))
{
    const char *v = get(name);
    uint64_t out;
    char num[21];
    if (!v)
        return dflt;
    if (parse(v, min, max, &out) == 0)
        return out;
    reject(name, v, want, rp_fmt_u64(num, dflt));
    return dflt;
}

static int bool_setting(rp_getenv_fn get, const char *name, int dflt)
{
    const char *v = get(name);
    int out;
    if (!v)
        return dflt;
    if (rp_parse_bool(v, &out) == 0)
        return out;
    reject(name, v, "a yes/no value (1, 0, yes, no, true, false, on, off)", dflt ? "1" : "0");
    return dflt;
}

void rp_settings_load(struct rp_settings *s, rp_getenv_fn get)
{
    const char *v;

    memset(s, 0, sizeof *s);
    s->enabled = !bool_setting(get, "REQPROF_OFF", 0);
    s->heap_stats = bool_setting(get, "REQPROF_HEAP_STATS", 1);
    s->http_detect = bool_setting(get, "REQPROF_HTTP", 1);
    s->route_paths = bool_setting(get, "REQPROF_PATHS", 1);

    v = get("REQPROF_DIR");
    if (v && *v && !rp_valid_dir(v)) {
        reject("REQPROF_DIR", v, "an absolute path of under 192 bytes", RP_DEFAULT_DIR);
        v = NULL;
    }
    rp_append(s->dir, sizeof s->dir, v && *v ? v : RP_DEFAULT_DIR);

    s->interval_ms = (uint32_t)number_setting(get, "REQPROF_INTERVAL_MS", 0, RP_INTERVAL_MS_MAX,
        RP_DEFAULT_INTERVAL_MS, "a number of milliseconds from 0 to 3600000", rp_parse_uint);
    s->ring_size = number_setting(get, "REQPROF_RING_SIZE", RP_RING_SIZE_MIN, RP_RING_SIZE_MAX,
        RP_DEFAULT_RING_SIZE, "a size from 64K to 1G (bytes, or with a K, M or G suffix)", rp_parse_size);
    s->threads = (uint32_t)number_setting(get, "REQPROF_THREADS", 1, RP_THREADS_MAX,
        RP_DEFAULT_THREADS, "a number of threads from 1 to 4096", rp_parse_uint);
    s->routes = (uint32_t)number_setting(get, "REQPROF_ROUTES", RP_ROUTES_MIN, RP_ROUTES_MAX,
        RP_DEFAULT_ROUTES, "a number of routes from 2 to 65536", rp_parse_uint);
    s->records = (uint32_t)number_setting(get, "REQPROF_RECORDS", 1, RP_RECORDS_MAX,
        RP_DEFAULT_RECORDS, "a number of records from 1 to 1048576", rp_parse_uint);
}
