/* SPDX-License-Identifier: MIT */
/*
 * test_pkt.c - unit tests for packet buffers, views, checksums and pools
 *
 * Every test of the "pkt" suite runs on a fresh arena and pools and ends by
 * asserting that every block went back, so a leak fails the test.  The check
 * is at the end of the test body (PKT_TEST), not in the suite's .fini:
 * Criterion 2.4 reports an assertion or crash in .fini as a warning and still
 * counts the test as passed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf/pkt.h"
#include "core/arena.h"

#define NSMALL 16
#define NMEDIUM 8
#define NLARGE 4

static struct arena *ta;
static struct pkt_pools *tp;

static void pkt_setup(void)
{
	ta = arena_new((size_t)64 << 20);
	cr_assert_not_null(ta);
	tp = pkt_pools_new(ta, NSMALL, NMEDIUM, NLARGE);
	cr_assert_not_null(tp);
}

static void expect_pools_full(void)
{
	cr_assert(pkt_pools_full(tp), "pools not full: %u/%u small, %u/%u medium, %u/%u large",
		  pkt_pools_free_count(tp, 0), NSMALL, pkt_pools_free_count(tp, 1), NMEDIUM,
		  pkt_pools_free_count(tp, 2), NLARGE);
}

static void pkt_teardown(void)
{
	arena_destroy(ta);
}

TestSuite(pkt, .init = pkt_setup, .fini = pkt_teardown);

/* A test of the pkt suite whose body must give every block back. */
#define PKT_TEST(name)                          \
	static void name##_body(void);          \
	Test(pkt, name)                         \
	{                                       \
		name##_body();                  \
		expect_pools_full();            \
	}                                       \
	static void name##_body(void)

/* Byte i of the reference pattern. */
static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 7 + 3 + (i >> 8));
}

/*
 * A chain of n pieces of sizes[i] bytes each (one pool block per piece),
 * holding pat(base + k) at offset k.
 */
static struct pkt *make_chain(const size_t *sizes, int n, size_t base)
{
	struct pkt *head = NULL;
	size_t k = base;

	for (int i = 0; i < n; i++) {
		struct pkt *pc = pkt_alloc(tp, sizes[i]);
		uint8_t *d;

		cr_assert_not_null(pc);
		d = pkt_put(pc, sizes[i]);
		cr_assert_not_null(d);
		for (size_t j = 0; j < sizes[i]; j++)
			d[j] = pat(k++);
		if (head)
			pkt_append(head, pc);
		else
			head = pc;
	}
	return head;
}

static int count_pieces(const struct pkt *pk)
{
	int n = 0;

	for (; pk; pk = pk->frag)
		n++;
	return n;
}

/* Check that pk holds exactly pat(base) .. pat(base + len - 1). */
static void expect_pattern(const struct pkt *pk, size_t base, size_t len)
{
	uint8_t buf[4096];
	size_t sum = 0;

	cr_assert_leq(len, sizeof(buf));
	cr_assert_eq(pk->tot_len, len);
	for (const struct pkt *p = pk; p; p = p->frag)
		sum += p->len;
	cr_assert_eq(sum, len, "tot_len %zu but pieces hold %zu", len, sum);
	cr_assert_eq(pkt_copy_out(pk, 0, buf, len), len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], pat(base + i), "byte %zu of %zu (base %zu)", i, len, base);
}

static bool meta_is_zero(const struct pkt_meta *m)
{
	static const struct pkt_meta zero;

	return memcmp(m, &zero, sizeof(zero)) == 0;
}

/* ---- allocation ---- */

PKT_TEST(alloc_every_class)
{
	static const struct {
		size_t len;
		uint32_t cap;
	} cases[] = {
		{ 0, PKT_CLASS_SMALL },
		{ 1, PKT_CLASS_SMALL },
		{ PKT_CLASS_SMALL - PKT_HEADROOM, PKT_CLASS_SMALL },
		{ PKT_CLASS_SMALL - PKT_HEADROOM + 1, PKT_CLASS_MEDIUM },
		{ 1500, PKT_CLASS_MEDIUM },
		{ PKT_CLASS_MEDIUM - PKT_HEADROOM, PKT_CLASS_MEDIUM },
		{ PKT_CLASS_MEDIUM - PKT_HEADROOM + 1, PKT_CLASS_LARGE },
		{ 65507, PKT_CLASS_LARGE },
		{ PKT_CLASS_LARGE - PKT_HEADROOM, PKT_CLASS_LARGE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt *pk = pkt_alloc(tp, cases[i].len);

		cr_assert_not_null(pk, "len %zu", cases[i].len);
		cr_assert_eq(pk->cap, cases[i].cap, "len %zu", cases[i].len);
		cr_assert_eq(pk->data, pk->buf + PKT_HEADROOM);
		cr_assert_eq(pkt_headroom(pk), PKT_HEADROOM);
		cr_assert_eq(pkt_tailroom(pk), cases[i].cap - PKT_HEADROOM);
		cr_assert_eq(pk->len, 0);
		cr_assert_eq(pk->tot_len, 0);
		cr_assert_eq(pk->refcnt, 1);
		cr_assert_null(pk->frag);
		cr_assert_null(pk->shared);
		cr_assert(meta_is_zero(&pk->meta));
		cr_assert_eq((uintptr_t)pk->data % 64, 0, "data is cache-line aligned");
		/* the whole requested length fits and is writable */
		uint8_t *d = pkt_put(pk, cases[i].len);
		cr_assert_not_null(d);
		if (cases[i].len)
			memset(d, 0x5a, cases[i].len);
		pkt_free(pk);
	}
	cr_assert_null(pkt_alloc(tp, PKT_CLASS_LARGE - PKT_HEADROOM + 1));
	cr_assert_null(pkt_alloc(tp, SIZE_MAX));
	pkt_free(NULL);
}

PKT_TEST(header_and_meta_zeroed_on_reuse)
{
	struct pkt *pk = pkt_alloc(tp, 10), *again;

	cr_assert_not_null(pk);
	memset(&pk->meta, 0xff, sizeof(pk->meta));
	pk->meta.destructor = NULL; /* a real one would run on free */
	pk->len = 77;
	pk->tot_len = 77;
	pkt_free(pk);
	again = pkt_alloc(tp, 10);
	cr_assert_eq(again, pk, "freed block is reused first");
	cr_assert(meta_is_zero(&again->meta));
	cr_assert_eq(again->len, 0);
	cr_assert_eq(again->tot_len, 0);
	cr_assert_null(again->next);
	cr_assert_eq(again->data, again->buf + PKT_HEADROOM);
	pkt_free(again);
}

PKT_TEST(alloc_class_and_headroom)
{
	struct pkt *pk;

	pk = pkt_alloc_class(tp, 0, 0);
	cr_assert_not_null(pk);
	cr_assert_eq(pk->cap, PKT_CLASS_SMALL);
	cr_assert_eq(pk->data, pk->buf);
	cr_assert_eq(pkt_headroom(pk), 0);
	cr_assert_null(pkt_push(pk, 1));
	pkt_free(pk);

	pk = pkt_alloc_class(tp, 1, 14);
	cr_assert_not_null(pk);
	cr_assert_eq(pk->cap, PKT_CLASS_MEDIUM);
	cr_assert_eq(pkt_headroom(pk), 14);
	cr_assert_eq(pkt_tailroom(pk), PKT_CLASS_MEDIUM - 14);
	pkt_free(pk);

	/* all of the buffer as headroom is allowed */
	pk = pkt_alloc_class(tp, 0, PKT_CLASS_SMALL);
	cr_assert_not_null(pk);
	cr_assert_eq(pk->cap, PKT_CLASS_SMALL);
	cr_assert_eq(pkt_tailroom(pk), 0);
	cr_assert_null(pkt_put(pk, 1));
	pkt_free(pk);

	/* headroom that does not fit the class moves up a class */
	pk = pkt_alloc_class(tp, 0, PKT_CLASS_SMALL + 1);
	cr_assert_not_null(pk);
	cr_assert_eq(pk->cap, PKT_CLASS_MEDIUM);
	pkt_free(pk);

	cr_assert_null(pkt_alloc_class(tp, -1, 0));
	cr_assert_null(pkt_alloc_class(tp, PKT_NCLASS, 0));
	cr_assert_null(pkt_alloc_class(tp, 0, PKT_CLASS_LARGE + 1));
}

PKT_TEST(exhaustion_returns_null_then_recovers)
{
	struct pkt *l[NLARGE], *extra;

	for (int i = 0; i < NLARGE; i++) {
		l[i] = pkt_alloc(tp, 60000);
		cr_assert_not_null(l[i]);
		cr_assert_eq(pkt_pools_free_count(tp, 2), (unsigned)(NLARGE - 1 - i));
	}
	/* large is the last class: nothing to fall back to */
	cr_assert_null(pkt_alloc(tp, 60000));
	cr_assert_null(pkt_alloc_class(tp, 2, 0));
	pkt_free(l[1]);
	extra = pkt_alloc(tp, 60000);
	cr_assert_eq(extra, l[1]);
	l[1] = extra;
	for (int i = 0; i < NLARGE; i++)
		pkt_free(l[i]);
	cr_assert_eq(pkt_pools_free_count(tp, 2), NLARGE);
}

PKT_TEST(fallback_to_larger_class)
{
	struct pkt *all[NSMALL + NMEDIUM + NLARGE];
	int n = 0;

	for (int i = 0; i < NSMALL; i++) {
		all[n] = pkt_alloc(tp, 10);
		cr_assert_eq(all[n]->cap, PKT_CLASS_SMALL);
		n++;
	}
	cr_assert_eq(pkt_pools_free_count(tp, 0), 0);
	for (int i = 0; i < NMEDIUM; i++) {
		all[n] = pkt_alloc(tp, 10);
		cr_assert_not_null(all[n]);
		cr_assert_eq(all[n]->cap, PKT_CLASS_MEDIUM, "small exhausted: medium");
		n++;
	}
	for (int i = 0; i < NLARGE; i++) {
		all[n] = pkt_alloc(tp, 10);
		cr_assert_not_null(all[n]);
		cr_assert_eq(all[n]->cap, PKT_CLASS_LARGE, "medium exhausted: large");
		n++;
	}
	cr_assert_null(pkt_alloc(tp, 10));
	cr_assert_null(pkt_alloc(tp, 1000));
	for (int c = 0; c < PKT_NCLASS; c++)
		cr_assert_eq(pkt_pools_free_count(tp, c), 0);
	cr_assert_not(pkt_pools_full(tp));

	/* a small block freed serves the next small request again */
	pkt_free(all[3]);
	all[3] = pkt_alloc(tp, 1);
	cr_assert_not_null(all[3]);
	cr_assert_eq(all[3]->cap, PKT_CLASS_SMALL);
	while (n)
		pkt_free(all[--n]);
}

PKT_TEST(pools_counts_exact)
{
	struct pkt *a, *b, *c;

	cr_assert(pkt_pools_full(tp));
	cr_assert_eq(pkt_pools_total_count(tp, 0), NSMALL);
	cr_assert_eq(pkt_pools_total_count(tp, 1), NMEDIUM);
	cr_assert_eq(pkt_pools_total_count(tp, 2), NLARGE);
	cr_assert_eq(pkt_pools_total_count(tp, 3), 0);
	cr_assert_eq(pkt_pools_free_count(tp, -1), 0);

	a = pkt_alloc(tp, 100);
	b = pkt_alloc(tp, 1000);
	c = pkt_alloc(tp, 10000);
	cr_assert_eq(pkt_pools_free_count(tp, 0), NSMALL - 1);
	cr_assert_eq(pkt_pools_free_count(tp, 1), NMEDIUM - 1);
	cr_assert_eq(pkt_pools_free_count(tp, 2), NLARGE - 1);
	cr_assert_not(pkt_pools_full(tp));
	pkt_free(b);
	cr_assert_eq(pkt_pools_free_count(tp, 1), NMEDIUM);
	pkt_free(a);
	pkt_free(c);
	cr_assert(pkt_pools_full(tp));
}

PKT_TEST(pools_too_big_for_arena)
{
	struct arena *small = arena_new(1 << 20);

	cr_assert_not_null(small);
	cr_assert_null(pkt_pools_new(small, 10, 10, 100));
	cr_assert_eq(arena_used(small), 0, "a failed reservation takes nothing");
	cr_assert_null(pkt_pools_new(small, UINT32_MAX, UINT32_MAX, UINT32_MAX));
	cr_assert_not_null(pkt_pools_new(small, 100, 100, 10));
	arena_destroy(small);
}

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

PKT_TEST(big_pools_cost_rss_only_when_used)
{
	size_t size = (size_t)512 << 20;
	struct arena *a = arena_new(size);
	struct pkt_pools *p;
	struct pkt *pk[8];

	cr_assert_not_null(a);
	p = pkt_pools_new(a, 100000, 50000, 2000);	/* ~300 MiB reserved */
	cr_assert_not_null(p);
	cr_assert_gt(arena_used(a), (size_t)250 << 20);
	cr_assert_leq(resident_pages(a, size), 2);
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 8; i++)
			pk[i] = pkt_alloc(p, i & 1 ? 1400 : 60000);
		for (int i = 0; i < 8; i++)
			pkt_free(pk[i]);
	}
	/* 8 blocks in use at once: only their headers were touched */
	cr_assert_leq(resident_pages(a, size), 20);
	cr_assert(pkt_pools_full(p));
	arena_destroy(a);
}

/* ---- push / pull / put / trim ---- */

PKT_TEST(push_pull_put_trim_single_piece)
{
	struct pkt *pk = pkt_alloc(tp, 100);
	uint8_t *d;

	d = pkt_put(pk, 10);
	cr_assert_eq(d, pk->data);
	memcpy(d, "0123456789", 10);
	cr_assert_eq(pk->len, 10);
	cr_assert_eq(pk->tot_len, 10);

	d = pkt_push(pk, 4);
	cr_assert_eq(d, pk->buf + PKT_HEADROOM - 4);
	memcpy(d, "HDR:", 4);
	cr_assert_eq(pk->tot_len, 14);
	cr_assert_eq(pkt_headroom(pk), PKT_HEADROOM - 4);
	cr_assert_eq(memcmp(pkt_linear(pk, 14), "HDR:0123456789", 14), 0);
	cr_assert_null(pkt_linear(pk, 15));

	cr_assert_null(pkt_push(pk, PKT_HEADROOM - 3));
	cr_assert_eq(pk->tot_len, 14, "a failed push changes nothing");
	cr_assert_not_null(pkt_push(pk, PKT_HEADROOM - 4));
	cr_assert_eq(pkt_headroom(pk), 0);
	cr_assert_eq(pkt_pull(pk, PKT_HEADROOM - 4), 0);

	cr_assert_eq(pkt_pull(pk, 4), 0);
	cr_assert_eq(memcmp(pk->data, "0123456789", 10), 0);
	cr_assert_eq(pkt_pull(pk, 11), -EINVAL);
	cr_assert_eq(pk->tot_len, 10);

	cr_assert_eq(pkt_trim(pk, 11), -EINVAL);
	cr_assert_eq(pkt_trim(pk, 6), 0);
	cr_assert_eq(pk->len, 6);
	cr_assert_eq(pk->tot_len, 6);
	cr_assert_eq(pkt_tailroom(pk), PKT_CLASS_SMALL - PKT_HEADROOM - 6);

	cr_assert_null(pkt_put(pk, pkt_tailroom(pk) + 1));
	cr_assert_not_null(pkt_put(pk, pkt_tailroom(pk)));
	cr_assert_eq(pkt_tailroom(pk), 0);

	cr_assert_eq(pkt_pull(pk, pk->tot_len), 0);
	cr_assert_eq(pk->tot_len, 0);
	cr_assert_eq(pkt_trim(pk, 0), 0);
	pkt_free(pk);
}

static const size_t odd3[] = { 7, 13, 5 };
#define ODD3_LEN 25

PKT_TEST(pull_across_pieces_every_length)
{
	for (size_t n = 0; n <= ODD3_LEN; n++) {
		struct pkt *pk = make_chain(odd3, 3, 0);

		cr_assert_eq(pkt_pull(pk, n), 0, "pull %zu", n);
		expect_pattern(pk, n, ODD3_LEN - n);
		/* wholly pulled pieces after the head are gone; the head stays */
		int want = 1 + (n < 20) + (n < 25);
		cr_assert_eq(count_pieces(pk), want, "pull %zu", n);
		cr_assert_eq(pkt_pools_free_count(tp, 0), (unsigned)(NSMALL - want));
		if (n >= 7)
			cr_assert_eq(pk->len, 0);
		pkt_free(pk);
	}
	struct pkt *pk = make_chain(odd3, 3, 0);

	cr_assert_eq(pkt_pull(pk, ODD3_LEN + 1), -EINVAL);
	expect_pattern(pk, 0, ODD3_LEN);
	/* pulling in steps gives the same bytes as one pull */
	for (size_t done = 0; done < ODD3_LEN; done += 3) {
		size_t step = done + 3 > ODD3_LEN ? ODD3_LEN - done : 3;

		cr_assert_eq(pkt_pull(pk, step), 0);
		expect_pattern(pk, done + step, ODD3_LEN - done - step);
	}
	pkt_free(pk);
}

PKT_TEST(trim_across_pieces_every_length)
{
	for (size_t n = 0; n <= ODD3_LEN; n++) {
		struct pkt *pk = make_chain(odd3, 3, 0);

		cr_assert_eq(pkt_trim(pk, n), 0, "trim %zu", n);
		expect_pattern(pk, 0, n);
		int want = 1 + (n > 7) + (n > 20);
		cr_assert_eq(count_pieces(pk), want, "trim %zu", n);
		cr_assert_eq(pkt_pools_free_count(tp, 0), (unsigned)(NSMALL - want));
		pkt_free(pk);
	}
	struct pkt *pk = make_chain(odd3, 3, 0);

	cr_assert_eq(pkt_trim(pk, ODD3_LEN + 1), -EINVAL);
	expect_pattern(pk, 0, ODD3_LEN);
	pkt_free(pk);
}

PKT_TEST(put_goes_to_last_piece_and_push_to_head)
{
	struct pkt *pk = make_chain(odd3, 3, 10);
	uint8_t *d;

	d = pkt_put(pk, 2);
	cr_assert_not_null(d);
	d[0] = pat(10 + 25);
	d[1] = pat(10 + 26);
	cr_assert_eq(pk->frag->frag->len, 7);
	expect_pattern(pk, 10, 27);
	cr_assert_eq(pkt_tailroom(pk), PKT_CLASS_SMALL - PKT_HEADROOM - 7);

	d = pkt_push(pk, 10);
	cr_assert_not_null(d);
	for (int i = 0; i < 10; i++)
		d[i] = pat(i);
	expect_pattern(pk, 0, 37);
	cr_assert_eq(pk->len, 17);
	pkt_free(pk);
}

PKT_TEST(append_and_linear)
{
	struct pkt *pk = make_chain(odd3, 3, 0), *t;

	cr_assert_eq(pkt_linear(pk, 0), pk->data);
	cr_assert_eq(pkt_linear(pk, 7), pk->data);
	cr_assert_null(pkt_linear(pk, 8), "bytes spanning pieces are not linear");
	cr_assert_eq(pkt_pull(pk, 7), 0);
	cr_assert_null(pkt_linear(pk, 1), "an emptied head piece has nothing linear");
	cr_assert_eq(pkt_push(pk, 7), pk->data);
	for (int i = 0; i < 7; i++)
		pk->data[i] = pat(i);

	t = make_chain(odd3, 2, 25);
	t->meta.mark = 42;
	pkt_append(pk, t);
	pkt_append(pk, NULL);
	cr_assert_eq(count_pieces(pk), 5);
	expect_pattern(pk, 0, 45);
	cr_assert_eq(pk->meta.mark, 0, "tail meta is discarded");
	pkt_free(pk);
}

PKT_TEST(copy_in_and_out_across_pieces)
{
	struct pkt *pk = make_chain(odd3, 3, 0);
	uint8_t in[25], out[30];

	for (size_t off = 0; off <= ODD3_LEN; off++) {
		for (size_t len = 0; off + len <= ODD3_LEN; len++) {
			for (size_t i = 0; i < len; i++)
				in[i] = (uint8_t)(off * 31 + len * 7 + i);
			cr_assert_eq(pkt_copy_in(pk, off, in, len), len);
			memset(out, 0, sizeof(out));
			cr_assert_eq(pkt_copy_out(pk, off, out, len), len);
			cr_assert_eq(memcmp(in, out, len), 0, "off %zu len %zu", off, len);
		}
	}
	/* short copies stop at the end of the chain */
	cr_assert_eq(pkt_copy_out(pk, 20, out, 10), 5);
	cr_assert_eq(pkt_copy_out(pk, 30, out, 10), 0);
	cr_assert_eq(pkt_copy_in(pk, 24, in, 10), 1);
	pkt_free(pk);
}

/* ---- views ---- */

PKT_TEST(clone_range_every_offset_and_length)
{
	struct pkt *pk = make_chain(odd3, 3, 0);

	pk->meta.ifindex = 3;
	pk->meta.truesize = 999;
	for (size_t off = 0; off <= ODD3_LEN; off++) {
		for (size_t len = 0; off + len <= ODD3_LEN; len++) {
			size_t hr = (off + len) % 3 == 0 ? 0 : 40;
			struct pkt *c = pkt_clone_range(tp, pk, off, len, hr);

			cr_assert_not_null(c, "off %zu len %zu", off, len);
			cr_assert_eq(pkt_headroom(c), hr);
			cr_assert_eq(c->len, 0);
			cr_assert_eq(c->cap, PKT_CLASS_SMALL);
			cr_assert_eq(c->meta.ifindex, 3);
			cr_assert_eq(c->meta.truesize, 999);
			expect_pattern(c, off, len);
			for (const struct pkt *v = c->frag; v; v = v->frag) {
				cr_assert_eq(v->cap, 0);
				cr_assert_not_null(v->shared);
				cr_assert_gt(v->len, 0, "no empty views");
				cr_assert_eq(pkt_headroom(v), 0);
			}
			/* view pieces: one per source piece the range touches */
			int touched = 0;
			size_t at = 0;

			for (int i = 0; i < 3; i++) {
				if (len && off < at + odd3[i] && off + len > at)
					touched++;
				at += odd3[i];
			}
			cr_assert_eq(count_pieces(c), 1 + touched, "off %zu len %zu", off, len);

			if (hr) {
				uint8_t *h = pkt_push(c, 8);

				cr_assert_not_null(h);
				memset(h, 0xee, 8);
				cr_assert_eq(c->tot_len, len + 8);
				cr_assert_eq(pkt_pull(c, 8), 0);
				expect_pattern(c, off, len);
			}
			pkt_free(c);
			cr_assert_eq(pkt_pools_free_count(tp, 0), NSMALL - 3);
			for (const struct pkt *p = pk; p; p = p->frag)
				cr_assert_eq(p->refcnt, 1, "views gave their references back");
		}
	}
	expect_pattern(pk, 0, ODD3_LEN);
	cr_assert_null(pkt_clone_range(tp, pk, 26, 0, 0));
	cr_assert_null(pkt_clone_range(tp, pk, 20, 6, 0));
	cr_assert_null(pkt_clone_range(tp, pk, 1, SIZE_MAX, 0));
	pkt_free(pk);
}

PKT_TEST(clone_survives_original)
{
	struct pkt *pk = make_chain(odd3, 3, 0);
	struct pkt *c = pkt_clone_range(tp, pk, 3, 20, 16);

	cr_assert_not_null(c);
	cr_assert_eq(pk->refcnt, 2);
	cr_assert_eq(pk->frag->refcnt, 2);
	cr_assert_eq(pk->frag->frag->refcnt, 2);
	pkt_free(pk);
	/* clone head + 3 views + the 3 source pieces they keep */
	cr_assert_eq(pkt_pools_free_count(tp, 0), NSMALL - 7);
	expect_pattern(c, 3, 20);
	cr_assert_not_null(pkt_push(c, 16));
	cr_assert_eq(pkt_pull(c, 16), 0);
	expect_pattern(c, 3, 20);
	pkt_free(c);
}

PKT_TEST(clone_of_a_middle_piece_outlives_chain)
{
	struct pkt *pk = make_chain(odd3, 3, 0);
	struct pkt *c = pkt_clone_range(tp, pk, 8, 4, 0);	/* inside piece 2 only */

	cr_assert_not_null(c);
	cr_assert_eq(count_pieces(c), 2);
	cr_assert_eq(c->frag->shared, pk->frag);
	pkt_free(pk);
	/* the head piece went; piece 2 (and what it links to) waits for the view */
	cr_assert_eq(pkt_pools_free_count(tp, 0), NSMALL - 2 - 2);
	expect_pattern(c, 8, 4);
	pkt_free(c);
}

PKT_TEST(clone_of_clone_points_at_owner)
{
	struct pkt *pk = make_chain(odd3, 3, 0);
	struct pkt *c1 = pkt_clone_range(tp, pk, 2, 20, 8);
	struct pkt *c2;
	uint8_t *h;

	cr_assert_not_null(c1);
	h = pkt_push(c1, 2);
	h[0] = pat(0);
	h[1] = pat(1);
	expect_pattern(c1, 0, 22);
	/* c2 covers c1's pushed bytes (in c1's head block) and its views */
	c2 = pkt_clone_range(tp, c1, 1, 21, 4);
	cr_assert_not_null(c2);
	expect_pattern(c2, 1, 21);
	cr_assert_eq(c2->frag->shared, c1, "a view of an owning piece points at it");
	for (const struct pkt *v = c2->frag->frag; v; v = v->frag) {
		cr_assert_eq(v->shared->cap != 0, true, "views never point at views");
		cr_assert(v->shared == pk || v->shared == pk->frag || v->shared == pk->frag->frag);
	}
	pkt_free(pk);
	pkt_free(c1);
	expect_pattern(c2, 1, 21);
	pkt_free(c2);
}

PKT_TEST(clone_exhaustion_leaves_source_untouched)
{
	struct pkt *pk = make_chain(odd3, 3, 0), *c;
	struct pkt *hold[NSMALL + NMEDIUM + NLARGE];
	int n = 0;

	/* leave exactly two blocks free in the whole namespace */
	while (pkt_pools_free_count(tp, 0) + pkt_pools_free_count(tp, 1) +
	       pkt_pools_free_count(tp, 2) > 2) {
		hold[n] = pkt_alloc(tp, 0);
		cr_assert_not_null(hold[n]);
		n++;
	}
	c = pkt_clone_range(tp, pk, 0, 25, 0);	/* needs 4 blocks */
	cr_assert_null(c);
	for (const struct pkt *p = pk; p; p = p->frag)
		cr_assert_eq(p->refcnt, 1);
	cr_assert_eq(pkt_pools_free_count(tp, 0) + pkt_pools_free_count(tp, 1) +
		     pkt_pools_free_count(tp, 2), 2);
	expect_pattern(pk, 0, 25);
	/* a range inside one piece needs two: it works, from whatever class is left */
	c = pkt_clone_range(tp, pk, 8, 5, 0);
	cr_assert_not_null(c);
	expect_pattern(c, 8, 5);
	pkt_free(c);
	while (n)
		pkt_free(hold[--n]);
	pkt_free(pk);
}

PKT_TEST(get_keeps_packet_alive)
{
	struct pkt *pk = make_chain(odd3, 3, 0);

	cr_assert_eq(pkt_get(pk), pk);
	cr_assert_eq(pk->refcnt, 2);
	pkt_free(pk);
	cr_assert_eq(pkt_pools_free_count(tp, 0), NSMALL - 3);
	expect_pattern(pk, 0, 25);
	pkt_free(pk);
}

/* ---- checksum ---- */

/*
 * Reference: RFC 1071 one byte at a time, folded to 16 bits, in the memory
 * order wire/csum.h uses: byte i is the first byte of its word when i is
 * even, which is the low half of the loaded word on a little-endian CPU.
 */
static uint16_t ref_csum(const uint8_t *b, size_t len, uint32_t sum)
{
	const uint16_t one = 1;
	const bool le = *(const uint8_t *)&one == 1;
	uint64_t acc = sum;

	for (size_t i = 0; i < len; i++)
		acc += (uint32_t)b[i] << (((i & 1) ^ le) ? 0 : 8);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Ones' complement values: 0 and 0xffff are the same number. */
static bool csum_same(uint16_t a, uint16_t b)
{
	return a == b || (a % 0xffff == 0 && b % 0xffff == 0);
}

static struct pkt *chain_of(const size_t *sizes, int n, const uint8_t *bytes)
{
	struct pkt *head = NULL;

	for (int i = 0; i < n; i++) {
		struct pkt *pc = pkt_alloc(tp, sizes[i]);

		cr_assert_not_null(pc);
		memcpy(pkt_put(pc, sizes[i]), bytes, sizes[i]);
		bytes += sizes[i];
		if (head)
			pkt_append(head, pc);
		else
			head = pc;
	}
	return head;
}

PKT_TEST(csum_rfc1071_example)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const size_t sizes[] = { 8 };
	struct pkt *pk = chain_of(sizes, 1, b);

	uint16_t sum = fold(pkt_csum_partial(pk, 0, 8, 0));
	uint8_t wire[2];

	/* memory order: the folded sum reads as dd f2 when stored as is */
	memcpy(wire, &sum, 2);
	cr_assert_eq(wire[0], 0xdd);
	cr_assert_eq(wire[1], 0xf2);
	pkt_free(pk);
}

PKT_TEST(csum_across_odd_pieces)
{
	static const size_t shapes[][6] = {
		{ 7, 13, 5 }, { 1, 3, 5, 1 }, { 2, 1, 1, 2, 9, 1 }, { 1, 1, 1, 1, 1, 1 },
		{ 3, 17 }, { 16, 9, 8 }, { 33 },
	};
	static const uint32_t seeds[] = { 0, 0x1234, 0xffff, 0xfffffff0u, 0xffffffffu };
	uint8_t bytes[64];
	uint32_t x = 0x9e3779b9;

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		size_t total = 0;
		int n = 0;

		while (n < 6 && shapes[s][n])
			total += shapes[s][n++];
		for (size_t i = 0; i < total; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* mix in 0xff runs: they exercise the carries */
			bytes[i] = i % 5 == 0 ? 0xff : (uint8_t)x;
		}
		struct pkt *pk = chain_of(shapes[s], n, bytes);

		for (size_t off = 0; off <= total; off++)
			for (size_t len = 0; off + len <= total; len++)
				for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
					uint16_t got = fold(pkt_csum_partial(pk, off, len, seeds[k]));
					uint16_t want = ref_csum(bytes + off, len, seeds[k]);

					cr_assert(csum_same(got, want),
						  "shape %zu off %zu len %zu seed %x: %04x != %04x", s,
						  off, len, seeds[k], got, want);
				}
		/* a range past the end sums what exists */
		cr_assert(csum_same(fold(pkt_csum_partial(pk, 0, total + 9, 0)),
				    ref_csum(bytes, total, 0)));
		pkt_free(pk);
	}
}

PKT_TEST(csum_large_pieces_and_views)
{
	static const size_t sizes[] = { 1001, 1, 1400, 333 };
	static uint8_t bytes[2735];
	static const size_t ranges[][2] = {
		{ 0, 2735 }, { 1, 2734 }, { 1000, 3 }, { 999, 1404 }, { 7, 2000 }, { 2402, 333 },
	};
	uint32_t x = 12345;
	struct pkt *pk, *c;

	for (size_t i = 0; i < sizeof(bytes); i++) {
		x = x * 1103515245 + 12345;
		bytes[i] = (uint8_t)(x >> 16);
	}
	pk = chain_of(sizes, 4, bytes);
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		size_t off = ranges[r][0], len = ranges[r][1];

		cr_assert(csum_same(fold(pkt_csum_partial(pk, off, len, 0)),
				    ref_csum(bytes + off, len, 0)), "range %zu", r);
		/* the same bytes seen through views at odd offsets */
		c = pkt_clone_range(tp, pk, off, len, 0);
		cr_assert_not_null(c);
		cr_assert(csum_same(fold(pkt_csum_partial(c, 0, len, 0)),
				    ref_csum(bytes + off, len, 0)), "clone of range %zu", r);
		pkt_free(c);
	}
	pkt_free(pk);
}

/* ---- queue ---- */

PKT_TEST(queue_fifo_counts_bytes)
{
	struct pkt_queue q;
	struct pkt *p[4];

	pkt_queue_init(&q);
	cr_assert_null(pkt_queue_pop(&q));
	cr_assert_null(pkt_queue_peek(&q));
	for (int i = 0; i < 4; i++) {
		p[i] = pkt_alloc(tp, 10);
		p[i]->meta.truesize = 100 * (i + 1);
		pkt_queue_push(&q, p[i]);
		cr_assert_eq(q.count, (uint32_t)i + 1);
	}
	cr_assert_eq(q.bytes, 1000);
	cr_assert_eq(pkt_queue_peek(&q), p[0]);
	cr_assert_eq(pkt_queue_pop(&q), p[0]);
	cr_assert_eq(pkt_queue_pop(&q), p[1]);
	cr_assert_eq(q.count, 2);
	cr_assert_eq(q.bytes, 700);
	cr_assert_null(p[1]->next);
	pkt_free(p[0]);
	/* re-queue behind the rest */
	pkt_queue_push(&q, p[1]);
	cr_assert_eq(pkt_queue_pop(&q), p[2]);
	cr_assert_eq(pkt_queue_pop(&q), p[3]);
	cr_assert_eq(pkt_queue_pop(&q), p[1]);
	cr_assert_null(pkt_queue_pop(&q));
	cr_assert_eq(q.count, 0);
	cr_assert_eq(q.bytes, 0);
	cr_assert_null(q.tail);
	pkt_free(p[1]);
	pkt_free(p[2]);
	pkt_free(p[3]);
}

PKT_TEST(queue_purge_frees_chains)
{
	struct pkt_queue q;

	pkt_queue_init(&q);
	for (int i = 0; i < 3; i++) {
		struct pkt *pk = make_chain(odd3, 3, 0);

		pk->meta.truesize = 25;
		pkt_queue_push(&q, pk);
	}
	cr_assert_eq(pkt_pools_free_count(tp, 0), NSMALL - 9);
	pkt_queue_purge(&q);
	cr_assert_eq(q.count, 0);
	cr_assert_eq(q.bytes, 0);
	cr_assert_null(pkt_queue_peek(&q));
}

/* ---- randomised model check ---- */

#define MODEL_N 6

struct model {
	struct pkt *pk;
	uint8_t bytes[4096];
	size_t len;
};

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void model_check(const struct model *m)
{
	static uint8_t out[4096];

	cr_assert_eq(m->pk->tot_len, m->len);
	cr_assert_eq(pkt_copy_out(m->pk, 0, out, m->len), m->len);
	cr_assert_eq(memcmp(out, m->bytes, m->len), 0);
	cr_assert(csum_same(fold(pkt_csum_partial(m->pk, 0, m->len, 0)), ref_csum(out, m->len, 0)));
}

/* Random allocs, clones, pulls, trims, pushes and frees against a byte model. */
PKT_TEST(random_ops_match_model)
{
	static struct model m[MODEL_N];
	uint32_t s = 0xdecafbad;

	for (int step = 0; step < 20000; step++) {
		int i = (int)(rnd(&s) % MODEL_N), j = (int)(rnd(&s) % MODEL_N);
		struct model *a = &m[i];
		struct pkt *pk;

		switch (rnd(&s) % 6) {
		case 0:	/* new chain of 1-3 pieces */
			if (a->pk)
				break;
			a->len = 0;
			for (int k = 0, n = 1 + (int)(rnd(&s) % 3); k < n; k++) {
				size_t len = rnd(&s) % 1200;

				pk = pkt_alloc(tp, len);
				if (!pk)
					break;
				uint8_t *d = pkt_put(pk, len);

				for (size_t b = 0; b < len; b++)
					d[b] = a->bytes[a->len + b] = (uint8_t)rnd(&s);
				a->len += len;
				if (a->pk)
					pkt_append(a->pk, pk);
				else
					a->pk = pk;
			}
			if (!a->pk)
				a->len = 0;
			break;
		case 1:	/* clone a range of j into i */
			if (a->pk || !m[j].pk)
				break;
			{
				size_t off = rnd(&s) % (m[j].len + 1);
				size_t len = rnd(&s) % (m[j].len - off + 1);

				pk = pkt_clone_range(tp, m[j].pk, off, len, rnd(&s) % 64);
				if (!pk)
					break;
				a->pk = pk;
				memcpy(a->bytes, m[j].bytes + off, len);
				a->len = len;
			}
			break;
		case 2:	/* pull */
			if (!a->pk)
				break;
			{
				size_t n = rnd(&s) % (a->len + 2);

				if (n > a->len) {
					cr_assert_eq(pkt_pull(a->pk, n), -EINVAL);
					break;
				}
				cr_assert_eq(pkt_pull(a->pk, n), 0);
				memmove(a->bytes, a->bytes + n, a->len - n);
				a->len -= n;
			}
			break;
		case 3:	/* trim */
			if (!a->pk)
				break;
			{
				size_t n = rnd(&s) % (a->len + 1);

				cr_assert_eq(pkt_trim(a->pk, n), 0);
				a->len = n;
			}
			break;
		case 4:	/* push: only a sole owner may write into its headroom */
			if (!a->pk || a->pk->refcnt != 1)
				break;
			{
				size_t n = rnd(&s) % 32;
				uint8_t *d;

				if (a->len + n > sizeof(a->bytes))
					break;
				d = pkt_push(a->pk, n);
				if (!d) {
					cr_assert_lt(pkt_headroom(a->pk), n);
					break;
				}
				memmove(a->bytes + n, a->bytes, a->len);
				for (size_t b = 0; b < n; b++)
					d[b] = a->bytes[b] = (uint8_t)rnd(&s);
				a->len += n;
			}
			break;
		case 5:	/* free */
			pkt_free(a->pk);
			a->pk = NULL;
			a->len = 0;
			break;
		}
		for (int k = 0; k < MODEL_N; k++)
			if (m[k].pk)
				model_check(&m[k]);
	}
	for (int k = 0; k < MODEL_N; k++)
		pkt_free(m[k].pk);
}
