/* SPDX-License-Identifier: MIT */
/*
 * pkt.c - packet buffers and the namespace's three block pools
 *
 * Theory of operation.
 *
 * Pools.  pkt_pools_new() carves, in one arena_alloc, the pools header and
 * the whole address range of every block the namespace will ever have
 * (count x stride per class), so the total is fixed up front and running out
 * is a NULL the caller reports as ENOBUFS.  Nothing in that range is written
 * until a block is first needed: a class hands out its never-used blocks in
 * address order (bump) only when its free list is empty, so a namespace with
 * large pools costs RSS in proportion to the blocks it has actually used at
 * once, not to what it reserved.  Freed blocks go on a LIFO free list linked
 * through pkt->next (a free block is in no queue), which keeps the most
 * recently used, cache-warm block in play.  Each class counts its free blocks
 * so pkt_pools_full() is exact.  A block is the struct pkt header followed by
 * its buffer; the header is placed so that buf[] starts on a 64-byte
 * boundary, which puts data (buf + PKT_HEADROOM) on a cache line as well.
 *
 * Taking and returning a block is O(1) and touches only its header: buffers
 * are never cleared, since every byte a layer reads it has written or copied
 * in first.
 * Nothing here is thread-safe: every caller holds the namespace lock, so
 * reference counts are plain integers.
 *
 * References.  A piece's refcnt counts the pointers that keep it alive: for
 * a chain head, each holder of the packet; for any other piece, the frag
 * link of its predecessor; for any piece, each view whose shared points at
 * it.  A piece that drops to zero releases what it holds in turn (its frag
 * successor and, for a view, the piece it views) and returns its block.  So
 * a view keeps the piece it looks into alive after that piece's packet was
 * freed, and (through the frag links it still has) whatever followed it in
 * its chain; all of it goes back when the last view goes.  A view always
 * points at a piece that owns its bytes (cap > 0), never at another view,
 * so freeing never chases a chain of views.  The release walk is iterative,
 * threading dead pieces through pkt->next.
 *
 * Views.  pkt_clone_range() builds a head block with private headroom
 * (from the small class: it carries only pushed headers) followed by one view
 * piece per source piece the range touches; a view is a small-class block of
 * which only the header is used (cap 0, no buffer of its own).
 *
 * Limits.  Headers a layer parses must be in the head piece (pkt_linear);
 * pkt_pull may leave the head piece empty rather than free it, since the
 * caller's pointer is the head.  A packet shared with pkt_get() is read-only,
 * and so are bytes that views may see: a pkt_push after a pkt_pull, a
 * pkt_put after a pkt_trim or a pkt_copy_in can rewrite bytes a view shows,
 * so only a piece whose refcnt is 1 should be written (as the kernel wants
 * skb_cow before writing a cloned skb).  A view keeps its whole source block
 * (and the pieces chained after it) until it goes: memory, not correctness.
 */
#include <errno.h>
#include <stddef.h>
#include <stdatomic.h>
#include <string.h>

#include "buf/pkt.h"
#include "core/arena.h"

#define PKT_ALIGN 64
#define PKT_ROUND(x) (((x) + PKT_ALIGN - 1) & ~(size_t)(PKT_ALIGN - 1))
/* Header offset inside a block so that buf[] is 64-aligned. */
#define PKT_SKEW ((PKT_ALIGN - offsetof(struct pkt, buf) % PKT_ALIGN) % PKT_ALIGN)

/*
 * Under AddressSanitizer a free block is poisoned, so a packet used after
 * its last pkt_free (or a view outliving its reference) is reported at the
 * faulty access instead of silently reading a recycled block.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PKT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PKT_ASAN 1
#endif
#endif
#ifdef PKT_ASAN
#include <sanitizer/asan_interface.h>
#define pkt_poison(pk, cap) ASAN_POISON_MEMORY_REGION(pk, offsetof(struct pkt, buf) + (cap))
#define pkt_unpoison(pk, cap) ASAN_UNPOISON_MEMORY_REGION(pk, offsetof(struct pkt, buf) + (cap))
#else
#define pkt_poison(pk, cap) ((void)(pk), (void)(cap))
#define pkt_unpoison(pk, cap) ((void)(pk), (void)(cap))
#endif

#define pkt_likely(x) __builtin_expect(!!(x), 1)
#define pkt_unlikely(x) __builtin_expect(!!(x), 0)

enum { PKT_C_SMALL, PKT_C_MEDIUM, PKT_C_LARGE };

struct pkt_pool {
	struct pkt *free;	/* freed blocks, LIFO through pkt->next */
	uint8_t *base;		/* first block of this class's reserved range */
	size_t stride;		/* bytes from one block to the next */
	uint32_t cap;		/* buffer bytes per block */
	unsigned total;		/* blocks reserved */
	unsigned carved;	/* blocks handed out at least once (bump index) */
	unsigned nfree;		/* blocks not in use, carved or not */
	/*
	 * Blocks freed by a thread that does not hold the namespace lock (a
	 * receiver on the lockless path): pushed here with one atomic
	 * exchange loop, taken back in one exchange by pool_get when the free
	 * list runs dry (a single consumer, so no ABA).
	 */
	struct pkt *_Atomic remote;
	_Atomic unsigned nremote;
};

struct pkt_pools {
	struct pkt_pool cls[PKT_NCLASS];
};

static const uint32_t pkt_class_cap[PKT_NCLASS] = {
	PKT_CLASS_SMALL, PKT_CLASS_MEDIUM, PKT_CLASS_LARGE,
};

/*
 * pkt_pools_new - reserve nsmall/nmedium/nlarge blocks of each class in a.
 * Only address space is taken; blocks are written when first handed out.
 * Return: the pools, or NULL if the arena cannot hold them (caller: ENOMEM).
 */
struct pkt_pools *pkt_pools_new(struct arena *a, unsigned nsmall, unsigned nmedium,
				unsigned nlarge)
{
	const unsigned n[PKT_NCLASS] = { nsmall, nmedium, nlarge };
	size_t stride[PKT_NCLASS], total = PKT_ROUND(sizeof(struct pkt_pools)), off;
	struct pkt_pools *p;
	uint8_t *mem;
	int c;

	for (c = 0; c < PKT_NCLASS; c++) {
		stride[c] = PKT_ROUND(PKT_SKEW + offsetof(struct pkt, buf) + pkt_class_cap[c]);
		if (n[c] > (SIZE_MAX - total) / stride[c])
			return NULL;
		total += n[c] * stride[c];
	}
	/* one carve: either every class fits or the arena is left as it was */
	mem = arena_alloc(a, total);
	if (!mem)
		return NULL;

	p = (struct pkt_pools *)mem;
	off = PKT_ROUND(sizeof(struct pkt_pools));
	for (c = 0; c < PKT_NCLASS; c++) {
		struct pkt_pool *pl = &p->cls[c];

		pl->base = mem + off;
		pl->stride = stride[c];
		pl->cap = pkt_class_cap[c];
		pl->total = n[c];
		pl->nfree = n[c];
		off += n[c] * stride[c];
	}
	return p;
}

unsigned pkt_pools_free_count(const struct pkt_pools *p, int c)
{
	if (c < 0 || c >= PKT_NCLASS)
		return 0;
	return p->cls[c].nfree + atomic_load(&p->cls[c].nremote);
}

unsigned pkt_pools_total_count(const struct pkt_pools *p, int c)
{
	if (c < 0 || c >= PKT_NCLASS)
		return 0;
	return p->cls[c].total;
}

bool pkt_pools_full(const struct pkt_pools *p)
{
	for (int c = 0; c < PKT_NCLASS; c++)
		if (p->cls[c].nfree + atomic_load(&p->cls[c].nremote) != p->cls[c].total)
			return false;
	return true;
}

/* A block of pl: the free list first, else the next never-used block. */
static inline struct pkt *pool_get(struct pkt_pool *pl)
{
	struct pkt *pk = pl->free;

	if (pkt_unlikely(!pk) && atomic_load_explicit(&pl->remote, memory_order_relaxed)) {
		/* take back everything other threads freed, in one exchange */
		pk = atomic_exchange_explicit(&pl->remote, NULL, memory_order_acquire);
		unsigned n = 0;
		for (struct pkt *q = pk; q; q = q->next)
			n++;
		atomic_fetch_sub_explicit(&pl->nremote, n, memory_order_relaxed);
		pl->nfree += n;
		pl->free = pk;
	}
	if (pkt_likely(pk)) {
		pkt_unpoison(pk, pl->cap);
		pl->free = pk->next;
	} else if (pl->carved < pl->total) {
		pk = (struct pkt *)(pl->base + (size_t)pl->carved * pl->stride + PKT_SKEW);
		pl->carved++;
	} else {
		return NULL;
	}
	pl->nfree--;
	return pk;
}

static inline void pool_put(struct pkt *pk)
{
	struct pkt_pool *pl = pk->pool;

	pk->next = pl->free;
	pl->free = pk;
	pl->nfree++;
	pkt_poison(pk, pl->cap);
}

/*
 * A fresh piece with hr bytes of headroom from class c, or from the next
 * larger class whose buffer holds hr when c is exhausted.  Only the header is
 * cleared; the buffer keeps whatever its last user left.
 */
static inline struct pkt *alloc_from(struct pkt_pools *p, int c, size_t hr)
{
	for (; c < PKT_NCLASS; c++) {
		struct pkt_pool *pl = &p->cls[c];
		struct pkt *pk;

		if (hr > pl->cap)
			continue;
		pk = pool_get(pl);
		if (!pk)
			continue;
		/* field by field: a 104-byte memset becomes a slow rep stos with gcc */
		pk->next = NULL;
		pk->frag = NULL;
		pk->shared = NULL;
		pk->pool = pl;
		pk->refcnt = 1;
		pk->cap = pl->cap;
		pk->data = pk->buf + hr;
		pk->len = 0;
		pk->tot_len = 0;
		pk->meta = (struct pkt_meta){ 0 };
		return pk;
	}
	return NULL;
}

/*
 * pkt_alloc - a packet for len bytes behind PKT_HEADROOM, from the smallest
 * class whose buffer holds PKT_HEADROOM + len; when that class is exhausted
 * the next larger class is used instead, so a burst of small packets can
 * borrow large blocks rather than fail.
 * Return: the packet, or NULL when len > PKT_CLASS_LARGE - PKT_HEADROOM or no
 * class that fits has a free block (caller: ENOBUFS).
 */
struct pkt *pkt_alloc(struct pkt_pools *p, size_t len)
{
	int c;

	if (pkt_unlikely(len > PKT_CLASS_LARGE - PKT_HEADROOM))
		return NULL;
	len += PKT_HEADROOM;
	if (len <= PKT_CLASS_SMALL)
		c = PKT_C_SMALL;
	else if (len <= PKT_CLASS_MEDIUM)
		c = PKT_C_MEDIUM;
	else
		c = PKT_C_LARGE;
	return alloc_from(p, c, PKT_HEADROOM);
}

/*
 * pkt_alloc_class - a packet from class c with data at buf + hr; falls back to
 * larger classes as pkt_alloc does.
 * Return: the packet, or NULL for a bad class, hr larger than every class
 * buffer from c up, or exhaustion (caller: ENOBUFS).
 */
struct pkt *pkt_alloc_class(struct pkt_pools *p, int c, size_t hr)
{
	if (c < 0 || c >= PKT_NCLASS)
		return NULL;
	return alloc_from(p, c, hr);
}

/*
 * Return the dead piece d (refcnt already 0) and everything that dies with
 * it.  Dead pieces wait on a stack threaded through pkt->next, so chains of
 * any length and views of views cost no recursion.
 */
static void release_dead(struct pkt *d)
{
	struct pkt *dead = d, *held;

	d->next = NULL;
	while ((d = dead) != NULL) {
		dead = d->next;
		held = d->frag;
		if (held && --held->refcnt == 0) {
			held->next = dead;
			dead = held;
		}
		held = d->shared;
		if (held && --held->refcnt == 0) {
			held->next = dead;
			dead = held;
		}
		pool_put(d);
	}
}

/* Drop the one reference held on piece pk (which may be NULL). */
static inline void piece_put(struct pkt *pk)
{
	if (!pk || --pk->refcnt)
		return;
	if (pkt_likely(!pk->frag && !pk->shared))
		pool_put(pk);
	else
		release_dead(pk);
}

/*
 * pkt_free_remote - pkt_free for a thread that does not hold the owning
 * namespace's lock.  A plain single-block packet (the common datagram) goes
 * onto its pool's remote list without any lock; anything else (a chain,
 * views, a destructor, other references) returns false and the caller
 * frees it under the lock.
 */
bool pkt_can_free_remote(const struct pkt *pk)
{
	return pk->refcnt == 1 && !pk->frag && !pk->shared && !pk->meta.destructor;
}

/*
 * pkt_free_remote_many - pkt_free_remote for n packets that all passed
 * pkt_can_free_remote: runs of the same pool go back in one exchange.
 */
void pkt_free_remote_many(struct pkt **pk, unsigned n)
{
	unsigned i = 0;
	while (i < n) {
		struct pkt_pool *pl = pk[i]->pool;
		struct pkt *first = pk[i], *last = pk[i];
		unsigned k = 1;
		first->refcnt = 0;
		for (i++; i < n && pk[i]->pool == pl; i++, k++) {
			pk[i]->refcnt = 0;
			last->next = pk[i];
			last = pk[i];
		}
		struct pkt *head = atomic_load_explicit(&pl->remote, memory_order_relaxed);
		do {
			last->next = head;
		} while (!atomic_compare_exchange_weak_explicit(&pl->remote, &head, first,
								memory_order_release,
								memory_order_relaxed));
		atomic_fetch_add_explicit(&pl->nremote, k, memory_order_relaxed);
	}
}

bool pkt_free_remote(struct pkt *pk)
{
	if (!pkt_can_free_remote(pk))
		return false;
	struct pkt_pool *pl = pk->pool;
	pk->refcnt = 0;
	struct pkt *head = atomic_load_explicit(&pl->remote, memory_order_relaxed);
	do {
		pk->next = head;
	} while (!atomic_compare_exchange_weak_explicit(&pl->remote, &head, pk, memory_order_release,
							memory_order_relaxed));
	atomic_fetch_add_explicit(&pl->nremote, 1, memory_order_relaxed);
	return true;
}

/*
 * pkt_free - drop the caller's reference.  On the last one the chain goes:
 * each piece whose own count reaches zero returns its block, while pieces
 * still viewed by other packets stay until their last view goes.
 */
void pkt_free(struct pkt *pk)
{
	if (pk && pk->refcnt == 1)
		pkt_orphan(pk);
	piece_put(pk);
}

struct pkt *pkt_get(struct pkt *pk)
{
	pk->refcnt++;
	return pk;
}

/*
 * pkt_push - prepend n bytes to the head piece.
 * Return: the new data pointer, or NULL when the head piece has less than n
 * bytes of headroom (a view head has none).
 */
uint8_t *pkt_push(struct pkt *pk, size_t n)
{
	if (pkt_unlikely(!pk->cap || n > (size_t)(pk->data - pk->buf)))
		return NULL;
	pk->data -= n;
	pk->len += n;
	pk->tot_len += n;
	return pk->data;
}

/*
 * pkt_pull - drop n bytes from the front.  Bytes past the head piece come off
 * the following pieces, which are unlinked and released once empty; the head
 * piece itself stays (it is the caller's handle and holds the metadata), with
 * len 0 if all its bytes went.
 * Return: 0, or -EINVAL when the packet has fewer than n bytes (unchanged).
 */
int pkt_pull(struct pkt *pk, size_t n)
{
	struct pkt *f;

	if (pkt_unlikely(n > pk->tot_len))
		return -EINVAL;
	pk->tot_len -= n;
	if (pkt_likely(n <= pk->len)) {
		pk->data += n;
		pk->len -= n;
		return 0;
	}
	n -= pk->len;
	pk->data += pk->len;
	pk->len = 0;
	while (n) {
		f = pk->frag;	/* present: n <= bytes left in the chain */
		if (n < f->len) {
			f->data += n;
			f->len -= n;
			break;
		}
		n -= f->len;
		/* the head takes over f's link to its successor */
		pk->frag = f->frag;
		f->frag = NULL;
		piece_put(f);
	}
	return 0;
}

/*
 * pkt_may_pull - make the first n bytes of the packet contiguous in the head
 * piece, as pskb_may_pull does: bytes are moved from the following pieces
 * into the head's tailroom (never visible to other views of those pieces,
 * whose own data pointers are untouched).  A reassembled datagram's head
 * piece may hold only the IP header; the transport layer calls this before
 * reading its own.
 * Return: 0, -EINVAL if the packet is shorter than n, -ENOBUFS if the head
 * piece lacks the room (a view head).
 */
int pkt_may_pull(struct pkt *pk, size_t n)
{
	if (pkt_likely(n <= pk->len))
		return 0;
	if (n > pk->tot_len)
		return -EINVAL;
	size_t need = n - pk->len;
	if (!pk->cap || (size_t)(pk->buf + pk->cap - (pk->data + pk->len)) < need)
		return -ENOBUFS;
	uint8_t *dst = pk->data + pk->len;
	while (need) {
		struct pkt *f = pk->frag;
		size_t take = f->len < need ? f->len : need;
		memcpy(dst, f->data, take);
		dst += take;
		pk->len += take;
		need -= take;
		f->data += take;
		f->len -= take;
		if (!f->len) {
			pk->frag = f->frag;
			f->frag = NULL;
			piece_put(f);
		}
	}
	return 0;
}

/*
 * pkt_put - extend the packet's tail by n bytes.  The bytes go at the end of
 * the last piece, which for a single-piece packet is the head piece; this
 * keeps pkt_put in step with pkt_tailroom and never puts bytes in the middle
 * of a chain.
 * Return: pointer to the n new (uninitialised) bytes, or NULL when the last
 * piece lacks the room (a view has none).
 */
uint8_t *pkt_put(struct pkt *pk, size_t n)
{
	struct pkt *last = pk;
	uint8_t *tail;

	while (last->frag)
		last = last->frag;
	if (pkt_unlikely(n > pkt_tailroom(last)))
		return NULL;
	tail = last->data + last->len;
	last->len += n;
	pk->tot_len += n;
	return tail;
}

/*
 * pkt_trim - cut the packet to len bytes; pieces wholly past len are
 * released.
 * Return: 0, or -EINVAL when len exceeds the packet's length (unchanged).
 */
int pkt_trim(struct pkt *pk, size_t len)
{
	struct pkt *p = pk, *rest;
	size_t left = len;

	if (len > pk->tot_len)
		return -EINVAL;
	while (left > p->len) {
		left -= p->len;
		p = p->frag;	/* present: left <= bytes left in the chain */
	}
	p->len = left;
	rest = p->frag;
	p->frag = NULL;
	piece_put(rest);
	pk->tot_len = len;
	return 0;
}

size_t pkt_headroom(const struct pkt *pk)
{
	return pk->cap ? (size_t)(pk->data - pk->buf) : 0;
}

size_t pkt_tailroom(const struct pkt *pk)
{
	while (pk->frag)
		pk = pk->frag;
	return pk->cap ? pk->cap - (size_t)(pk->data - pk->buf) - pk->len : 0;
}

/* pkt_append - chain tail after head's last piece; tail's reference becomes that link. */
void pkt_append(struct pkt *head, struct pkt *tail)
{
	struct pkt *last = head;

	if (!tail)
		return;
	while (last->frag)
		last = last->frag;
	last->frag = tail;
	head->tot_len += tail->tot_len;
}

/*
 * pkt_clone_range - see pkt.h.  The new head comes from the small class (or a
 * larger one if small is exhausted or hr does not fit in it); views are
 * small-class blocks too, with the same fallback.  A view of a piece that is
 * itself a view points at the owner of the bytes, so views never nest.
 * Return: the clone, or NULL when [off, off+len) is outside pk or a pool is
 * exhausted; pk is then as it was.
 */
struct pkt *pkt_clone_range(struct pkt_pools *p, struct pkt *pk, size_t off, size_t len,
			    size_t hr)
{
	struct pkt *nh, *src, *v, *owner, **link;
	size_t n;

	if (off > pk->tot_len || len > pk->tot_len - off)
		return NULL;
	nh = alloc_from(p, PKT_C_SMALL, hr);
	if (!nh)
		return NULL;
	nh->meta = pk->meta;
	nh->meta.destructor = NULL;
	nh->meta.owner = NULL;
	nh->tot_len = len;
	link = &nh->frag;
	for (src = pk; len; src = src->frag) {
		if (off >= src->len) {
			off -= src->len;
			continue;
		}
		v = alloc_from(p, PKT_C_SMALL, 0);
		if (!v) {
			pkt_free(nh);	/* drops the views taken so far */
			return NULL;
		}
		n = src->len - off < len ? src->len - off : len;
		owner = src->shared ? src->shared : src;
		owner->refcnt++;
		v->shared = owner;
		v->cap = 0;
		v->data = src->data + off;
		v->len = n;
		v->tot_len = n;
		*link = v;
		link = &v->frag;
		off = 0;
		len -= n;
	}
	return nh;
}

/* pkt_copy_out - see pkt.h; copies less than len only when the chain ends first. */
size_t pkt_copy_out(const struct pkt *pk, size_t off, void *dst, size_t len)
{
	uint8_t *d = dst;
	size_t done = 0, n;

	for (; pk && done < len; pk = pk->frag) {
		if (off >= pk->len) {
			off -= pk->len;
			continue;
		}
		n = pk->len - off < len - done ? pk->len - off : len - done;
		memcpy(d + done, pk->data + off, n);
		done += n;
		off = 0;
	}
	return done;
}

/*
 * pkt_copy_in - see pkt.h.  Writing into a view writes into the buffer it
 * shares: only the packet's sole owner should call this.
 */
size_t pkt_copy_in(struct pkt *pk, size_t off, const void *src, size_t len)
{
	const uint8_t *s = src;
	size_t done = 0, n;

	for (; pk && done < len; pk = pk->frag) {
		if (off >= pk->len) {
			off -= pk->len;
			continue;
		}
		n = pk->len - off < len - done ? pk->len - off : len - done;
		memcpy(pk->data + off, s + done, n);
		done += n;
		off = 0;
	}
	return done;
}

/*
 * pkt_linear - see pkt.h.  Only the head piece counts, even when it is empty
 * and the next piece would hold the bytes: callers index pk->data directly.
 * Return: pk->data, or NULL.
 */
const uint8_t *pkt_linear(const struct pkt *pk, size_t n)
{
	return n <= pk->len ? pk->data : NULL;
}

/* ---- Internet checksum (RFC 1071) over a chain ---- */

/* a + b in ones' complement on 64 bits (end-around carry). */
static inline uint64_t csum_add64(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

/*
 * Ones' complement sum of p[0..n) as 16-bit words in memory order (as the
 * CPU loads them), folded to 16 bits; a trailing odd byte is the first byte
 * of a word padded with zero.  Words are summed 8 bytes at a time: a 64-bit
 * load is four words, and 2^16 = 1 in this arithmetic.
 */
static inline uint32_t csum_seg(const uint8_t *p, size_t n)
{
	uint64_t acc = 0, w;
	uint32_t w32;
	uint16_t w16;

	while (n >= 8) {
		memcpy(&w, p, 8);
		acc = csum_add64(acc, w);
		p += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&w32, p, 4);
		acc = csum_add64(acc, w32);
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w16, p, 2);
		acc = csum_add64(acc, w16);
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = { *p, 0 };

		memcpy(&w16, last, 2);
		acc = csum_add64(acc, w16);
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

/*
 * pkt_csum_partial - ones' complement sum of bytes [off, off+len) of the
 * chain, added to sum.  The accumulator follows wire/csum.h (Linux's
 * csum_partial() convention): words in memory order, so it combines with
 * csum_partial(), csum_pseudo4() and csum_fold(), and the folded checksum is
 * stored as is, without htons().  A piece whose bytes start at an odd
 * position of the range has its bytes in the other half of every word, so
 * its folded sum is byte-swapped before it is added.  Bytes past the chain's
 * end are not summed.
 * Return: the new, unfolded accumulator.
 */
uint32_t pkt_csum_partial(const struct pkt *pk, size_t off, size_t len, uint32_t sum)
{
	uint64_t acc = sum;
	size_t pos = 0, n;
	uint32_t s;

	for (; pk && len; pk = pk->frag) {
		if (off >= pk->len) {
			off -= pk->len;
			continue;
		}
		n = pk->len - off < len ? pk->len - off : len;
		s = csum_seg(pk->data + off, n);
		if (pos & 1)
			s = ((s & 0xff) << 8) | (s >> 8);
		acc += s;
		pos += n;
		len -= n;
		off = 0;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/* ---- FIFO queue ---- */

void pkt_queue_init(struct pkt_queue *q)
{
	q->head = q->tail = NULL;
	q->count = 0;
	q->bytes = 0;
}

/* pkt_queue_push - append pk; the queue takes the caller's reference. */
void pkt_queue_push(struct pkt_queue *q, struct pkt *pk)
{
	pk->next = NULL;
	if (q->tail)
		q->tail->next = pk;
	else
		q->head = pk;
	q->tail = pk;
	q->count++;
	q->bytes += pk->meta.truesize;
}

/* pkt_queue_pop - remove the oldest packet. Return: it (the caller now holds its reference), or NULL. */
struct pkt *pkt_queue_pop(struct pkt_queue *q)
{
	struct pkt *pk = q->head;

	if (!pk)
		return NULL;
	q->head = pk->next;
	if (!q->head)
		q->tail = NULL;
	pk->next = NULL;
	q->count--;
	q->bytes -= pk->meta.truesize;
	return pk;
}

void pkt_queue_purge(struct pkt_queue *q)
{
	struct pkt *pk;

	while ((pk = pkt_queue_pop(q)) != NULL)
		pkt_free(pk);
}
