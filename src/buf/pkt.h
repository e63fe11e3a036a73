/* SPDX-License-Identifier: MIT */
/*
 * pkt.h - packet buffers: headroom, reference counts, scatter-gather
 *
 * A packet is a chain of pieces (pkt->frag); the head piece carries the
 * metadata and tot_len.  Each piece is one pool block: this header followed by
 * its buffer.  A piece may instead be a view into another piece's buffer
 * (pkt_clone_range): it then holds a reference on that piece ("shared") and
 * owns no bytes of its own, which is how IP fragments and reassembled
 * datagrams share payload without copying.
 *
 * Ownership: whoever holds a pkt pointer holds one reference; pkt_free()
 * drops it (and, on the last reference, the whole chain).  A function that is
 * handed a packet consumes it on every path.
 */
#ifndef USOCK_BUF_PKT_H
#define USOCK_BUF_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct pkt_pool;
struct pkt;

/* bytes of per-layer scratch in every packet's metadata */
#define PKT_CB_SIZE 32

/* Metadata the layers attach to a packet on its way (head piece only). */
struct pkt_meta {
	uint64_t tstamp_ns;	/* receive time (CLOCK_REALTIME ns) for SO_TIMESTAMP */
	int ifindex;		/* interface it arrived on / leaves by */
	uint16_t l3_off;	/* offset of the network header from data, on input */
	uint16_t l4_off;	/* offset of the transport header from data, on input */
	uint16_t proto;		/* ETH_P_IP, ETH_P_ARP, ... (host order) */
	uint8_t pkt_type;	/* PACKET_HOST, PACKET_BROADCAST, ... */
	uint8_t ttl, tos;	/* from the IP header, for IP_RECVTTL/IP_RECVTOS */
	uint8_t csum_ok;	/* checksum already verified (loopback) */
	uint8_t peeked;		/* skb->peeked: an empty datagram a peek at an offset passes over */
	uint32_t saddr, daddr;	/* IPv4, network order */
	uint16_t sport, dport;	/* transport ports, network order */
	uint32_t truesize;	/* bytes charged to a socket buffer */
	uint32_t spec_dst;	/* IPv4 local address for IP_PKTINFO ipi_spec_dst */
	uint32_t mark;
	uint32_t dropcount;	/* socket drops when queued (SO_RXQ_OVFL) */
	/*
	 * destructor - run once when the last reference to the head goes or the
	 * packet is orphaned (pkt_orphan), as skb->destructor: the sending
	 * socket's write-memory charge is released this way.  Clones do not
	 * inherit it.
	 */
	void (*destructor)(struct pkt *pk);
	void *owner;
	/* protocol scratch while a layer owns the packet (skb->cb): TCP's tcp_skb_cb */
	_Alignas(8) uint8_t cb[PKT_CB_SIZE];
};

struct pkt {
	struct pkt *next;	/* queue link, owned by whoever queues it */
	struct pkt *frag;	/* next piece of the same packet */
	struct pkt *shared;	/* piece whose buffer data points into, or NULL */
	struct pkt_pool *pool;	/* pool this block returns to */
	uint32_t refcnt;
	uint32_t cap;		/* bytes of buf[] (0 for a view) */
	uint8_t *data;		/* first valid byte of this piece */
	uint32_t len;		/* valid bytes in this piece */
	uint32_t tot_len;	/* head: sum of len over the chain */
	struct pkt_meta meta;
	uint8_t buf[];		/* headroom | data | tailroom */
};

/* Headroom reserved in front of data by pkt_alloc: enough for Ethernet + IPv6 + TCP options. */
#define PKT_HEADROOM 128

/* Pool block classes: buffer bytes per block. */
#define PKT_CLASS_SMALL 512
#define PKT_CLASS_MEDIUM 2048
#define PKT_CLASS_LARGE (65536 + 2 * PKT_HEADROOM)
#define PKT_NCLASS 3

/*
 * struct pkt_pools - a namespace's three block pools, sized up front.
 * Counts are blocks per class; memory comes from the namespace arena.
 */
struct arena;
struct pkt_pools;

struct pkt_pools *pkt_pools_new(struct arena *a, unsigned nsmall, unsigned nmedium,
				unsigned nlarge);
/* pkt_pools_free_count - blocks currently free in class c (tests check pools are full). */
unsigned pkt_pools_free_count(const struct pkt_pools *p, int c);
unsigned pkt_pools_total_count(const struct pkt_pools *p, int c);
/* pkt_pools_full - true when every block of every class is back. */
bool pkt_pools_full(const struct pkt_pools *p);

/*
 * pkt_alloc - a packet with room for len bytes after PKT_HEADROOM, from the
 * smallest class that fits (len up to PKT_CLASS_LARGE - PKT_HEADROOM).
 * data points at buf + PKT_HEADROOM, len = tot_len = 0, refcnt 1, meta zeroed.
 * Return: the packet, or NULL when that class is exhausted (caller: ENOBUFS).
 */
struct pkt *pkt_alloc(struct pkt_pools *p, size_t len);
/* pkt_alloc_class - as pkt_alloc but from class c, headroom hr. */
struct pkt *pkt_alloc_class(struct pkt_pools *p, int c, size_t hr);
/* pkt_free - drop one reference on the chain head (NULL is ignored). */
void pkt_free(struct pkt *pk);
/*
 * pkt_kernel_truesize - what the Linux kernel (x86_64, 6.x) charges a socket
 * for a linear skb of 'size' bytes (__alloc_skb): the head rounded to a
 * cache line plus skb_shared_info, from the 576-byte small-head cache or the
 * next power-of-two kmalloc size, plus the sk_buff itself.  usock charges
 * the same, so buffer limits bite at the same datagram as on Linux.
 */
static inline uint32_t pkt_kernel_truesize(uint32_t size)
{
	uint32_t obj = ((size + 63u) & ~63u) + 320u;
	uint32_t k = 576u;
	if (obj > k)
		for (k = 1024u; k < obj; k <<= 1)
			;
	return k + 256u;
}
/* Bytes an IP sender allocates in front of a fragment: LL_RESERVED_SPACE + 15. */
#define PKT_KERNEL_LL_EXTRA 31u

/* pkt_orphan - run and clear the destructor now (skb_orphan). */
static inline void pkt_orphan(struct pkt *pk)
{
	if (pk->meta.destructor) {
		void (*d)(struct pkt *) = pk->meta.destructor;
		pk->meta.destructor = NULL;
		d(pk);
	}
}
/* pkt_free_remote - free without the namespace lock if simple; false: caller must lock and pkt_free. */
bool pkt_free_remote(struct pkt *pk);
bool pkt_can_free_remote(const struct pkt *pk);
void pkt_free_remote_many(struct pkt **pk, unsigned n);
/* pkt_get - take another reference (the chain stays shared: read-only). */
struct pkt *pkt_get(struct pkt *pk);

/* pkt_push - grow the head piece by n bytes at the front; return new data. NULL if no headroom. */
uint8_t *pkt_push(struct pkt *pk, size_t n);
/* pkt_pull - drop n bytes from the front of the packet (may free leading pieces). Return: 0, -EINVAL if short. */
int pkt_pull(struct pkt *pk, size_t n);
/* pkt_may_pull - the first n bytes contiguous in the head piece (pskb_may_pull). Return: 0, -EINVAL, -ENOBUFS. */
int pkt_may_pull(struct pkt *pk, size_t n);
/* pkt_put - grow the last piece's tail by n bytes; return pointer to them, NULL if no room. */
uint8_t *pkt_put(struct pkt *pk, size_t n);
/* pkt_trim - cut the packet to len bytes total (frees trailing pieces). Return: 0, -EINVAL. */
int pkt_trim(struct pkt *pk, size_t len);
/* pkt_tailroom / pkt_headroom of the head piece (last piece for tailroom). */
size_t pkt_headroom(const struct pkt *pk);
size_t pkt_tailroom(const struct pkt *pk);

/* pkt_append - append piece chain 'tail' to 'head' (consumes tail's head reference; tail's meta is discarded). */
void pkt_append(struct pkt *head, struct pkt *tail);

/*
 * pkt_clone_range - a new packet whose pieces view bytes [off, off+len) of pk
 * without copying (each view holds a reference on the piece it points into),
 * with hr bytes of private headroom in a fresh small block in front so the
 * caller can push headers.  Meta is copied.
 * Return: the new packet, or NULL on pool exhaustion (pk untouched).
 */
struct pkt *pkt_clone_range(struct pkt_pools *p, struct pkt *pk, size_t off, size_t len,
			    size_t hr);

/* pkt_copy_out - copy len bytes from offset off of the chain into dst. Return: bytes copied. */
size_t pkt_copy_out(const struct pkt *pk, size_t off, void *dst, size_t len);
/* pkt_copy_in - write len bytes at offset off (within tot_len). Return: bytes copied. */
size_t pkt_copy_in(struct pkt *pk, size_t off, const void *src, size_t len);

/*
 * pkt_linear - pointer to n contiguous bytes at offset 0 of the chain, or NULL
 * if the packet is shorter than n or the bytes span pieces.  Parsers use this
 * with the header length; every header a layer reads is in the head piece.
 */
const uint8_t *pkt_linear(const struct pkt *pk, size_t n);

/* pkt_csum_partial - Internet checksum partial sum over [off, off+len), in memory order as
 * wire/csum.h's csum_partial (odd-length pieces chained correctly). */
uint32_t pkt_csum_partial(const struct pkt *pk, size_t off, size_t len, uint32_t sum);

/* ---- simple FIFO queue of packets ---- */
struct pkt_queue {
	struct pkt *head, *tail;
	uint32_t count;
	uint32_t bytes;		/* sum of meta.truesize */
};
void pkt_queue_init(struct pkt_queue *q);
void pkt_queue_push(struct pkt_queue *q, struct pkt *pk);
struct pkt *pkt_queue_pop(struct pkt_queue *q);
static inline struct pkt *pkt_queue_peek(const struct pkt_queue *q) { return q->head; }
/* pkt_queue_splice - move all of from to the tail of to. */
static inline void pkt_queue_splice(struct pkt_queue *to, struct pkt_queue *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	to->count += from->count;
	to->bytes += from->bytes;
	from->head = from->tail = NULL;
	from->count = from->bytes = 0;
}
/* pkt_queue_purge - free every packet. */
void pkt_queue_purge(struct pkt_queue *q);

#endif
