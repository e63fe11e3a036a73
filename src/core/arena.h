/* SPDX-License-Identifier: MIT */
/*
 * arena.h - a namespace's own allocator
 *
 * All of a namespace's memory (pools, sockets, tables) comes from one arena:
 * a single mmap'd region reserved up front (MAP_NORESERVE, so untouched pages
 * cost nothing), never from scattered malloc calls, so that a later step can
 * place a whole namespace in memory shared across fork().  Objects are carved
 * by arena_alloc (bump) and fixed-size object caches (arena_cache) give O(1)
 * alloc/free with free lists inside the arena.
 */
#ifndef USOCK_CORE_ARENA_H
#define USOCK_CORE_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct arena;

/* arena_new - reserve size bytes. Return: the arena, or NULL (errno from mmap). */
struct arena *arena_new(size_t size);
/* arena_destroy - unmap everything. */
void arena_destroy(struct arena *a);
/* arena_alloc - size bytes aligned to 64, zeroed; never freed individually. NULL when full. */
void *arena_alloc(struct arena *a, size_t size);
/* arena_used - bytes carved so far. */
size_t arena_used(const struct arena *a);

/*
 * struct arena_cache - fixed-size objects with a free list.  Objects are
 * carved from the arena on demand, up to max objects (0: until the arena is
 * full); freed objects are reused first.
 */
struct arena_cache {
	struct arena *a;
	size_t objsize;
	unsigned max, live, carved;
	void *free;		/* singly linked through the first word */
};
void arena_cache_init(struct arena_cache *c, struct arena *a, size_t objsize, unsigned max);
/* arena_cache_alloc - a zeroed object, or NULL (caller: ENOMEM/ENOBUFS). */
void *arena_cache_alloc(struct arena_cache *c);
void arena_cache_free(struct arena_cache *c, void *obj);

#endif
