/* test_sizeclass -- the class of every usable size is the one class whose
 * bounds hold it, the table climbs four classes per power of two, and the
 * ends are where they should be. */
#include <stdint.h>
#include "sizeclass.h"
#include "../tap.h"

static uint64_t upper[RP_NCLASSES];

static int holds(unsigned c, uint64_t u)
{
    uint64_t lower = c == 0 ? 0 : upper[c - 1] + 1;
    return c < RP_NCLASSES && u >= lower && u <= upper[c];
}

int main(void)
{
    rp_class_table(upper);

    int increasing = 1;
    for (unsigned c = 1; c < RP_NCLASSES; c++)
        increasing &= upper[c] > upper[c - 1];
    ok(increasing, "the table of upper bounds strictly increases");
    ok(upper[0] == 8 && upper[1] == 16, "the first classes are [0,8] and (8,16]");
    ok(upper[RP_NCLASSES - 1] == UINT64_MAX, "the last class is unbounded");
    ok(upper[RP_NCLASSES - 2] == (uint64_t)1 << RP_CLASS_MAX_LG, "the last bounded class ends at 2^40");

    int four = 1;
    for (unsigned k = 4; k < RP_CLASS_MAX_LG; k++) {
        unsigned n = 0;
        for (unsigned c = 0; c < RP_NCLASSES - 1; c++)
            n += upper[c] > (1ull << k) && upper[c] <= (2ull << k);
        four &= n == 4;
    }
    ok(four, "four classes per power of two from 16 up");

    int all = 1;
    for (uint64_t u = 0; u <= 1 << 20; u++)
        all &= holds(rp_class_of((size_t)u), u);
    ok(all, "every size up to 1 MiB is in the class whose bounds hold it");

    int edges = 1;
    for (unsigned c = 0; c < RP_NCLASSES - 1; c++) {
        edges &= holds(rp_class_of((size_t)upper[c]), upper[c]);
        edges &= holds(rp_class_of((size_t)upper[c] + 1), upper[c] + 1);
    }
    ok(edges, "each class's upper bound, and one past it, land right");
    ok(rp_class_of(SIZE_MAX) == RP_NCLASSES - 1, "SIZE_MAX is in the unbounded class");
    ok(rp_class_of(((size_t)1 << 40) + 1) == RP_NCLASSES - 1, "2^40 + 1 is in the unbounded class");
    return done_testing();
}
