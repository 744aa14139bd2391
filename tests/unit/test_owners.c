/* test_owners -- the own-block set against a plain reference array:
 * random adds and removes at high load (many collisions, runs that wrap
 * past the last slot), emptiness after everything is removed, a full
 * table whose probes must end, and the move from the first table to the
 * large one and back. */
#include <stdlib.h>
#include <string.h>
#include "owners.h"
#include "../tap.h"

#define POOL 900

static struct rp_owners set;

static const void *addr(unsigned i)
{
    return (const void *)(uintptr_t)(0x7f0000000000ull + (uintptr_t)i * 48);
}

static int large_empty(void)
{
    for (unsigned i = 0; i < RP_OWNER_SLOTS; i++)
        if (set.slot[i])
            return 0;
    return 1;
}

static int all_empty(void)
{
    for (unsigned i = 0; i < RP_OWNER_FIRST_SLOTS; i++)
        if (set.first[i])
            return 0;
    return large_empty();
}

/* Adds blocks [from, to) and checks each is then found. */
static int add_range(unsigned from, unsigned to)
{
    int good = 1;
    for (unsigned j = from; j < to; j++)
        good &= rp_owners_add(&set, addr(j));
    for (unsigned j = from; j < to; j++)
        good &= rp_owners_remove(&set, addr(j)) && rp_owners_add(&set, addr(j));
    return good;
}

static int remove_range(unsigned from, unsigned to)
{
    int good = 1;
    for (unsigned j = from; j < to; j++)
        good &= rp_owners_remove(&set, addr(j));
    return good;
}

static void tiers(void)
{
    const unsigned fits = RP_OWNER_FIRST_SLOTS / 4 * 3;
    ok(add_range(0, fits) && !set.large && large_empty(),
       "%u blocks stay in the first table; the large one is not touched", fits);
    ok(add_range(fits, fits + 1) && set.large && set.n == fits + 1,
       "the next one moves them all to the large table");
    ok(remove_range(0, fits + 1) && set.n == 0 && !set.large && all_empty(),
       "emptied, the set goes back to the first table, both empty");
    ok(add_range(0, 5) && !set.large && large_empty() && remove_range(0, 5) && all_empty(),
       "a request of a few blocks after a large one uses the first table again");
}

int main(void)
{
    tiers();
    static unsigned char in[POOL];
    unsigned n = 0, wrong = 0;
    srand(42);
    for (int op = 0; op < 2000000; op++) {
        unsigned i = (unsigned)rand() % POOL;
        if (in[i]) {
            wrong += !rp_owners_remove(&set, addr(i));
            in[i] = 0;
            n--;
        } else if (n < RP_OWNER_SLOTS / 4 * 3) {
            wrong += !rp_owners_add(&set, addr(i));
            in[i] = 1;
            n++;
        } else {
            wrong += rp_owners_remove(&set, addr(i)); /* absent: must say so */
        }
        if (op % 9973 == 0)   /* membership of the whole pool: a member is taken out and put back */
            for (unsigned j = 0; j < POOL; j++) {
                int was = rp_owners_remove(&set, addr(j));
                wrong += was != in[j];
                if (was)
                    rp_owners_add(&set, addr(j));
            }
    }
    ok(wrong == 0, "2M random adds and removes at up to 3/4 load agree with the reference (%u wrong)", wrong);
    ok(set.n == n, "the count agrees (%u, want %u)", set.n, n);

    unsigned found = 0;
    for (unsigned j = 0; j < POOL; j++)
        if (in[j])
            found += rp_owners_remove(&set, addr(j));
    ok(found == n && set.n == 0, "every member is found once (%u of %u)", found, n);
    ok(all_empty(), "a set emptied by removes has no slot left in use (no tombstones)");

    unsigned added = 0;
    for (unsigned j = 0; j < RP_OWNER_SLOTS; j++)
        added += rp_owners_add(&set, addr(j));
    ok(added == RP_OWNER_SLOTS, "a full table takes exactly %u blocks", RP_OWNER_SLOTS);
    ok(!rp_owners_add(&set, addr(RP_OWNER_SLOTS)), "one more is refused, not an endless probe");
    ok(!rp_owners_remove(&set, addr(RP_OWNER_SLOTS + 1)), "a block absent from a full table is not found, and the probe ends");
    ok(rp_owners_remove(&set, addr(7)) && rp_owners_add(&set, addr(7)), "a full table still removes and re-adds");
    rp_owners_clear(&set);
    ok(set.n == 0 && all_empty(), "clear empties it");
    return done_testing();
}
