/* SPDX-License-Identifier: MIT */
/*
 * tcp_hash.c - TCP tables, ports, lookup, ISNs, TIME_WAIT, the Fast Open client cache
 *
 * Theory of operation.  A namespace's struct tcp_table (ns->tcp, made by
 * tcp_init) owns three chained hash tables of struct tcp_hnode: ehash
 * (connections, request socks and TIME_WAIT socks by 4-tuple), lhash
 * (listeners by port) and bhash (the port owners: bound sockets and
 * TIME_WAIT socks, the kernel's inet_bind_bucket owners).  tcp_init carves
 * the table with a private tail (struct tcp_hash_priv, in tcp_hash_int.h)
 * right behind it, so this file and tcp_minisocks.c can keep what the
 * shared header does not show: per-port owner counts and the "bucket made
 * by connect" mark that Linux keeps in inet_bind_bucket (fastreuse == -1),
 * the derived hash keys, and the ISN a TIME_WAIT sock hands to the next
 * SYN (the kernel's per-cpu tcp_tw_isn).  Request and TIME_WAIT socks come
 * from the table's arena caches, each object a wrapper (tcp_req_ext,
 * tcp_tw_ext) around the public struct, with the namespace and the fields
 * the header lacks.  Request socks, SYN cookies, the Fast Open server side
 * and the accept queue are tcp_minisocks.c's; this file keeps the tables
 * and what lives in them without a listener.
 *
 * Everything runs under the namespace lock; timer callbacks too.  Limits:
 * TCP_MAX_TW TIME_WAIT socks per namespace (beyond that closing sockets
 * skip TIME_WAIT, as the kernel does when tw_max_buckets is reached).
 * Bind chains are singly linked, so releasing a port walks its chain: a
 * port shared by many accepted connections makes that O(connections on the
 * port).
 *
 * Keys: secret[0..1] keys the ISN and the ephemeral port offset
 * (net_secret), secret[2..3] the timestamp offset (ts_secret); the SYN
 * cookie and ehash keys are separate random keys in the private tail; the
 * Fast Open cookie uses fastopen_key.  All are SipHash-2-4 except the
 * ehash, which uses a cheaper keyed mix because it runs per segment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "buf/pkt.h"
#include "ip/ip4.h"
#include "link/link.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_hash_int.h"

#define PORT_CONNECT 0x1	/* bucket made by __inet_hash_connect (fastreuse == -1) */

/* A TIME_WAIT sock as carved from tw_cache. */
struct tcp_tw_ext {
	struct tcp_tw_sock tw;		/* first */
	struct netns *ns;
	bool reuseport;			/* tw_reuseport */
	uint32_t last_oow_ack_ms;	/* tw_last_oow_ack_time, +1 (0: never) */
};

static inline struct tcp_tw_ext *tw_ext(struct tcp_tw_sock *tw)
{
	return (struct tcp_tw_ext *)(void *)tw;
}

static inline uint16_t hn_port(const struct tcp_hnode *h)
{
	return ntohs(h->sport);
}

/* owner_port - the port a bind chain member holds (sk->num / tw->num, not hn, which tcp.c rewrites). */
static inline uint16_t owner_port(struct tcp_hnode *h)
{
	if (h->kind == TCP_HK_TW)
		return ((struct tcp_tw_sock *)(void *)h)->num;
	return hn_sock(h)->sk.num;
}

static inline uint32_t rand_below(struct netns *ns, uint32_t n)
{
	return (uint32_t)(((uint64_t)(uint32_t)netns_random(ns) * n) >> 32);
}

static inline bool ipv4_is_loopback(uint32_t a)
{
	return (ntohl(a) >> 24) == 127;
}

/* ---- keyed hashes ---- */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                                         \
	do {                                                                             \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);            \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                                 \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                                 \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);            \
	} while (0)

/*
 * tcp_siphash_u32 - SipHash-2-4 of the n 32-bit words w laid out little endian,
 * as the kernel's siphash_3u32 and friends.  Return: the 64-bit hash.
 */
uint64_t tcp_siphash_u32(const uint64_t key[2], const uint32_t *w, unsigned n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
	uint64_t b = (uint64_t)(n * 4) << 56, m;
	unsigned i;

	for (i = 0; i + 2 <= n; i += 2) {
		m = (uint64_t)w[i] | (uint64_t)w[i + 1] << 32;
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	if (i < n)
		b |= w[i];
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ehash_fn - inet_ehashfn: the 4-tuple (local first) keyed, cheap enough per segment. */
static uint32_t ehash_fn(const struct tcp_table *t, uint32_t laddr, uint16_t lport, uint32_t faddr,
			 uint16_t fport)
{
	const struct tcp_hash_priv *p = (const struct tcp_hash_priv *)(const void *)(t + 1);
	uint64_t h = ((uint64_t)laddr << 32 | faddr) ^ p->ehash_key[0];

	h *= 0x9e3779b97f4a7c15ull;
	h ^= ((uint64_t)lport << 16 | fport) ^ p->ehash_key[1];
	h *= 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(h ^ (h >> 29) ^ (h >> 47));
}

static inline struct tcp_hnode **ehash_slot(struct tcp_table *t, const struct tcp_hnode *h)
{
	return &t->ehash[ehash_fn(t, h->saddr, h->sport, h->daddr, h->dport) & (TCP_EHASH_SIZE - 1)];
}

static inline struct tcp_hnode **lhash_slot(struct tcp_table *t, uint16_t port)
{
	return &t->lhash[port & (TCP_LHASH_SIZE - 1)];
}

static inline struct tcp_hnode **bhash_slot(struct tcp_table *t, uint16_t port)
{
	return &t->bhash[port & (TCP_BHASH_SIZE - 1)];
}

/* ---- chains ---- */

void tcp_ehash_insert(struct tcp_table *t, struct tcp_hnode *h)
{
	struct tcp_hnode **slot = ehash_slot(t, h);

	h->next = *slot;
	*slot = h;
	h->hashed = true;
	t->ehash_count++;
}

void tcp_ehash_remove(struct tcp_table *t, struct tcp_hnode *h)
{
	if (!h->hashed)
		return;
	for (struct tcp_hnode **pp = ehash_slot(t, h); *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			t->ehash_count--;
			break;
		}
	h->next = NULL;
	h->hashed = false;
}

/* tcp_ehash_replace - new takes old's place (sk_nulls_replace_node_init_rcu); same 4-tuple. */
void tcp_ehash_replace(struct tcp_table *t, struct tcp_hnode *old, struct tcp_hnode *new)
{
	tcp_ehash_remove(t, old);
	tcp_ehash_insert(t, new);
}

/*
 * tcp_bind_add - h (its port number set) becomes an owner of the port
 * (inet_bind_hash).  A bucket made by connect stays shareable by connects
 * until a bind() joins it (inet_csk_update_fastreuse) or it empties.
 */
void tcp_bind_add(struct tcp_table *t, struct tcp_hnode *h, int how)
{
	struct tcp_hash_priv *p = priv_of(t);
	uint16_t port = owner_port(h);
	struct tcp_hnode **slot = bhash_slot(t, port);

	if (p->port_owners[port]++ == 0)
		p->port_flags[port] = how == BIND_BY_CONNECT ? PORT_CONNECT : 0;
	else if (how == BIND_BY_BIND)
		p->port_flags[port] &= (uint8_t)~PORT_CONNECT;
	h->bnext = *slot;
	*slot = h;
	h->bound = true;
}

/* bind_del - inet_put_port / inet_twsk_bind_unhash: the bucket goes with its last owner. */
static void bind_del(struct tcp_table *t, struct tcp_hnode *h)
{
	struct tcp_hash_priv *p = priv_of(t);
	uint16_t port = owner_port(h);
	struct tcp_hnode **pp;

	if (!h->bound)
		return;
	for (pp = bhash_slot(t, port); *pp && *pp != h; pp = &(*pp)->bnext)
		;
	if (!*pp)	/* the number changed under us: hn still names the port */
		for (port = hn_port(h), pp = bhash_slot(t, port); *pp && *pp != h; pp = &(*pp)->bnext)
			;
	if (*pp)
		*pp = h->bnext;
	h->bnext = NULL;
	h->bound = false;
	if (p->port_owners[port] && --p->port_owners[port] == 0)
		p->port_flags[port] = 0;
}

/* ---- ports (inet_csk_get_port) ---- */

/* What a bind conflict check needs to know of an owner (socket or TIME_WAIT). */
struct owner {
	uint32_t addr;
	int bound_dev_if;
	bool reuse, reuseport, listen, tw;
};

static struct owner owner_of(struct tcp_hnode *h)
{
	struct owner o = { 0 };

	if (h->kind == TCP_HK_TW) {
		struct tcp_tw_sock *tw = (struct tcp_tw_sock *)(void *)h;

		o.addr = h->saddr;
		o.bound_dev_if = h->bound_dev_if;
		o.reuse = tw->reuseaddr;
		o.reuseport = tw_ext(tw)->reuseport;
		o.tw = true;
	} else {
		struct sock *sk = &hn_sock(h)->sk;

		o.addr = sk->rcv_saddr;
		o.bound_dev_if = sk->bound_dev_if;
		o.reuse = sk->flags & SKF_REUSEADDR;
		o.reuseport = sk->flags & SKF_REUSEPORT;
		o.listen = sk->state == TCP_LISTEN;
	}
	return o;
}

/*
 * bind_conflict - inet_bind_conflict and the wildcard address overlap of
 * inet_rcv_saddr_equal(.., true): sk may not share the port with o.  All
 * sockets of a namespace belong to this process, so the uid test of
 * SO_REUSEPORT always passes.
 */
static bool bind_conflict(const struct sock *sk, const struct owner *o, bool relax, bool reuseport_ok)
{
	bool reuse = sk->flags & SKF_REUSEADDR, reuseport = sk->flags & SKF_REUSEPORT;

	if (sk->bound_dev_if && o->bound_dev_if && sk->bound_dev_if != o->bound_dev_if)
		return false;
	if (sk->rcv_saddr != o->addr && sk->rcv_saddr && o->addr)
		return false;
	if (reuse && o->reuse && !o->listen)
		return !relax || (!reuseport_ok && reuseport && o->reuseport);
	return !reuseport_ok || !reuseport || !o->reuseport;
}

/* port_conflict - inet_csk_bind_conflict over every owner of port but tp itself. */
static bool port_conflict(struct tcp_table *t, struct tcp_sock *tp, uint16_t port, bool relax,
			  bool reuseport_ok)
{
	if (!priv_of(t)->port_owners[port])
		return false;
	for (struct tcp_hnode *h = *bhash_slot(t, port); h; h = h->bnext) {
		if (h == &tp->hn || owner_port(h) != port)
			continue;
		struct owner o = owner_of(h);
		if (bind_conflict(&tp->sk, &o, relax, reuseport_ok))
			return true;
	}
	return false;
}

/*
 * find_open_port - inet_csk_find_open_port: a random odd port of the local
 * range first (connect() favours even ones), then the even ones; with
 * SO_REUSEADDR the lower half of the range before the upper.
 * Return: the port, or 0 if none is free.
 */
static uint16_t find_open_port(struct tcp_table *t, struct tcp_sock *tp)
{
	struct netns *ns = tp->sk.ns;
	int attempt_half = (tp->sk.flags & SKF_REUSEADDR) ? 1 : 0;

other_half:;
	int low = ns->sys.port_lo, high = ns->sys.port_hi + 1;
	if (high - low < 4)
		attempt_half = 0;
	if (attempt_half) {
		int half = low + (((high - low) >> 2) << 1);

		if (attempt_half == 1)
			high = half;
		else
			low = half;
	}
	if (low < 1 || high > NPORTS || high <= low)
		return 0;
	uint32_t remaining = (uint32_t)(high - low);
	if (remaining > 1)
		remaining &= ~1u;
	uint32_t offset = rand_below(ns, remaining) | 1u;
other_parity:;
	int port = low + (int)offset;
	for (uint32_t i = 0; i < remaining; i += 2, port += 2) {
		if (port >= high)
			port -= (int)remaining;
		if (!port_conflict(t, tp, (uint16_t)port, false, false))
			return (uint16_t)port;
	}
	offset--;
	if (!(offset & 1))
		goto other_parity;
	if (attempt_half == 1) {
		attempt_half = 2;
		goto other_half;
	}
	return 0;
}

/*
 * tcp_get_port - bind tp (its rcv_saddr, device, SO_REUSE* and state as
 * they are) to port snum (host order), or to a free one for 0.  Mirrors inet_csk_get_port: called again by listen() on a bound socket
 * (state already LISTEN) it re-checks the conflicts and keeps the port.
 * Return: 0, or -EADDRINUSE.
 */
int tcp_get_port(struct tcp_sock *tp, uint16_t snum)
{
	struct tcp_table *t = tp->sk.ns->tcp;

	if (tp->hn.bound && snum == tp->sk.num) {
		if (port_conflict(t, tp, snum, true, true))
			return -EADDRINUSE;
		priv_of(t)->port_flags[snum] &= (uint8_t)~PORT_CONNECT;
		return 0;
	}
	if (tp->hn.bound)
		tcp_put_port(tp);
	if (!snum) {
		snum = find_open_port(t, tp);
		if (!snum)
			return -EADDRINUSE;
	} else if (port_conflict(t, tp, snum, true, true)) {
		return -EADDRINUSE;
	}
	tp->hn.kind = TCP_HK_SOCK;
	tp->hn.sport = htons(snum);
	tp->sk.num = snum;
	tcp_bind_add(t, &tp->hn, BIND_BY_BIND);
	return 0;
}

/*
 * tcp_put_port - release tp's port (inet_put_port): sk->num becomes 0.
 */
void tcp_put_port(struct tcp_sock *tp)
{
	if (!tp->hn.bound)
		return;
	bind_del(tp->sk.ns->tcp, &tp->hn);
	tp->sk.num = 0;
}

/* ---- ehash / lhash membership ---- */

void tcp_hn_from_sock(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;

	tp->hn.kind = TCP_HK_SOCK;
	tp->hn.saddr = sk->rcv_saddr ? sk->rcv_saddr : sk->saddr;
	tp->hn.sport = htons(sk->num);
	tp->hn.bound_dev_if = sk->bound_dev_if;
	if (sk->state == TCP_LISTEN) {
		tp->hn.saddr = sk->rcv_saddr;
		tp->hn.daddr = 0;
		tp->hn.dport = 0;
	} else {
		tp->hn.daddr = sk->daddr;
		tp->hn.dport = sk->dport;
	}
}

/*
 * tcp_hash - enter ehash (a connection) or lhash (LISTEN), from sk's addresses
 */
void tcp_hash(struct tcp_sock *tp)
{
	struct tcp_table *t = tp->sk.ns->tcp;

	if (tp->hn.hashed)
		return;
	tcp_hn_from_sock(tp);
	if (tp->sk.state == TCP_LISTEN) {
		struct tcp_hnode **slot = lhash_slot(t, tp->sk.num);

		/* inet_hash puts IPv4 listeners at the head (the reuseport group order) */
		tp->hn.next = *slot;
		*slot = &tp->hn;
		tp->hn.hashed = true;
	} else {
		tcp_ehash_insert(t, &tp->hn);
	}
}

/*
 * tcp_unhash - leave whichever table tp is on (none: nothing happens).
 */
void tcp_unhash(struct tcp_sock *tp)
{
	struct tcp_table *t = tp->sk.ns->tcp;

	if (!tp->hn.hashed)
		return;
	if (tp->hn.dport) {
		tcp_ehash_remove(t, &tp->hn);
		return;
	}
	for (struct tcp_hnode **pp = lhash_slot(t, hn_port(&tp->hn)); *pp; pp = &(*pp)->next)
		if (*pp == &tp->hn) {
			*pp = tp->hn.next;
			break;
		}
	tp->hn.next = NULL;
	tp->hn.hashed = false;
}

/*
 * twsk_unique - tcp_twsk_unique: may tp take the 4-tuple of TIME_WAIT sock
 * tw?  An explicitly bound port (autoport false) may whenever the peer used
 * timestamps; an automatic one only as net.ipv4.tcp_tw_reuse allows (2:
 * loopback only) and a second after the last timestamp.  tp then starts
 * its sequence space beyond the old one.
 */
static bool twsk_unique(struct tcp_sock *tp, struct tcp_tw_sock *tw, bool autoport)
{
	struct netns *ns = tp->sk.ns;
	int reuse = ns->tcp->sys.tw_reuse;

	if (tw->tw_substate == TCP_FIN_WAIT2)
		reuse = 0;
	if (reuse == 2 && tw->hn.bound_dev_if != 1 && !ipv4_is_loopback(tw->hn.daddr) &&
	    !ipv4_is_loopback(tw->hn.saddr))
		reuse = 0;
	if (!tw->ts_recent_stamp ||
	    (autoport && !(reuse && seconds_after(now_s(ns), tw->ts_recent_stamp))))
		return false;
	if (!tp->repair) {
		uint32_t seq = tw->snd_nxt + 65535 + 2;

		tp->write_seq = seq ? seq : 1;
		tp->ts_recent = tw->ts_recent;
		tp->ts_recent_stamp = tw->ts_recent_stamp;
	}
	return true;
}

/*
 * check_established - __inet_check_established: is (local addr, lport,
 * peer) free?  A TIME_WAIT holder may be recycled (twsk_unique); on
 * success tp takes the port number and enters ehash, the TIME_WAIT sock is
 * returned in *twp for the caller to kill.  Return: true if unique.
 */
static bool check_established(struct tcp_table *t, struct tcp_sock *tp, uint16_t lport,
			      bool autoport, struct tcp_tw_sock **twp)
{
	struct sock *sk = &tp->sk;
	uint32_t laddr = sk->rcv_saddr ? sk->rcv_saddr : sk->saddr;
	uint16_t nport = htons(lport);
	struct tcp_tw_sock *tw = NULL;
	uint32_t h = ehash_fn(t, laddr, nport, sk->daddr, sk->dport);

	for (struct tcp_hnode *e = t->ehash[h & (TCP_EHASH_SIZE - 1)]; e; e = e->next) {
		if (e->saddr != laddr || e->sport != nport || e->daddr != sk->daddr ||
		    e->dport != sk->dport)
			continue;
		if (e->bound_dev_if && e->bound_dev_if != sk->bound_dev_if)
			continue;
		if (e->kind == TCP_HK_TW && twsk_unique(tp, (struct tcp_tw_sock *)(void *)e, autoport)) {
			tw = (struct tcp_tw_sock *)(void *)e;
			break;
		}
		return false;
	}
	sk->num = lport;
	sk->sport = nport;
	tcp_hn_from_sock(tp);
	tcp_ehash_insert(t, &tp->hn);
	*twp = tw;
	return true;
}

/*
 * tcp_hash_connect - port and ehash entry for an active open (__inet_hash_connect)
 * A bound socket keeps its port if the 4-tuple is unique.  Otherwise RFC
 * 6056 algorithm 3: start at a keyed hash of (local address, peer address,
 * peer port) plus table_perturb[] of that hash, scan the local range by 2
 * from an even offset, then the odd ports.  Ports taken by bind() are
 * never shared; ports taken by other connects are when the 4-tuple is
 * unique.  A recycled TIME_WAIT sock is killed.
 * Return: 0, or -EADDRNOTAVAIL.
 */
int tcp_hash_connect(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;
	struct netns *ns = sk->ns;
	struct tcp_table *t = ns->tcp;
	struct tcp_hash_priv *p = priv_of(t);
	struct tcp_tw_sock *tw = NULL;

	if (sk->num) {
		if (!check_established(t, tp, sk->num, false, &tw))
			return -EADDRNOTAVAIL;
		if (tw)
			tcp_tw_kill(tw);
		return 0;
	}
	uint32_t laddr = sk->rcv_saddr ? sk->rcv_saddr : sk->saddr;
	uint32_t w[3] = { laddr, sk->daddr, sk->dport };
	uint64_t port_offset = tcp_siphash_u32(t->secret, w, 3);
	int low = ns->sys.port_lo, high = ns->sys.port_hi + 1;

	if (low < 1 || high > NPORTS || high <= low)
		return -EADDRNOTAVAIL;
	uint32_t remaining = (uint32_t)(high - low);
	if (remaining > 1)
		remaining &= ~1u;
	uint32_t index = (uint32_t)port_offset & 255u;
	uint32_t offset = (t->hash_connect_perturb[index] + (uint32_t)(port_offset >> 32)) % remaining;
	offset &= ~1u;
	uint32_t i;
	int port;
other_parity:
	port = low + (int)offset;
	for (i = 0; i < remaining; i += 2, port += 2) {
		if (port >= high)
			port -= (int)remaining;
		if (!p->port_owners[port])
			goto ok;
		if (!(p->port_flags[port] & PORT_CONNECT))
			continue;
		if (check_established(t, tp, (uint16_t)port, true, &tw))
			goto ok_hashed;
	}
	offset++;
	if ((offset & 1) && remaining > 1)
		goto other_parity;
	return -EADDRNOTAVAIL;
ok:
	sk->num = (uint16_t)port;
	sk->sport = htons((uint16_t)port);
	tcp_hn_from_sock(tp);
	tcp_ehash_insert(t, &tp->hn);
ok_hashed:;
	/* a little randomness for the next connect, maximal when ports are free */
	uint32_t r = rand_below(ns, 8) * 2;
	t->hash_connect_perturb[index] += (i > r ? i : r) + 2;
	tcp_bind_add(t, &tp->hn, BIND_BY_CONNECT);
	if (tw)
		tcp_tw_kill(tw);
	return 0;
}

/* ---- lookup ---- */

/* listener_score - compute_score for a listener on the right port (-1: no match). */
static int listener_score(const struct tcp_sock *lp, uint32_t daddr, int dif)
{
	const struct sock *sk = &lp->sk;

	if (sk->rcv_saddr != daddr)
		return -1;
	if (sk->bound_dev_if && sk->bound_dev_if != dif)
		return -1;
	return sk->bound_dev_if ? 3 : 2;
}

/*
 * reuseport_select - reuseport_select_sock: the member of lp's SO_REUSEPORT
 * group (listeners on the same address, port and device) the flow hash
 * picks, counting members in the order they started listening.
 */
static struct tcp_sock *reuseport_select(struct tcp_table *t, struct tcp_sock *lp, uint32_t hash)
{
	unsigned n = 0, k;
	uint16_t port = lp->sk.num;
	struct tcp_hnode *h;

	for (h = *lhash_slot(t, port); h; h = h->next) {
		struct sock *s = &hn_sock(h)->sk;

		if (s->num == port && (s->flags & SKF_REUSEPORT) && s->rcv_saddr == lp->sk.rcv_saddr &&
		    s->bound_dev_if == lp->sk.bound_dev_if)
			n++;
	}
	if (n <= 1)
		return lp;
	/* the chain holds the newest first */
	k = n - 1 - (unsigned)(((uint64_t)hash * n) >> 32);
	for (h = *lhash_slot(t, port); h; h = h->next) {
		struct sock *s = &hn_sock(h)->sk;

		if (s->num == port && (s->flags & SKF_REUSEPORT) && s->rcv_saddr == lp->sk.rcv_saddr &&
		    s->bound_dev_if == lp->sk.bound_dev_if && k-- == 0)
			return hn_sock(h);
	}
	return lp;
}

/*
 * lookup_listener - __inet_lookup_listener: the exact local address first,
 * then INADDR_ANY; within each the best compute_score, the first better
 * one with SO_REUSEPORT answering for its group.
 */
static struct tcp_sock *lookup_listener(struct tcp_table *t, uint32_t saddr, uint16_t sport,
					uint32_t daddr, uint16_t dport, int dif)
{
	uint16_t hnum = ntohs(dport);
	uint32_t addrs[2] = { daddr, 0 };

	for (int pass = 0; pass < (daddr ? 2 : 1); pass++) {
		struct tcp_sock *result = NULL;
		int hiscore = 0;

		for (struct tcp_hnode *h = *lhash_slot(t, hnum); h; h = h->next) {
			struct tcp_sock *lp = hn_sock(h);

			if (lp->sk.num != hnum)
				continue;
			int score = listener_score(lp, addrs[pass], dif);
			if (score > hiscore) {
				if (lp->sk.flags & SKF_REUSEPORT)
					return reuseport_select(t, lp,
								ehash_fn(t, daddr, dport, saddr, sport));
				result = lp;
				hiscore = score;
			}
		}
		if (result)
			return result;
	}
	return NULL;
}

/*
 * tcp_lookup - the object a segment from (saddr, sport) to (daddr, dport),
 * all network order, arriving on ifindex dif belongs to (__inet_lookup).
 * Return: an ehash entry exactly matching (socket, request sock or
 * TIME_WAIT sock), else the best listener, else NULL.
 */
struct tcp_hnode *tcp_lookup(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t daddr,
			     uint16_t dport, int dif)
{
	struct tcp_table *t = ns->tcp;
	uint32_t h = ehash_fn(t, daddr, dport, saddr, sport);

	for (struct tcp_hnode *e = t->ehash[h & (TCP_EHASH_SIZE - 1)]; e; e = e->next)
		if (e->saddr == daddr && e->sport == dport && e->daddr == saddr && e->dport == sport &&
		    (!e->bound_dev_if || e->bound_dev_if == dif))
			return e;
	struct tcp_sock *lp = lookup_listener(t, saddr, sport, daddr, dport, dif);
	return lp ? &lp->hn : NULL;
}

/* tcp_lookup_listener - inet_lookup_listener: the listener alone (addresses as tcp_lookup). */
struct tcp_sock *tcp_lookup_listener(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t daddr,
				     uint16_t dport, int dif)
{
	return lookup_listener(ns->tcp, saddr, sport, daddr, dport, dif);
}

/* ---- ISN and timestamp offset (RFC 6528, secure_seq.c) ---- */

/*
 * tcp_secure_seq - the ISN for (local saddr:sport, peer daddr:dport),
 * network order (secure_tcp_seq).
 * Return: keyed hash of the 4-tuple plus the clock in 64 ns ticks (seq_scale).
 */
uint32_t tcp_secure_seq(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport)
{
	uint32_t w[3] = { saddr, daddr, (uint32_t)sport << 16 | dport };

	return (uint32_t)tcp_siphash_u32(ns->tcp->secret, w, 3) + (uint32_t)(netns_now(ns) >> 6);
}

/*
 * tcp_secure_ts_off - the TSval offset for (local saddr, peer daddr) (secure_tcp_ts_off).
 * Return: keyed hash of the pair; 0 unless net.ipv4.tcp_timestamps is 1.
 */
uint32_t tcp_secure_ts_off(struct netns *ns, uint32_t saddr, uint32_t daddr)
{
	uint32_t w[2] = { saddr, daddr };

	if (ns->tcp->sys.timestamps != 1)
		return 0;
	return (uint32_t)tcp_siphash_u32(&ns->tcp->secret[2], w, 2);
}

/* ---- the Fast Open client cache ---- */

static int tfo_cache_find(struct tcp_table *t, uint32_t daddr)
{
	for (int i = 0; i < (int)(sizeof(t->tfo_cache) / sizeof(t->tfo_cache[0])); i++)
		if (t->tfo_cache[i].daddr == daddr && daddr)
			return i;
	return -1;
}

/*
 * tcp_fastopen_cache_get - what the client remembers of server daddr: *mss
 * if one was learnt, the cookie (room for TCP_FASTOPEN_COOKIE_MAX) and *len
 * (0: none yet).  Return: true if the server has an entry.
 */
bool tcp_fastopen_cache_get(struct netns *ns, uint32_t daddr, uint16_t *mss, uint8_t *cookie, uint8_t *len)
{
	struct tcp_table *t = ns->tcp;
	int i = tfo_cache_find(t, daddr);

	if (i < 0)
		return false;
	if (t->tfo_cache[i].mss)
		*mss = t->tfo_cache[i].mss;
	*len = t->tfo_cache[i].len;
	memcpy(cookie, t->tfo_cache[i].cookie, t->tfo_cache[i].len);
	return true;
}

/*
 * tcp_fastopen_cache_set - remember server daddr's MSS (0: keep) and cookie
 * (len 0: keep) and whether the data SYN was lost; a new server takes the
 * oldest entry, round robin.
 */
void tcp_fastopen_cache_set(struct netns *ns, uint32_t daddr, uint16_t mss, const uint8_t *cookie,
			    uint8_t len, bool syn_lost)
{
	struct tcp_table *t = ns->tcp;
	int i = tfo_cache_find(t, daddr);
	unsigned n = sizeof(t->tfo_cache) / sizeof(t->tfo_cache[0]);

	if (!daddr)
		return;
	if (i < 0) {
		i = (int)(t->tfo_next % n);
		t->tfo_next = (t->tfo_next + 1) % n;
		memset(&t->tfo_cache[i], 0, sizeof(t->tfo_cache[i]));
		t->tfo_cache[i].daddr = daddr;
	}
	if (mss)
		t->tfo_cache[i].mss = mss;
	if (cookie && len > 0 && len <= TCP_FASTOPEN_COOKIE_MAX) {
		memcpy(t->tfo_cache[i].cookie, cookie, len);
		t->tfo_cache[i].len = len;
	}
	t->tfo_cache[i].syn_loss_stamp = syn_lost ? netns_now(ns) : 0;
}

/* ---- TIME_WAIT (tcp_minisocks.c, inet_timewait_sock.c) ---- */

static void tw_timer_fn(struct timer *tm, void *arg)
{
	(void)tm;
	tcp_tw_kill(arg);
}

/*
 * tcp_time_wait - move tp into TIME_WAIT or the FIN_WAIT2 substate
 * (tcp_time_wait) for timeo_ns, at least 3.5 RTO; TIME_WAIT always lasts
 * TCP_TIMEWAIT_LEN.  A TIME_WAIT sock takes tp's place in ehash and on its port, then tp is
 * done (tcp_done).  Without a free TIME_WAIT object tp is just done.
 */
void tcp_time_wait(struct tcp_sock *tp, int state, uint64_t timeo_ns)
{
	struct netns *ns = tp->sk.ns;
	struct tcp_table *t = ns->tcp;
	struct tcp_tw_ext *x = arena_cache_alloc(&t->tw_cache);

	if (x) {
		struct tcp_tw_sock *tw = &x->tw;
		uint64_t rto = (uint64_t)tp->rto_us * 4 - tp->rto_us / 2;

		x->ns = ns;
		x->reuseport = tp->sk.flags & SKF_REUSEPORT;
		tw->hn = tp->hn;
		tw->hn.next = tw->hn.bnext = NULL;
		tw->hn.hashed = tw->hn.bound = false;
		tw->hn.kind = TCP_HK_TW;
		if (!tp->hn.hashed) {
			tw->hn.saddr = tp->sk.rcv_saddr ? tp->sk.rcv_saddr : tp->sk.saddr;
			tw->hn.daddr = tp->sk.daddr;
			tw->hn.sport = htons(tp->sk.num);
			tw->hn.dport = tp->sk.dport;
			tw->hn.bound_dev_if = tp->sk.bound_dev_if;
		}
		tw->tw_substate = (uint8_t)state;
		tw->rcv_nxt = tp->rcv_nxt;
		tw->snd_nxt = tp->snd_nxt;
		tw->rcv_wnd = tcp_receive_window(tp);
		tw->rcv_wscale = tp->rcv_wscale;
		tw->tstamp_ok = tp->tstamp_ok;
		tw->ts_recent = tp->ts_recent;
		tw->ts_recent_stamp = tp->ts_recent_stamp;
		tw->ts_offset = tp->tsoffset;
		tw->num = tp->sk.num;
		tw->reuseaddr = tp->sk.flags & SKF_REUSEADDR;
		timer_init(&tw->timer, tw_timer_fn, tw);

		if (timeo_ns < rto * NSEC_PER_USEC)
			timeo_ns = rto * NSEC_PER_USEC;
		if (state == TCP_TIME_WAIT)
			timeo_ns = TCP_TIMEWAIT_LEN_NS;
		netns_timer_arm(ns, &tw->timer, netns_now(ns) + timeo_ns);
		/* inet_twsk_hashdance */
		if (tp->hn.bound)
			tcp_bind_add(t, &tw->hn, BIND_INHERIT);
		if (tp->hn.hashed)
			tcp_ehash_replace(t, &tp->hn, &tw->hn);
		else
			tcp_ehash_insert(t, &tw->hn);
		t->tw_count++;
	}
	tcp_done(tp);
}

/*
 * tcp_tw_kill - end a TIME_WAIT sock (inet_twsk_deschedule_put): out of
 * ehash and off its port, back to the cache.
 */
void tcp_tw_kill(struct tcp_tw_sock *tw)
{
	struct netns *ns = tw_ext(tw)->ns;
	struct tcp_table *t = ns->tcp;

	netns_timer_cancel(ns, &tw->timer);
	tcp_ehash_remove(t, &tw->hn);
	bind_del(t, &tw->hn);
	t->tw_count--;
	arena_cache_free(&t->tw_cache, tw_ext(tw));
}

/*
 * tcp_timewait_state_process - a segment for a TIME_WAIT sock
 * (tcp_timewait_state_process); pk is not consumed.  FIN_WAIT2 substate: the checks of tcp_rcv_state_process; the peer's FIN
 * turns it into TIME_WAIT.  TIME_WAIT: PAWS; an in-window RST kills it
 * unless net.ipv4.tcp_rfc1337; a bare in-window ACK restarts the timer; a
 * SYN with a higher sequence number or a newer timestamp may open a new
 * connection (the ISN it must use is handed to the next tcp_conn_request);
 * anything else is acked, at most once per tcp_invalid_ratelimit.
 * Return: TCP_TW_SUCCESS (nothing to send; tw may be gone), TCP_TW_RST
 * (send a RST and kill tw), TCP_TW_ACK (ack with tw's state), TCP_TW_SYN
 * (give the SYN to a listener, killing tw, or ack it if there is none).
 */
int tcp_timewait_state_process(struct tcp_tw_sock *tw, struct pkt *pk, const struct tcp_repr *th)
{
	struct tcp_tw_ext *x = tw_ext(tw);
	struct netns *ns = x->ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	bool paws = false, saw_tstamp = false, rst = th->flags & TCP_HDR_RST;
	uint32_t tsval = 0;
	uint64_t now = now_s(ns);

	if (th->doff > 5 && tw->ts_recent_stamp && th->opt.has_ts && t->sys.timestamps) {
		saw_tstamp = true;
		tsval = th->opt.tsval;
		paws = tcp_mini_paws_reject(tw->ts_recent, tw->ts_recent_stamp, tsval, rst, now);
	}
	if (tw->tw_substate == TCP_FIN_WAIT2) {
		if (paws || !in_window(cb->seq, cb->end_seq, tw->rcv_nxt, tw->rcv_nxt + tw->rcv_wnd))
			return tcp_mini_oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms) ? TCP_TW_SUCCESS : TCP_TW_ACK;
		if (rst) {
			tcp_tw_kill(tw);
			return TCP_TW_SUCCESS;
		}
		if ((th->flags & TCP_HDR_SYN) && !tcp_before(cb->seq, tw->rcv_nxt))
			return TCP_TW_RST;
		if (!(th->flags & TCP_HDR_ACK) || !tcp_after(cb->end_seq, tw->rcv_nxt) || cb->end_seq == cb->seq)
			return TCP_TW_SUCCESS;
		/* new data after a half-duplex close, or a FIN out of place: reset */
		if (!(th->flags & TCP_HDR_FIN) || cb->end_seq != tw->rcv_nxt + 1)
			return TCP_TW_RST;
		tw->tw_substate = TCP_TIME_WAIT;
		tw->rcv_nxt = cb->end_seq;
		if (saw_tstamp) {
			tw->ts_recent_stamp = now;
			tw->ts_recent = tsval;
		}
		netns_timer_arm(ns, &tw->timer, netns_now(ns) + TCP_TIMEWAIT_LEN_NS);
		return TCP_TW_ACK;
	}

	if (!paws && cb->seq == tw->rcv_nxt && (cb->seq == cb->end_seq || rst)) {
		/* in window: only a RST or a bare ACK may be here */
		if (rst) {
			if (!t->sys.rfc1337) {
				tcp_tw_kill(tw);	/* TIME_WAIT assassination */
				return TCP_TW_SUCCESS;
			}
		} else {
			netns_timer_arm(ns, &tw->timer, netns_now(ns) + TCP_TIMEWAIT_LEN_NS);
		}
		if (saw_tstamp) {
			tw->ts_recent = tsval;
			tw->ts_recent_stamp = now;
		}
		return TCP_TW_SUCCESS;
	}
	if ((th->flags & TCP_HDR_SYN) && !rst && !(th->flags & TCP_HDR_ACK) && !paws &&
	    (tcp_after(cb->seq, tw->rcv_nxt) || (saw_tstamp && (int32_t)(tw->ts_recent - tsval) < 0))) {
		struct tcp_hash_priv *p = priv_of(t);
		uint32_t isn = tw->snd_nxt + 65535 + 2;

		p->tw_isn = isn ? isn : 1;
		p->tw_isn_valid = true;
		p->tw_isn_seq = cb->seq;
		p->tw_isn_saddr = pk->meta.saddr;
		p->tw_isn_daddr = pk->meta.daddr;
		p->tw_isn_sport = th->sport;
		p->tw_isn_dport = th->dport;
		return TCP_TW_SYN;
	}
	if (!rst) {
		/* an ACK-less SYN may be an old duplicate or a new one below
		 * rcv_nxt: it does not restart the timer */
		if (paws || (th->flags & TCP_HDR_ACK))
			netns_timer_arm(ns, &tw->timer, netns_now(ns) + TCP_TIMEWAIT_LEN_NS);
		return tcp_mini_oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms) ? TCP_TW_SUCCESS : TCP_TW_ACK;
	}
	return TCP_TW_SUCCESS;
}

/* ---- the namespace's table ---- */

/*
 * tcp_init - the namespace's TCP tables, caches, secrets and sysctls
 * Return: 0, or -ENOMEM.
 */
int tcp_init(struct netns *ns)
{
	struct tcp_table *t = arena_alloc(ns->arena, sizeof(*t) + sizeof(struct tcp_hash_priv));
	struct tcp_hash_priv *p;

	if (!t)
		return -ENOMEM;
	p = priv_of(t);
	arena_cache_init(&t->req_cache, ns->arena, sizeof(struct tcp_req_ext), TCP_MAX_REQ);
	arena_cache_init(&t->tw_cache, ns->arena, sizeof(struct tcp_tw_ext), TCP_MAX_TW);
	for (int i = 0; i < 4; i++)
		t->secret[i] = netns_random(ns);
	t->fastopen_key[0] = netns_random(ns);
	t->fastopen_key[1] = netns_random(ns);
	for (int i = 0; i < 256; i++)
		t->hash_connect_perturb[i] = (uint32_t)netns_random(ns);
	p->ehash_key[0] = netns_random(ns);
	p->ehash_key[1] = netns_random(ns);
	for (int i = 0; i < 2; i++) {
		p->cookie_key[i][0] = netns_random(ns);
		p->cookie_key[i][1] = netns_random(ns);
	}
	tcp_sysctl_defaults(&t->sys);
	ns->tcp = t;
	return 0;
}
