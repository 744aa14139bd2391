/* ring.h -- creating and laying out a process's ring file (the format is
 * ring_format.h). */
#ifndef REQPROF_RING_H
#define REQPROF_RING_H

#include <stddef.h>
#include <stdint.h>
#include "ring_format.h"
#include "settings.h"

struct rp_ring {
    unsigned char *base;
    size_t size;
    struct rp_header *hdr;
    char path[RP_PATH_LEN + RP_NAME_LEN];
};

/* Creates DIR/PROG.PID.ring (PROG.PID.N.ring when that name is taken),
 * reserves its pages so a full tmpfs cannot SIGBUS the host later, maps
 * it and writes the header. fork_parent is the pid this image was forked
 * from, 0 for a new image: then the ring of the image it replaced by
 * exec, if any (same pid, same start time), is closed: removed if that
 * image made no calls of its own (a fork() child that went straight to
 * exec, as shells do), else marked RP_STATE_EXECED. Returns 0, or -1
 * after one line on stderr. */
int rp_ring_create(struct rp_ring *r, const struct rp_settings *s, uint32_t fork_parent);

void rp_ring_unmap(struct rp_ring *r);

/* At exit: a fork()ed child that made no call of its own (prefork
 * servers and scripts make many) would leave a ring holding only its
 * inheritance; it is removed. Returns whether it was. Signal-safe. */
int rp_ring_remove_if_idle_child(const struct rp_ring *r);

static inline unsigned char *rp_ring_shard(const struct rp_ring *r, uint32_t slot)
{
    return r->base + r->hdr->shard_off + (size_t)slot * r->hdr->shard_size;
}

/* Whether p is the start of one of r's thread slots. */
int rp_ring_owns_shard(const struct rp_ring *r, const void *p);

#endif
