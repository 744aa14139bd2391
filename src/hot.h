/* hot.h -- keeping what reqprof runs on every call on few pages.
 *
 * A system call can empty the TLB: a kernel that isolates its page tables
 * (PTI) on a CPU without PCIDs, as on the virtual machines this was
 * measured on, flushes every user-space translation on each return to user
 * space. The first touch of each page after a call then walks the page
 * tables: ~14 ns a page when each load waits on the one before (a pointer
 * chain, as reqprof's lookups are), against under 1 ns for another line
 * of a page already touched. reqprof runs a little code after nearly every
 * call the server makes, so how many distinct pages that code and its data
 * touch costs as much as its instructions do (bench/pagewalks counts the
 * page walks of an nginx request under valgrind; the README has figures).
 * Where the TLB survives system calls (PCIDs, or no PTI) the walks go, and
 * what a request touches costs in cache lines instead: those the kernel's
 * work pushed out come back one by one (bench/pagewalks --lines counts
 * them; the README has what they and the instructions come to there).
 *
 * The functions of the paths every request takes are kept together, in
 * four groups that follow each other in the order of their names (GNU
 * ld's default script, since binutils 2.36, places .text.sorted.* after
 * .text.hot, sorted by name; within a group, objects come in link order):
 *   RP_HOT_ALLOC    what an allocation or a free runs (the malloc family's
 *                   entry points, charging, the owner table);
 *   RP_HOT_IO       what every socket call runs (the hooks, the
 *                   connection table's bookkeeping, the thread's request
 *                   switch, a body's bytes counted);
 *   RP_HOT_HEAD     what a read and a message's head or end cost
 *                   besides (a read's bookkeeping, the parser, a
 *                   response's end, moving a gap's allocations to the
 *                   request that begins);
 *   RP_HOT_REQUEST  what runs once a request (its begin and end).
 * The groups follow the stretches between the system calls of a request:
 * one that only allocates or frees touches the first group's page
 * (interpose.c aligns its start); a write of a body, a sendfile, a close,
 * the first group's and the second's; a read, or writing a head, adds the
 * third. Each group's size decides where the pages break: after a change,
 * bench/hotcheck shows the functions' pages and lists every call from
 * the groups to code outside them (GCC may move a helper out of line, off
 * the groups: each should be a cold path), and bench/pagewalks counts
 * what the layout costs. With
 * -flto the link order, and so the order within a group, is the
 * compiler's. RP_HOT (GCC's `hot` attribute: .text.hot) marks the rest
 * of what may run often, but not on every request of every server
 * (calloc, realloc, accept); GCC also puts there the helpers it keeps out
 * of line in hot functions, so a helper that every request runs belongs
 * in a group.
 *
 * RP_HOT_DATA does the same for the globals those paths read and write
 * (the next allocator's and libc's entry points, the ring, the lock, the
 * connection table's index, the parser's tables): one section,
 * .data.rp_hot, which the linker places with .data, a page, instead of
 * among the library's large arrays (the boot pool alone is 256 KiB).
 * Writable variables only: GCC will not mix const objects into the same
 * named section (an -flto build fails), so the parser's tables are not
 * const. .rodata is kept off these paths altogether: the parser makes
 * its vector constants in registers, and the library is built with
 * -fno-tree-slp-vectorize, without which GCC turns two neighbouring
 * counter updates into a vector operation with a constant from .rodata.
 * -fno-plt keeps calls into libc off the PLT's page; they go through
 * the GOT, which is a page of its own as well, so the hot paths make
 * none: the thread's state is found without the GOT (rp_self, shard.h),
 * the clock is the vDSO's, called directly (clock.h), and a route name is
 * copied, and compared with the thread's previous one, inline
 * (request.c); a route that differs from its thread's previous one is
 * still looked up with strcmp.
 */
#ifndef REQPROF_HOT_H
#define REQPROF_HOT_H

#define RP_HOT __attribute__((hot))
#define RP_HOT_ALLOC __attribute__((hot, section(".text.sorted.rp_1_alloc")))
#define RP_HOT_IO __attribute__((hot, section(".text.sorted.rp_2_io")))
#define RP_HOT_HEAD __attribute__((hot, section(".text.sorted.rp_3_head")))
#define RP_HOT_REQUEST __attribute__((hot, section(".text.sorted.rp_4_request")))
#define RP_HOT_DATA __attribute__((section(".data.rp_hot")))

#endif
