/* clock.c -- finding the vDSO's clock_gettime; see clock.h.
 *
 * glibc keeps the vDSO as a loaded object named linux-vdso.so.1, so
 * dlopen finds it without loading anything (RTLD_NOLOAD), and dlsym its
 * clock_gettime: __vdso_clock_gettime on x86 (and arm, mips, riscv),
 * __kernel_clock_gettime on aarch64, powerpc and s390. Either returns 0
 * or a negated errno and sets no errno of its own. */
#include <dlfcn.h>
#include "clock.h"
#include "hot.h"

RP_HOT_DATA rp_clock_fn rp_vdso_clock_gettime;

void rp_clock_init(void)
{
    void *vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (!vdso)
        return;
    rp_clock_fn fn = (rp_clock_fn)dlsym(vdso, "__vdso_clock_gettime");
    if (!fn)
        fn = (rp_clock_fn)dlsym(vdso, "__kernel_clock_gettime");
    __atomic_store_n(&rp_vdso_clock_gettime, fn, __ATOMIC_RELAXED);
    dlclose(vdso);
}
