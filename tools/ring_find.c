/* ring_find.c -- which ring files a command line means.
 *
 * Directories are read with readdir and sorted, so output order does not
 * depend on the file system. Selecting by pid reads only each ring's
 * header (rp_ring_peek) and follows parent links between rings: nginx's
 * master and the workers it forked all write rings, so the chain from a
 * worker to the master is in the directory. A pid can have several rings
 * (it exec'ed, or was reused); only the newest image of each pid counts.
 * A parent link to a process that started after the child is a reused
 * pid, not a parent: compared by the kernel's start time, which exec
 * keeps (a parent may exec after forking, as a shell's last command does).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ring_find.h"
#include "ring_read.h"

#define MAX_ANCESTRY 64 /* parent links followed before giving up: also breaks cycles */

const char *rp_ring_dir(void)
{
    const char *dir = getenv("REQPROF_DIR");
    return dir && *dir ? dir : RP_DEFAULT_DIR;
}

static int same_file(const struct rp_found *f, const char *path, const struct stat *st)
{
    if (st && f->ino)
        return f->dev == st->st_dev && f->ino == st->st_ino;
    return strcmp(f->path, path) == 0;
}

static int add_file(struct rp_pathlist *l, const char *path, char *err, size_t errlen)
{
    struct stat st;
    int known = stat(path, &st) == 0;
    for (size_t i = 0; i < l->n; i++)
        if (same_file(&l->v[i], path, known ? &st : NULL))
            return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct rp_found *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            goto oom;
        l->v = v;
        l->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        goto oom;
    l->v[l->n++] = (struct rp_found){ copy, known ? st.st_dev : 0, known ? st.st_ino : 0 };
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

static int has_ring_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".ring") == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The paths of dir's *.ring regular files, sorted. Returns -1 with err
 * set when dir cannot be read. */
static int list_rings(const char *dir, char ***out, size_t *count, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    size_t dirlen = strlen(dir);
    const char *sep = dirlen && dir[dirlen - 1] == '/' ? "" : "/";
    struct dirent *e;
    if (!d) {
        snprintf(err, errlen, "%s: cannot read directory: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        struct stat st;
        char *path;
        if (!has_ring_suffix(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            char **grown = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
            if (!grown)
                goto oom;
            names = grown;
        }
        size_t size = dirlen + strlen(sep) + strlen(e->d_name) + 1;
        if (!(path = malloc(size)))
            goto oom;
        snprintf(path, size, "%s%s%s", dir, sep, e->d_name);
        names[n++] = path;
    }
    closedir(d);
    if (n) /* names is NULL then, and qsort's may not be */
        qsort(names, n, sizeof *names, by_name);
    *out = names;
    *count = n;
    return 0;
oom:
    closedir(d);
    free_names(names, n);
    snprintf(err, errlen, "%s: out of memory", dir);
    return -1;
}

int rp_find_dir(struct rp_pathlist *l, const char *dir, char *err, size_t errlen)
{
    char **names;
    size_t n;
    int rc = 0;
    if (list_rings(dir, &names, &n, err, errlen))
        return -1;
    if (n == 0) {
        snprintf(err, errlen, "no rings in %s", dir);
        rc = -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = add_file(l, names[i], err, errlen);
    free_names(names, n);
    return rc;
}

int rp_find_path(struct rp_pathlist *l, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return rp_find_dir(l, path, err, errlen);
    return add_file(l, path, err, errlen);
}

/* ---- by pid ---- */

struct candidate {
    const char *path;
    struct rp_header h;
};

/* The ring of pid's newest image, or NULL. */
static const struct candidate *newest(const struct candidate *c, size_t n, uint32_t pid)
{
    const struct candidate *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (c[i].h.pid == pid && (!best || c[i].h.start_real_ns >= best->h.start_real_ns))
            best = &c[i];
    return best;
}

static int descends_from(const struct candidate *c, uint32_t pid, const struct candidate *all, size_t n)
{
    if (c->h.pid == pid)
        return 1;
    for (int depth = 0; c && depth < MAX_ANCESTRY; depth++) {
        uint32_t parent = c->h.fork_parent ? c->h.fork_parent : c->h.ppid;
        if (parent == 0)
            return 0;
        const struct candidate *p = newest(all, n, parent);
        if (p && p->h.proc_start_ticks > c->h.proc_start_ticks)
            return 0; /* that pid's process started after this one: the pid was reused */
        if (parent == pid)
            return 1;
        c = p;
    }
    return 0;
}

int rp_find_pid(struct rp_pathlist *l, const char *dir, uint32_t pid, char *err, size_t errlen)
{
    char **names, ignored[512];
    size_t n, ncand = 0, added = 0;
    int rc = 0;
    if (list_rings(dir, &names, &n, err, errlen))
        return -1;
    struct candidate *cand = calloc(n ? n : 1, sizeof *cand);
    if (!cand) {
        free_names(names, n);
        snprintf(err, errlen, "%s: out of memory", dir);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (rp_ring_peek(names[i], &cand[ncand].h, ignored, sizeof ignored) == 0)
            cand[ncand++].path = names[i];
    for (size_t i = 0; i < ncand && rc == 0; i++) {
        if (newest(cand, ncand, cand[i].h.pid) != &cand[i] || !descends_from(&cand[i], pid, cand, ncand))
            continue;
        rc = add_file(l, cand[i].path, err, errlen);
        added++;
    }
    if (rc == 0 && added == 0) {
        snprintf(err, errlen, "no rings for pid %u in %s", pid, dir);
        rc = -1;
    }
    free(cand);
    free_names(names, n);
    return rc;
}

void rp_pathlist_free(struct rp_pathlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
    memset(l, 0, sizeof *l);
}
