/* SPDX-License-Identifier: MIT */
/*
 * test_arena.c - unit tests for the namespace arena and its object caches
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/arena.h"

/* Resident pages of [p, p+len) (page-aligned p), from mincore. */
static size_t resident_pages(const void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + page - 1) / page, res = 0;
	unsigned char *vec = calloc(n, 1);

	cr_assert_not_null(vec);
	cr_assert_eq(mincore((void *)p, len, vec), 0);
	for (size_t i = 0; i < n; i++)
		res += vec[i] & 1;
	free(vec);
	return res;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

Test(arena, alloc_aligned_zeroed_inside_region)
{
	struct arena *a = arena_new(1 << 20);
	static const size_t sizes[] = { 1, 7, 63, 64, 65, 100, 4095, 4096, 4097, 0 };

	cr_assert_not_null(a);
	cr_assert_eq(arena_used(a), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t want = sizes[i] ? sizes[i] : 1;
		uint8_t *p = arena_alloc(a, sizes[i]);

		cr_assert_not_null(p, "size %zu", sizes[i]);
		cr_assert_eq((uintptr_t)p % 64, 0, "size %zu not 64-aligned", sizes[i]);
		/* the header lives at the region start, objects after it */
		cr_assert_gt((uintptr_t)p, (uintptr_t)a);
		cr_assert(all_zero(p, want));
		memset(p, 0xa5, want);
	}
	/* each carve is rounded up to 64 bytes */
	cr_assert_eq(arena_used(a), 64 + 64 + 64 + 64 + 128 + 128 + 4096 + 4096 + 4160 + 64);
	arena_destroy(a);
}

Test(arena, allocations_do_not_overlap)
{
	struct arena *a = arena_new(64 * 1024);
	uint8_t *prev = NULL;
	size_t prev_len = 0;

	cr_assert_not_null(a);
	for (size_t len = 1; len < 300; len += 37) {
		uint8_t *p = arena_alloc(a, len);

		cr_assert_not_null(p);
		if (prev)
			cr_assert_geq((uintptr_t)p, (uintptr_t)(prev + prev_len));
		prev = p;
		prev_len = len;
	}
	arena_destroy(a);
}

Test(arena, exhaustion_returns_null)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct arena *a = arena_new(page - 64);
	size_t got = 0;
	void *p;

	cr_assert_not_null(a);
	/* the usable size is at least what was asked, and finite */
	while ((p = arena_alloc(a, 64)) != NULL)
		got += 64;
	cr_assert_geq(got, page - 64);
	cr_assert_eq(arena_used(a), got);
	cr_assert_null(arena_alloc(a, 1));
	cr_assert_null(arena_alloc(a, SIZE_MAX));
	cr_assert_null(arena_alloc(a, SIZE_MAX - 10));
	cr_assert_eq(arena_used(a), got);
	arena_destroy(a);
}

Test(arena, huge_request_too_big)
{
	struct arena *a = arena_new(4096);

	cr_assert_not_null(a);
	cr_assert_null(arena_alloc(a, (size_t)1 << 40));
	/* a failed carve leaves the arena usable */
	cr_assert_not_null(arena_alloc(a, 100));
	arena_destroy(a);
	cr_assert_null(arena_new(SIZE_MAX));
}

Test(arena, untouched_memory_costs_no_rss)
{
	size_t size = (size_t)256 << 20;
	struct arena *a = arena_new(size);
	uint8_t *big;

	cr_assert_not_null(a);
	big = arena_alloc(a, size - 4096);
	cr_assert_not_null(big);
	/* only the header page was written */
	cr_assert_leq(resident_pages(a, size), 2);
	big[12345] = 1;
	cr_assert_leq(resident_pages(a, size), 3);
	arena_destroy(a);
}

Test(arena, cache_reuses_and_zeroes)
{
	struct arena *a = arena_new(1 << 20);
	struct arena_cache c;
	uint8_t *o1, *o2, *o3;

	cr_assert_not_null(a);
	arena_cache_init(&c, a, 100, 0);
	o1 = arena_cache_alloc(&c);
	o2 = arena_cache_alloc(&c);
	cr_assert_not_null(o1);
	cr_assert_not_null(o2);
	cr_assert_neq(o1, o2);
	cr_assert_eq((uintptr_t)o1 % 64, 0);
	cr_assert_eq(c.live, 2);
	cr_assert_eq(c.carved, 2);
	memset(o1, 0xff, 100);
	memset(o2, 0xff, 100);

	arena_cache_free(&c, o1);
	cr_assert_eq(c.live, 1);
	o3 = arena_cache_alloc(&c);
	cr_assert_eq(o3, o1, "a freed object is reused first");
	cr_assert(all_zero(o3, 100), "a reused object is zeroed");
	cr_assert_eq(c.carved, 2, "reuse carves nothing");

	/* LIFO: the last freed comes back first */
	arena_cache_free(&c, o2);
	arena_cache_free(&c, o3);
	cr_assert_eq(arena_cache_alloc(&c), o3);
	cr_assert_eq(arena_cache_alloc(&c), o2);
	cr_assert_eq(c.live, 2);
	arena_cache_free(&c, NULL);
	cr_assert_eq(c.live, 2);
	arena_destroy(a);
}

Test(arena, cache_max_is_respected)
{
	struct arena *a = arena_new(1 << 20);
	struct arena_cache c;
	void *objs[4];

	cr_assert_not_null(a);
	arena_cache_init(&c, a, 24, 4);
	for (int i = 0; i < 4; i++) {
		objs[i] = arena_cache_alloc(&c);
		cr_assert_not_null(objs[i]);
	}
	cr_assert_null(arena_cache_alloc(&c));
	cr_assert_eq(c.live, 4);
	arena_cache_free(&c, objs[2]);
	cr_assert_eq(arena_cache_alloc(&c), objs[2]);
	cr_assert_null(arena_cache_alloc(&c));
	arena_destroy(a);
}

Test(arena, cache_unbounded_stops_at_arena_end)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct arena *a = arena_new(page);
	struct arena_cache c;
	unsigned n = 0;
	void *last = NULL, *o;

	cr_assert_not_null(a);
	arena_cache_init(&c, a, 1, 0);	/* at least a pointer: a 64-byte carve */
	while ((o = arena_cache_alloc(&c)) != NULL) {
		last = o;
		n++;
	}
	cr_assert_eq(n, arena_used(a) / 64);
	cr_assert_geq(n, (page - 64) / 64);
	arena_cache_free(&c, last);
	cr_assert_eq(arena_cache_alloc(&c), last);
	arena_destroy(a);
}

Test(arena, destroy_null_is_ignored)
{
	arena_destroy(NULL);
}
