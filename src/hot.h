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
 *
 * RP_HOT marks the functions of the paths every request takes (the
 * malloc family, the socket hooks, the parser, a request's begin and end):
 * GCC's `hot` attribute puts them together in .text.hot, a few pages,
 * instead of spread over the library's text in the order of the sources.
 *
 * RP_HOT_DATA does the same for the globals those paths read and write
 * (the next allocator's and libc's entry points, the ring, the lock, the
 * connection table's index): one section, .data.rp_hot, which the linker
 * places with .data, a page or so, instead of among the library's large
 * arrays (the boot pool alone is 256 KiB). Writable variables only: GCC
 * will not mix const objects into the same named section (an -flto build
 * fails), and the parser's const tables share .rodata's page with the
 * constants the compiler puts there for the parser anyway.
 */
#ifndef REQPROF_HOT_H
#define REQPROF_HOT_H

#define RP_HOT __attribute__((hot))
#define RP_HOT_DATA __attribute__((section(".data.rp_hot")))

#endif
