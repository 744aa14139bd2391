/* test_settings -- the environment parsers: defaults, good values, and
 * every kind of bad one falling back to the default. */
#include <string.h>
#include "settings.h"
#include "../tap.h"

static const char *const *env_table;

static const char *fake_getenv(const char *name)
{
    for (const char *const *e = env_table; e && *e; e += 2)
        if (strcmp(e[0], name) == 0)
            return e[1];
    return NULL;
}

static struct rp_settings load(const char *const *table)
{
    struct rp_settings s;
    env_table = table;
    rp_settings_load(&s, fake_getenv);
    return s;
}

int main(void)
{
    uint64_t v;
    int b;

    struct rp_settings d = load(NULL);
    ok(d.enabled && strcmp(d.dir, RP_DEFAULT_DIR) == 0 && d.interval_ms == RP_DEFAULT_INTERVAL_MS
       && d.ring_size == RP_DEFAULT_RING_SIZE && d.threads == RP_DEFAULT_THREADS
       && d.heap_stats && d.http_detect && d.route_paths && d.routes == RP_DEFAULT_ROUTES && d.records == RP_DEFAULT_RECORDS,
       "no variables: the defaults");

    const char *const good[] = { "REQPROF_OFF", "no", "REQPROF_DIR", "/tmp/r", "REQPROF_INTERVAL_MS", "0",
                                 "REQPROF_RING_SIZE", "8M", "REQPROF_THREADS", "4096", "REQPROF_HTTP", "off",
                                 "REQPROF_HEAP_STATS", "no",                                  "REQPROF_PATHS", "0", "REQPROF_ROUTES", "2", "REQPROF_RECORDS", "1048576", NULL };
    struct rp_settings g = load(good);
    ok(g.enabled && strcmp(g.dir, "/tmp/r") == 0 && g.interval_ms == 0 && g.ring_size == 8 << 20
       && g.threads == 4096 && !g.heap_stats && !g.http_detect && !g.route_paths && g.routes == 2 && g.records == 1 << 20,
       "good values are taken");
    const char *const off[] = { "REQPROF_OFF", "1", NULL };
    ok(!load(off).enabled, "REQPROF_OFF=1 switches counting off");

    const char *const bad[] = { "REQPROF_OFF", "maybe", "REQPROF_DIR", "relative", "REQPROF_INTERVAL_MS", "-5",
                                "REQPROF_RING_SIZE", "1T", "REQPROF_THREADS", "0", "REQPROF_HTTP", "sometimes",
                                "REQPROF_PATHS", "", "REQPROF_ROUTES", "1", "REQPROF_RECORDS", "0", NULL };
    struct rp_settings x = load(bad);
    ok(x.enabled && strcmp(x.dir, RP_DEFAULT_DIR) == 0 && x.interval_ms == RP_DEFAULT_INTERVAL_MS
       && x.ring_size == RP_DEFAULT_RING_SIZE && x.threads == RP_DEFAULT_THREADS
       && x.http_detect && x.routes == RP_DEFAULT_ROUTES && x.records == RP_DEFAULT_RECORDS,
       "bad values fall back to the defaults");

    ok(rp_parse_uint("18446744073709551615", 0, UINT64_MAX, &v) == 0 && v == UINT64_MAX, "UINT64_MAX parses");
    ok(rp_parse_uint("18446744073709551616", 0, UINT64_MAX, &v) < 0, "one past UINT64_MAX is refused");
    ok(rp_parse_uint("", 0, 10, &v) < 0 && rp_parse_uint("1x", 0, 10, &v) < 0
       && rp_parse_uint(" 1", 0, 10, &v) < 0 && rp_parse_uint("+1", 0, 10, &v) < 0, "junk is refused");
    ok(rp_parse_uint("11", 0, 10, &v) < 0 && rp_parse_uint("4", 5, 10, &v) < 0, "out of range is refused");
    ok(rp_parse_size("64k", 0, UINT64_MAX, &v) == 0 && v == 64 << 10, "64k is 65536");
    ok(rp_parse_size("1G", 0, UINT64_MAX, &v) == 0 && v == 1 << 30, "1G is 2^30");
    ok(rp_parse_size("4096", 0, UINT64_MAX, &v) == 0 && v == 4096, "a plain byte count");
    ok(rp_parse_size("K", 0, UINT64_MAX, &v) < 0 && rp_parse_size("", 0, UINT64_MAX, &v) < 0,
       "a suffix alone, or nothing, is refused");
    ok(rp_parse_size("17179869184G", 0, UINT64_MAX, &v) < 0, "a size that overflows with its suffix is refused");
    ok(rp_parse_size("123456789012345678901234567890123", 0, UINT64_MAX, &v) < 0, "an overlong value is refused");
    ok(rp_parse_bool("yes", &b) == 0 && b == 1 && rp_parse_bool("off", &b) == 0 && b == 0,
       "yes and off are booleans");
    ok(rp_parse_bool("2", &b) < 0, "2 is not a boolean");
    return done_testing();
}
