/* ring_find.h -- which ring files a command line means.
 *
 * A path is a ring file or a directory of them (*.ring, by name); a pid
 * means that process's ring and those of its descendants in the ring
 * directory. Finding only names files: loading and judging them is
 * ring_read's job, so a path that is not a ring is still listed here and
 * refused there with its reason.
 */
#ifndef REQPROF_RING_FIND_H
#define REQPROF_RING_FIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "settings.h"


struct rp_found {
    char *path;
    dev_t dev;    /* with ino: the same file named twice is listed once */
    ino_t ino;    /* 0 when path could not be stat'ed */
};

struct rp_pathlist {
    struct rp_found *v; /* in the order found */
    size_t n, cap;
};

/* $REQPROF_DIR when set and not empty, else RP_DEFAULT_DIR (settings.h). */
const char *rp_ring_dir(void);

/* Add the *.ring regular files in dir, sorted by name. Returns 0, or -1
 * with a message in err when dir cannot be read or holds no ring. */
int rp_find_dir(struct rp_pathlist *l, const char *dir, char *err, size_t errlen);

/* Add path: a directory contributes its *.ring regular files sorted by
 * name (none is an error), anything else is added as it is. Returns 0,
 * or -1 with a message in err. */
int rp_find_path(struct rp_pathlist *l, const char *path, char *err, size_t errlen);

/* Add the rings in dir of process pid and of its descendants (linked by
 * fork_parent, else ppid), the newest image of each pid. Rings whose
 * header cannot be read are skipped: whose they are is unknown. Returns 0,
 * or -1 with a message in err when none matched. */
int rp_find_pid(struct rp_pathlist *l, const char *dir, uint32_t pid, char *err, size_t errlen);

void rp_pathlist_free(struct rp_pathlist *l);

#endif
