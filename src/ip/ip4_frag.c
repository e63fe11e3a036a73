/* SPDX-License-Identifier: MIT */
/*
 * ip4_frag.c - IPv4 fragmentation and bounded reassembly
 *
 * Theory of operation.
 *
 * Output.  ip4_fragment() cuts a datagram as ip_do_fragment()'s slow path
 * (ip_frag_init/ip_frag_next) does: every fragment but the last carries the
 * largest multiple of 8 payload bytes that fits in mtu - hlen, fragments go
 * out in increasing offset order, and after the first one the header copy
 * has its non-copied options overwritten with NOOPs (ip_options_fragment), so
 * every fragment keeps the original header length.  Payload is never copied:
 * each fragment is a fresh small block holding the header, followed by views
 * of the original's buffer (pkt_clone_range).
 *
 * Input.  A namespace owns one frag4_table, carved from its arena by
 * ip4_frag_init(): FRAG4_NQUEUES queue slots, each with its own timer, and a
 * cache of at most FRAG4_MAX_NODES fragment nodes (one per queued fragment;
 * the kernel keeps the same data in skb->cb).  A queue is keyed by (saddr,
 * daddr, id, protocol), as ip_find() does without VRF: the kernel's vif is 0
 * then and its "user" is always IP_DEFRAG_LOCAL_DELIVER here.  Fragments are
 * kept whole (IP header in front, as they came) in offset order, grouped in
 * "runs" exactly as inet_frag_queue_insert() builds them, because whether a
 * repeated fragment is a harmless duplicate or a fatal overlap depends on
 * those runs, and so on arrival order.
 *
 * Memory.  Every queue charges its own size and every queued fragment its
 * footprint (the blocks it holds) to the table; ip4_defrag() drops any
 * fragment that arrives while the charge is above ipfrag_high_thresh, as
 * inet_frag_find() has done since 4.17, when the evictor went and
 * ipfrag_low_thresh stopped meaning anything.  Beyond the kernel, the slot
 * count and the node cache bound the table: a fragment that finds neither
 * is dropped.  A queue lives at most ipfrag_time seconds from its creation
 * (never extended, as inet_frag_create() arms it once); on expiry
 * ip_expire() sends ICMP time exceeded (fragment reassembly) about the first
 * fragment if it had come, and everything is freed.
 *
 * Reassembly.  The datagram is the first fragment with its header rewritten
 * (tot_len, DF per ip_frag_reasm()'s max_df_size rule, ECN per
 * ip_frag_ecn_table, checksum) followed by the other fragments' pieces with
 * their headers pulled: no byte of payload moves.
 *
 * Not mirrored: ipfrag_max_dist (inet_peer's per-source fragment distance,
 * there is no such sysctl here) and the queue re-initialisation it triggers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "buf/pkt.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/timer.h"
#include "ip/ip4.h"
#include "link/link.h"
#include "net/netns.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define FRAG4_NQUEUES 64
/* Enough for the default 4 MiB high_thresh filled with the smallest fragments. */
#define FRAG4_MAX_NODES 8192

/* Queue flags, as INET_FRAG_FIRST_IN / INET_FRAG_LAST_IN. */
#define FRAG4_FIRST_IN 0x1
#define FRAG4_LAST_IN 0x2

/* IP option bytes (RFC 791 section 3.1). */
#define FRAG4_OPT_END 0
#define FRAG4_OPT_NOOP 1
#define FRAG4_OPT_COPIED 0x80

/* ECN codepoints seen, one bit each (IPFRAG_ECN_*: bit = tos & 3). */
#define FRAG4_ECN_NOT_ECT (1 << 0)
#define FRAG4_ECN_ECT_1 (1 << 1)
#define FRAG4_ECN_ECT_0 (1 << 2)
#define FRAG4_ECN_CE (1 << 3)

enum frag4_verdict { FRAG4_OK, FRAG4_DUP, FRAG4_OVERLAP };

struct frag4_node {
	struct pkt *pk;			/* the fragment, IP header in front */
	struct frag4_node *prev, *next;	/* all fragments, by offset */
	struct frag4_node *next_run;	/* run heads only: the next run's head */
	uint32_t off, end;		/* payload bytes [off, end) */
	uint32_t run_end;		/* run heads: end of the run; 0 otherwise */
	uint32_t charge;		/* bytes charged to the table */
	uint8_t hlen;
};

struct frag4_table;

struct frag4_queue {
	struct frag4_table *tbl;
	bool used;
	uint8_t flags;			/* FRAG4_FIRST_IN | FRAG4_LAST_IN */
	uint8_t ecn;			/* FRAG4_ECN_* seen */
	uint8_t proto;
	uint16_t id;			/* host order */
	uint32_t saddr, daddr;		/* network order */
	uint32_t len;			/* payload length known so far */
	uint32_t meat;			/* payload bytes queued */
	uint32_t max_size, max_df_size;	/* largest fragment, largest with DF */
	int iif;			/* device of the latest fragment */
	uint64_t stamp;			/* its receive time */
	struct frag4_node *first, *tail;
	struct frag4_node *runs, *last_run;
	struct timer timer;
};

struct frag4_table {
	struct netns *ns;
	struct arena_cache nodes;
	unsigned mem;			/* bytes charged: queues + fragments */
	unsigned nqueues;
	/* Linux's Ip: Reasm* MIB counters, for debugging */
	uint64_t reasm_reqds, reasm_oks, reasm_fails, reasm_timeout, reasm_overlaps;
	struct frag4_queue q[FRAG4_NQUEUES];
};

/* ---- header helpers ---- */

/*
 * Rewrite the fields that differ between a datagram and its fragments and
 * recompute the checksum (ip_send_check).  h holds hlen valid header bytes.
 */
static void frag_hdr_set(uint8_t *h, unsigned hlen, uint16_t tot_len, uint16_t frag_off,
			 uint8_t tos)
{
	uint16_t v, check;

	h[offsetof(struct ipv4_hdr, tos)] = tos;
	v = htons(tot_len);
	memcpy(h + offsetof(struct ipv4_hdr, tot_len), &v, 2);
	v = htons(frag_off);
	memcpy(h + offsetof(struct ipv4_hdr, frag_off), &v, 2);
	memset(h + offsetof(struct ipv4_hdr, check), 0, 2);
	check = csum_fold(csum_partial(h, hlen, 0));
	memcpy(h + offsetof(struct ipv4_hdr, check), &check, 2);
}

/*
 * Overwrite the options that must not be repeated in later fragments with
 * NOOPs, as ip_options_fragment() does: walk stops at END or at a malformed
 * length, leaving the rest as it was.
 */
static void frag_options_fragment(uint8_t *opt, unsigned l)
{
	while (l > 0) {
		unsigned optlen;

		if (opt[0] == FRAG4_OPT_END)
			return;
		if (opt[0] == FRAG4_OPT_NOOP) {
			opt++;
			l--;
			continue;
		}
		if (l < 2)
			return;
		optlen = opt[1];
		if (optlen < 2 || optlen > l)
			return;
		if (!(opt[0] & FRAG4_OPT_COPIED))
			memset(opt, FRAG4_OPT_NOOP, optlen);
		opt += optlen;
		l -= optlen;
	}
}

/*
 * Parse the IPv4 header at pk->data, which must sit in the head piece.
 * The checksum is the caller's business (ip_rcv_core checked it).
 * Return: the header length, or -EINVAL.
 */
static int frag_parse(const struct pkt *pk, struct ipv4_repr *r)
{
	const uint8_t *p = pkt_linear(pk, IPV4_HLEN);

	if (!p || !pkt_linear(pk, (size_t)(p[0] & 0x0f) * 4))
		return -EINVAL;
	return ipv4_parse_flags(p, pk->tot_len, r, CSUM_SKIP);
}

/* ---- output ---- */

/**
 * ip4_fragment() - split a datagram into fragments of at most mtu bytes
 * @ns:		namespace (its pools)
 * @pk:		datagram, data at a complete IP header; consumed
 * @mtu:	largest fragment, IP header included
 * @out:	called with each fragment in increasing offset order; consumes it
 * @ctx:	passed to out
 *
 * A datagram that already fits is handed to out unchanged.  The DF bit of
 * the header is not carried into fragments, as ip_frag_next() rebuilds
 * frag_off from the offset and MF alone; a datagram that is itself a
 * fragment keeps its offset base and, on its last piece, its MF.
 *
 * Return: 0; the first non-zero value out returned; -ENOBUFS when the pools
 * ran out part way (fragments already handed to out are gone, no other is
 * made); -EINVAL for a malformed header or an mtu below header + 8 bytes.
 */
int ip4_fragment(struct netns *ns, struct pkt *pk, unsigned mtu,
		 int (*out)(void *ctx, struct pkt *frag), void *ctx)
{
	uint8_t hdr[IPV4_MAX_HLEN];
	struct ipv4_repr r;
	unsigned hlen, left, space, ptr, off;
	bool more;
	int ret, err = 0;

	ret = frag_parse(pk, &r);
	if (ret < 0) {
		pkt_free(pk);
		return -EINVAL;
	}
	hlen = (unsigned)ret;
	/* bytes past tot_len are not part of the datagram */
	if (pk->tot_len > r.tot_len)
		pkt_trim(pk, r.tot_len);
	if (pk->tot_len <= mtu)
		return out(ctx, pk);
	if (mtu < hlen + 8) {
		pkt_free(pk);
		return -EINVAL;
	}
	memcpy(hdr, pk->data, hlen);
	space = mtu - hlen;
	left = pk->tot_len - hlen;
	ptr = hlen;
	off = ipv4_frag_offset(&r);
	more = r.frag_off & IPV4_MF;

	while (left > 0) {
		unsigned len = left > space ? space : left;
		struct pkt *f;
		uint16_t fo;
		uint8_t *h;

		/* all but the last fragment end on an 8-byte boundary */
		if (len < left)
			len &= ~7u;
		f = pkt_clone_range(ns->pools, pk, ptr, len, PKT_HEADROOM);
		if (!f) {
			err = -ENOBUFS;
			break;
		}
		h = pkt_push(f, hlen);	/* PKT_HEADROOM > IPV4_MAX_HLEN */
		memcpy(h, hdr, hlen);
		left -= len;
		fo = (uint16_t)((off >> 3) & IPV4_OFFSET);
		if (left > 0 || more)
			fo |= IPV4_MF;
		frag_hdr_set(h, hlen, (uint16_t)(len + hlen), fo, r.tos);
		/* ip_frag_ipcb(): fix the options once, after the first fragment */
		if (off == 0)
			frag_options_fragment(hdr + IPV4_HLEN, hlen - IPV4_HLEN);
		ptr += len;
		off += len;
		err = out(ctx, f);
		if (err)
			break;
	}
	pkt_free(pk);
	return err;
}

/* ---- reassembly table ---- */

/**
 * ip4_frag_init() - carve the namespace's reassembly table from its arena
 * @ns:		namespace whose ip4 state exists (ip4_init)
 *
 * Return: 0, -ENOMEM (arena full), -EINVAL (no ip4 state).
 */
int ip4_frag_init(struct netns *ns)
{
	struct frag4_table *tbl;

	if (!ns->ip4)
		return -EINVAL;
	tbl = arena_alloc(ns->arena, sizeof(*tbl));
	if (!tbl)
		return -ENOMEM;
	tbl->ns = ns;
	arena_cache_init(&tbl->nodes, ns->arena, sizeof(struct frag4_node), FRAG4_MAX_NODES);
	for (unsigned i = 0; i < FRAG4_NQUEUES; i++) {
		tbl->q[i].tbl = tbl;
		timer_init(&tbl->q[i].timer, NULL, &tbl->q[i]);
	}
	ns->ip4->frags = tbl;
	return 0;
}

/**
 * ip4_frag_mem() - bytes charged by incomplete reassemblies
 * @ns:		namespace
 *
 * Return: queue sizes plus queued fragments' footprints, in bytes.
 */
unsigned ip4_frag_mem(struct netns *ns)
{
	return ns->ip4 && ns->ip4->frags ? ns->ip4->frags->mem : 0;
}

/*
 * What a queued fragment costs: every block it holds.  A view holds no
 * buffer of its own, only the bytes it pins in another one.  meta.truesize
 * is not used: it is the socket layer's charge and clones copy it.
 */
static uint32_t frag_footprint(const struct pkt *pk)
{
	uint32_t sum = 0;

	for (; pk; pk = pk->frag)
		sum += (uint32_t)offsetof(struct pkt, buf) + (pk->cap ? pk->cap : pk->len);
	return sum;
}

/* Retire q: stop its timer, free its nodes and whatever fragments they still hold. */
static void frag_release(struct frag4_table *tbl, struct frag4_queue *q)
{
	struct frag4_node *n, *next;

	netns_timer_cancel(tbl->ns, &q->timer);
	for (n = q->first; n; n = next) {
		next = n->next;
		pkt_free(n->pk);
		tbl->mem -= n->charge;
		arena_cache_free(&tbl->nodes, n);
	}
	tbl->mem -= (unsigned)sizeof(*q);
	q->first = q->tail = q->runs = q->last_run = NULL;
	q->used = false;
	tbl->nqueues--;
}

/* ip_expire(): the queue outlived ipfrag_time. */
static void frag_expire(struct timer *t, void *arg)
{
	struct frag4_queue *q = arg;
	struct frag4_table *tbl = q->tbl;
	struct netns *ns = tbl->ns;

	(void)t;
	tbl->reasm_fails++;
	tbl->reasm_timeout++;
	/* Only the first fragment is worth quoting; no device, no ICMP. */
	if ((q->flags & FRAG4_FIRST_IN) && q->first && q->first->off == 0 &&
	    netns_dev_by_index(ns, q->iif)) {
		struct pkt *head = q->first->pk;

		head->meta.ifindex = q->iif;
		icmp4_send(ns, head, ICMP4_TIME_EXCEEDED, ICMP4_EXC_FRAGTIME, 0);
	}
	frag_release(tbl, q);
}

static struct frag4_queue *frag_find(struct frag4_table *tbl, const struct ipv4_repr *r)
{
	for (unsigned i = 0; i < FRAG4_NQUEUES; i++) {
		struct frag4_queue *q = &tbl->q[i];

		if (q->used && q->id == r->id && q->saddr == r->saddr && q->daddr == r->daddr &&
		    q->proto == r->proto)
			return q;
	}
	return NULL;
}

/* inet_frag_create(): a new queue, its timer armed once for its whole life. */
static struct frag4_queue *frag_create(struct frag4_table *tbl, const struct ipv4_repr *r)
{
	struct netns *ns = tbl->ns;
	struct frag4_queue *q = NULL;
	uint64_t timeout;

	if (tbl->nqueues == FRAG4_NQUEUES)
		return NULL;
	for (unsigned i = 0; i < FRAG4_NQUEUES; i++)
		if (!tbl->q[i].used) {
			q = &tbl->q[i];
			break;
		}
	if (!q)
		return NULL;
	timeout = ns->sys.ipfrag_time > 0 ? (uint64_t)ns->sys.ipfrag_time * NSEC_PER_SEC : 0;
	timer_init(&q->timer, frag_expire, q);
	if (netns_timer_arm(ns, &q->timer, netns_now(ns) + timeout))
		return NULL;
	q->used = true;
	q->flags = 0;
	q->ecn = 0;
	q->proto = r->proto;
	q->id = r->id;
	q->saddr = r->saddr;
	q->daddr = r->daddr;
	q->len = q->meat = 0;
	q->max_size = q->max_df_size = 0;
	q->iif = 0;
	q->stamp = 0;
	q->first = q->tail = q->runs = q->last_run = NULL;
	tbl->mem += (unsigned)sizeof(*q);
	tbl->nqueues++;
	return q;
}

/*
 * Place n among the queued fragments, as inet_frag_queue_insert() does.
 * The common case appends at the tail: to the last run when it is adjacent,
 * else as a new run.  Anything else is looked up among the runs (the kernel
 * walks an rb-tree of run heads; a scan of the sorted, disjoint runs finds
 * the same run): inside one run it is a duplicate, touching a run otherwise
 * it overlaps, else it becomes a run of its own.  So the same bytes can be a
 * duplicate when the fragments they repeat came in order and an overlap
 * when they did not, as on Linux.
 * Return: FRAG4_OK (n queued), FRAG4_DUP or FRAG4_OVERLAP (n not queued).
 */
static enum frag4_verdict frag_insert(struct frag4_queue *q, struct frag4_node *n)
{
	struct frag4_node *last = q->tail, *r, *prev_run = NULL;

	n->prev = n->next = n->next_run = NULL;
	n->run_end = 0;
	if (!last) {
		n->run_end = n->end;
		q->first = q->tail = q->runs = q->last_run = n;
		return FRAG4_OK;
	}
	if (last->end < n->end) {
		if (n->off < last->end)
			return FRAG4_OVERLAP;
		n->prev = last;
		last->next = n;
		q->tail = n;
		if (n->off == last->end) {
			q->last_run->run_end = n->end;
		} else {
			n->run_end = n->end;
			q->last_run->next_run = n;
			q->last_run = n;
		}
		return FRAG4_OK;
	}
	for (r = q->runs; r; prev_run = r, r = r->next_run) {
		if (n->end <= r->off)
			break;
		if (n->off >= r->run_end)
			continue;
		if (n->off >= r->off && n->end <= r->run_end)
			return FRAG4_DUP;
		return FRAG4_OVERLAP;
	}
	/* The last run ends at last->end >= n->end, so the scan stopped on a run. */
	if (!r)
		return FRAG4_OVERLAP;
	n->run_end = n->end;
	n->next_run = r;
	if (prev_run)
		prev_run->next_run = n;
	else
		q->runs = n;
	n->next = r;
	n->prev = r->prev;
	if (r->prev)
		r->prev->next = n;
	else
		q->first = n;
	r->prev = n;
	return FRAG4_OK;
}

/*
 * ip_frag_ecn_table: what the reassembled datagram's ECN field gets.
 * Return: bits to OR into tos, or -1 when the mix is invalid (drop).
 */
static int frag_ecn(uint8_t seen)
{
	if ((seen & FRAG4_ECN_NOT_ECT) && (seen & ~FRAG4_ECN_NOT_ECT))
		return -1;
	if ((seen & FRAG4_ECN_CE) && (seen & (FRAG4_ECN_ECT_0 | FRAG4_ECN_ECT_1)))
		return 3;	/* INET_ECN_CE */
	return 0;
}

/*
 * A fragment whose head piece is not exclusively ours (shared, or a view)
 * gets a private copy of its header in a fresh block, its payload as views,
 * so that pull, trim and the header rewrite touch nobody else's bytes.
 * Return: the private packet, or NULL (pools exhausted; pk freed either way).
 */
static struct pkt *frag_unshare(struct netns *ns, struct pkt *pk, unsigned hlen)
{
	struct pkt *nh, *v;

	if (pk->refcnt == 1 && pk->cap && !pk->shared)
		return pk;
	nh = pkt_alloc(ns->pools, hlen);
	if (!nh) {
		pkt_free(pk);
		return NULL;
	}
	pkt_copy_out(pk, 0, pkt_put(nh, hlen), hlen);
	nh->meta = pk->meta;
	/* the destructor stays with pk's last holder, as for any clone */
	nh->meta.destructor = NULL;
	nh->meta.owner = NULL;
	if (pk->tot_len > hlen) {
		v = pkt_clone_range(ns->pools, pk, hlen, pk->tot_len - hlen, 0);
		if (!v) {
			pkt_free(nh);
			pkt_free(pk);
			return NULL;
		}
		pkt_append(nh, v);
	}
	pkt_free(pk);
	return nh;
}

/*
 * ip_frag_reasm(): glue the complete queue into one datagram and retire the
 * queue.  ECN and length are checked first; nothing after them can fail.
 * Return: the datagram, or NULL (queue dropped).
 */
static struct pkt *frag_reasm(struct frag4_table *tbl, struct frag4_queue *q,
			      struct netdev *dev)
{
	struct frag4_node *head = q->first, *n;
	struct pkt *dg, *rest = NULL;
	uint32_t truesize = 0;
	uint16_t fo;
	uint8_t tos;
	int ecn = frag_ecn(q->ecn);

	if (ecn < 0 || head->hlen + q->len > 0xffff) {
		frag_release(tbl, q);
		tbl->reasm_fails++;
		return NULL;
	}
	for (n = head; n; n = n->next)
		truesize += n->charge;
	/* back to front, so each append walks one fragment's own pieces */
	for (n = q->tail; n != head; n = n->prev) {
		pkt_trim(n->pk, n->hlen + n->end - n->off);
		pkt_pull(n->pk, n->hlen);
		if (rest)
			pkt_append(n->pk, rest);
		rest = n->pk;
		n->pk = NULL;
	}
	dg = head->pk;
	head->pk = NULL;
	pkt_trim(dg, head->hlen + head->end - head->off);
	pkt_append(dg, rest);

	tos = dg->data[offsetof(struct ipv4_hdr, tos)] | (uint8_t)ecn;
	/* DF only if the largest fragment carried it (IPSKB_FRAG_PMTU rule) */
	fo = q->max_df_size == q->max_size ? IPV4_DF : 0;
	frag_hdr_set(dg->data, head->hlen, (uint16_t)(head->hlen + q->len), fo, tos);
	dg->meta.tstamp_ns = q->stamp;
	if (dev)
		dg->meta.ifindex = dev->ifindex;
	dg->meta.tos = tos;
	/* head->truesize += fp->truesize: the socket is charged for all of it */
	dg->meta.truesize = truesize;
	frag_release(tbl, q);
	tbl->reasm_oks++;
	return dg;
}

/*
 * ip_frag_queue(): add one fragment to its queue.  The length rules, the
 * zero-length rule and an overlap throw the whole queue away
 * (discard_qp); a duplicate is dropped alone.
 * Return: the datagram when this fragment completed it, else NULL.
 */
static struct pkt *frag_queue(struct frag4_table *tbl, struct frag4_queue *q,
			      struct netdev *dev, struct pkt *pk, const struct ipv4_repr *r,
			      unsigned hlen)
{
	struct frag4_node *n;
	uint32_t off = ipv4_frag_offset(r);
	uint32_t end = off + r->tot_len - hlen;
	uint32_t fragsize;

	if (!(r->frag_off & IPV4_MF)) {
		/* the last fragment: nothing may lie beyond it, nor may it move */
		if (end < q->len || ((q->flags & FRAG4_LAST_IN) && end != q->len))
			goto discard_qp;
		q->flags |= FRAG4_LAST_IN;
		q->len = end;
	} else {
		end &= ~7u;
		if (end > q->len) {
			if (q->flags & FRAG4_LAST_IN)
				goto discard_qp;
			q->len = end;
		}
	}
	if (end == off)
		goto discard_qp;
	pk = frag_unshare(tbl->ns, pk, hlen);
	if (!pk)
		goto discard_qp;
	/*
	 * Bytes past tot_len go now; an MF fragment's tail beyond its
	 * multiple of 8 only at reassembly, so that the first fragment is
	 * quoted on expiry with a header that still matches its length.
	 */
	if (pk->tot_len > r->tot_len)
		pkt_trim(pk, r->tot_len);
	n = arena_cache_alloc(&tbl->nodes);
	if (!n)
		goto discard_qp;
	n->pk = pk;
	n->off = off;
	n->end = end;
	n->hlen = (uint8_t)hlen;
	n->charge = frag_footprint(pk);

	switch (frag_insert(q, n)) {
	case FRAG4_OK:
		break;
	case FRAG4_DUP:
		arena_cache_free(&tbl->nodes, n);
		pkt_free(pk);
		return NULL;
	case FRAG4_OVERLAP:
		arena_cache_free(&tbl->nodes, n);
		tbl->reasm_overlaps++;
		goto discard_qp;
	}
	if (dev)
		q->iif = dev->ifindex;
	q->stamp = pk->meta.tstamp_ns;
	q->meat += end - off;
	q->ecn |= (uint8_t)(1u << (r->tos & 3));
	tbl->mem += n->charge;
	if (off == 0)
		q->flags |= FRAG4_FIRST_IN;
	fragsize = end - off + hlen;
	if (fragsize > q->max_size)
		q->max_size = fragsize;
	if ((r->frag_off & IPV4_DF) && fragsize > q->max_df_size)
		q->max_df_size = fragsize;
	if (q->flags == (FRAG4_FIRST_IN | FRAG4_LAST_IN) && q->meat == q->len)
		return frag_reasm(tbl, q, dev);
	/* ip_frag_queue(): a queued fragment no longer holds its sender's memory */
	pkt_orphan(pk);
	return NULL;

discard_qp:
	frag_release(tbl, q);
	tbl->reasm_fails++;
	pkt_free(pk);
	return NULL;
}

/**
 * ip4_defrag() - queue one fragment; hand back the datagram it completes
 * @ns:		namespace (lock held)
 * @dev:	device it arrived on (its ifindex is where ICMP goes on expiry), or NULL
 * @pk:		the fragment, data at its validated IP header; consumed
 *
 * A packet that is no fragment at all comes straight back.
 *
 * Return: the reassembled datagram (data at its rebuilt header, payload
 * chained), or NULL when the fragment was queued or dropped.
 */
struct pkt *ip4_defrag(struct netns *ns, struct netdev *dev, struct pkt *pk)
{
	struct frag4_table *tbl = ns->ip4 ? ns->ip4->frags : NULL;
	struct frag4_queue *q;
	struct ipv4_repr r;
	long high = ns->sys.ipfrag_high_thresh;
	int hlen;

	hlen = frag_parse(pk, &r);
	if (hlen >= 0 && !ipv4_is_fragment(&r))
		return pk;
	if (!tbl) {
		pkt_free(pk);
		return NULL;
	}
	tbl->reasm_reqds++;
	/* inet_frag_find(): over the limit, nothing gets in, old queue or new */
	if (hlen < 0 || high <= 0 || (long)tbl->mem > high) {
		tbl->reasm_fails++;
		pkt_free(pk);
		return NULL;
	}
	q = frag_find(tbl, &r);
	if (!q)
		q = frag_create(tbl, &r);
	if (!q) {
		tbl->reasm_fails++;
		pkt_free(pk);
		return NULL;
	}
	return frag_queue(tbl, q, dev, pk, &r, (unsigned)hlen);
}
