/* SPDX-License-Identifier: MIT */
/*
 * arena.c - a namespace's own allocator: one reserved region, bump and caches
 *
 * Theory of operation.  arena_new() maps one region (private, anonymous,
 * MAP_NORESERVE) and puts the arena header at its very start, so the whole
 * namespace state, header included, is that one region: a later step can
 * map it MAP_SHARED before fork() and every pointer inside it stays valid in
 * both processes, because the header holds only sizes and offsets and every
 * object the arena hands out lives inside it.
 *
 * arena_alloc() is a bump allocator: each carve is rounded to 64 bytes (a
 * cache line, so objects of different owners never share one) and is never
 * given back.  Memory is zero because the kernel hands out zero pages and
 * nothing is ever reused here, so nothing is written: a page the caller never
 * touches stays unbacked and costs no RSS, which is what lets a namespace
 * reserve large pools cheaply.
 *
 * arena_cache reuses freed fixed-size objects through a free list threaded
 * through their first word.  A reused object was written by its last owner,
 * so it is cleared on reuse; a freshly carved one is already zero.
 *
 * Limits: nothing is thread-safe (the namespace lock serialises callers) and
 * the region never grows: exhaustion is reported as NULL and the caller turns
 * it into ENOMEM or ENOBUFS.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/arena.h"

#define ARENA_ALIGN 64

/* Under AddressSanitizer a freed cache object is poisoned until reused. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define arena_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define arena_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define arena_poison(p, n) ((void)(p), (void)(n))
#define arena_unpoison(p, n) ((void)(p), (void)(n))
#endif

/* Lives at offset 0 of its own region: sizes and offsets only, no outside pointers. */
struct arena {
	size_t size;		/* bytes mapped, header included */
	size_t off;		/* next free byte, from the region start */
};

/* The header's footprint, so the first carve is 64-aligned. */
#define ARENA_HDR ((sizeof(struct arena) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

/*
 * arena_new - reserve a region with at least size usable bytes.
 * The mapping is rounded up to whole pages; the surplus is usable too.
 * Return: the arena, or NULL with errno from mmap (ENOMEM when size is too
 * large to round).
 */
struct arena *arena_new(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len;
	struct arena *a;

	/*
	 * A size that cannot be rounded is clamped to the largest page
	 * multiple, which mmap refuses with ENOMEM: errno stays mmap's.
	 */
	if (size > SIZE_MAX - ARENA_HDR - page)
		len = SIZE_MAX & ~(page - 1);
	else
		len = (size + ARENA_HDR + page - 1) & ~(page - 1);

	a = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	a->size = len;
	a->off = ARENA_HDR;
	return a;
}

/* arena_destroy - unmap the region; every object carved from it dies too. */
void arena_destroy(struct arena *a)
{
	size_t size;

	if (!a)
		return;
	size = a->size;
	/* stale poison would outlive the mapping and hit the next one at this address */
	arena_unpoison(a, size);
	munmap(a, size);
}

/*
 * arena_alloc - carve size bytes (0 counts as 1), 64-aligned and zero.
 * Return: the memory, or NULL when the region cannot hold it.
 */
void *arena_alloc(struct arena *a, size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if (size > a->size - a->off)
		return NULL;
	/* size <= region size here, so rounding cannot overflow */
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (size > a->size - a->off)
		return NULL;
	p = (uint8_t *)a + a->off;
	a->off += size;
	return p;
}

/* arena_used - bytes carved so far (header excluded), after 64-byte rounding. */
size_t arena_used(const struct arena *a)
{
	return a->off - ARENA_HDR;
}

/*
 * arena_cache_init - objects of objsize bytes from a, at most max of them
 * carved (0: no limit but the arena).  Objects are at least one pointer
 * long, since a free object holds the free-list link.
 */
void arena_cache_init(struct arena_cache *c, struct arena *a, size_t objsize, unsigned max)
{
	c->a = a;
	c->objsize = objsize < sizeof(void *) ? sizeof(void *) : objsize;
	c->max = max;
	c->live = 0;
	c->carved = 0;
	c->free = NULL;
}

/*
 * arena_cache_alloc - a zeroed object: a freed one first, else a new carve.
 * Return: the object, or NULL when max objects are live and none is free, or
 * the arena is full (the caller picks ENOMEM or ENOBUFS).
 */
void *arena_cache_alloc(struct arena_cache *c)
{
	void *obj = c->free;

	if (obj) {
		arena_unpoison(obj, c->objsize);
		memcpy(&c->free, obj, sizeof(void *));
		memset(obj, 0, c->objsize);
	} else {
		if (c->max && c->carved >= c->max)
			return NULL;
		obj = arena_alloc(c->a, c->objsize);
		if (!obj)
			return NULL;
		c->carved++;
	}
	c->live++;
	return obj;
}

/* arena_cache_free - give obj back for reuse (NULL is ignored). */
void arena_cache_free(struct arena_cache *c, void *obj)
{
	if (!obj)
		return;
	memcpy(obj, &c->free, sizeof(void *));
	c->free = obj;
	c->live--;
	arena_poison(obj, c->objsize);
}
