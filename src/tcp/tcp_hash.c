/* SPDX-License-Identifier: MIT */
/*
 * tcp_hash.c - TCP tables, ports, ISNs, request socks, SYN cookies, TIME_WAIT, Fast Open cookies
 *
 * Theory of operation.  A namespace's struct tcp_table (ns->tcp, made by
 * tcp_init) owns three chained hash tables of struct tcp_hnode: ehash
 * (connections, request socks and TIME_WAIT socks by 4-tuple), lhash
 * (listeners by port) and bhash (the port owners: bound sockets and
 * TIME_WAIT socks, the kernel's inet_bind_bucket owners).  tcp_init carves
 * the table with a private tail (struct tcp_hash_priv) right behind it, so
 * this file can keep what the shared header does not show: per-port owner
 * counts and the "bucket made by connect" mark that Linux keeps in
 * inet_bind_bucket (fastreuse == -1), the derived hash keys, and the ISN a
 * TIME_WAIT sock hands to the next SYN (the kernel's per-cpu tcp_tw_isn).
 * Request and TIME_WAIT socks come from the table's arena caches, each
 * object one of this file's wrappers (tcp_req_ext, tcp_tw_ext) around the
 * public struct, with the namespace and the fields the header lacks.
 *
 * Everything runs under the namespace lock; timer callbacks too.  Limits:
 * TCP_MAX_REQ request socks and TCP_MAX_TW TIME_WAIT socks per namespace
 * (beyond that SYNs are dropped and closing sockets skip TIME_WAIT, as the
 * kernel does when tw_max_buckets is reached).  Bind chains are singly
 * linked, so releasing a port walks its chain: a port shared by many
 * accepted connections makes that O(connections on the port).  Not kept
 * from Linux: the SYN queue pruning of old requests under load
 * (reqsk_timer_handler's young/old split), tcp metrics' proven peers, the
 * 60 s parking of Fast Open requests that were reset, ECN negotiation.
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

/*
 * NEEDS (tcp.h): the SYN cookie arithmetic, exported for the unit test
 * (tests/unit/test_tcp_hash.c); the lead may move these prototypes to tcp.h.
 */
uint32_t tcp_syncookie_seq(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			   uint16_t dport, uint32_t seq, uint16_t *mss);
int tcp_syncookie_check(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint32_t seq, uint32_t cookie);
/* NEEDS (tcp.h): the listener-only lookup tcp_in.c uses for a SYN that hits TIME_WAIT. */
struct tcp_sock *tcp_lookup_listener(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t daddr,
				     uint16_t dport, int dif);

#define NPORTS 65536
#define SYNCOOKIE_PERIOD_NS (60ull * NSEC_PER_SEC)	/* TCP_SYNCOOKIE_PERIOD */
#define MAX_SYNCOOKIE_AGE 2
#define COOKIEBITS 24
#define COOKIEMASK ((1u << COOKIEBITS) - 1)
#define TSBITS 6
#define TS_OPT_WSCALE_MASK 0xfu
#define TS_OPT_SACK 0x10u
#define TCP_PAWS_24DAYS (60ull * 60 * 24 * 24)
#define TCP_PAWS_MSL 60
#define TFO_SERVER_ENABLE 0x2
#define TFO_SERVER_COOKIE_NOT_REQD 0x200
#define TCP_FASTOPEN_COOKIE_SIZE 8
#define TCP_TIMEOUT_INIT_NS ((uint64_t)TCP_TIMEOUT_INIT_US * NSEC_PER_USEC)
#define TCP_RTO_MAX_NS ((uint64_t)TCP_RTO_MAX_US * NSEC_PER_USEC)
#define PORT_CONNECT 0x1	/* bucket made by __inet_hash_connect (fastreuse == -1) */

/* What tcp_init puts right behind struct tcp_table. */
struct tcp_hash_priv {
	uint64_t ehash_key[2];
	uint64_t cookie_key[2][2];	/* syncookie_secret[2] */
	/* the ISN a TIME_WAIT sock gave a new SYN (tcp_tw_isn), with its SYN */
	bool tw_isn_valid;
	uint32_t tw_isn, tw_isn_seq, tw_isn_saddr, tw_isn_daddr;
	uint16_t tw_isn_sport, tw_isn_dport;
	uint32_t port_owners[NPORTS];	/* nodes on the bind chain per port */
	uint8_t port_flags[NPORTS];	/* PORT_* */
};

/* A request sock as carved from req_cache. */
struct tcp_req_ext {
	struct tcp_request_sock req;	/* first */
	struct netns *ns;
	uint32_t last_oow_ack_ms;	/* tcp_rsk(req)->last_oow_ack_time, +1 (0: never) */
	bool counted;			/* counted in the listener's syn_qlen */
};

/* A TIME_WAIT sock as carved from tw_cache. */
struct tcp_tw_ext {
	struct tcp_tw_sock tw;		/* first */
	struct netns *ns;
	bool reuseport;			/* tw_reuseport */
	uint32_t last_oow_ack_ms;	/* tw_last_oow_ack_time, +1 (0: never) */
};

static inline struct tcp_hash_priv *priv_of(struct tcp_table *t)
{
	return (struct tcp_hash_priv *)(void *)(t + 1);
}

static inline struct tcp_req_ext *req_ext(struct tcp_request_sock *req)
{
	return (struct tcp_req_ext *)(void *)req;
}

static inline struct tcp_tw_ext *tw_ext(struct tcp_tw_sock *tw)
{
	return (struct tcp_tw_ext *)(void *)tw;
}

static inline struct tcp_sock *hn_sock(struct tcp_hnode *h)
{
	return (struct tcp_sock *)(void *)((char *)h - offsetof(struct tcp_sock, hn));
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

static inline uint64_t now_s(const struct netns *ns)
{
	return netns_now(ns) / NSEC_PER_SEC;
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
 * siphash_u32 - SipHash-2-4 of the n 32-bit words w laid out little endian,
 * as the kernel's siphash_3u32 and friends.  Return: the 64-bit hash.
 */
static uint64_t siphash_u32(const uint64_t key[2], const uint32_t *w, unsigned n)
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

static void ehash_insert(struct tcp_table *t, struct tcp_hnode *h)
{
	struct tcp_hnode **slot = ehash_slot(t, h);

	h->next = *slot;
	*slot = h;
	h->hashed = true;
	t->ehash_count++;
}

static void ehash_remove(struct tcp_table *t, struct tcp_hnode *h)
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

/* ehash_replace - new takes old's place (sk_nulls_replace_node_init_rcu); same 4-tuple. */
static void ehash_replace(struct tcp_table *t, struct tcp_hnode *old, struct tcp_hnode *new)
{
	ehash_remove(t, old);
	ehash_insert(t, new);
}

/* How an owner joins a port: bind(), connect(), or inheriting (child, TIME_WAIT). */
enum { BIND_BY_BIND, BIND_BY_CONNECT, BIND_INHERIT };

/*
 * bind_add - h (its port number set) becomes an owner of the port
 * (inet_bind_hash).  A bucket made by connect stays shareable by connects
 * until a bind() joins it (inet_csk_update_fastreuse) or it empties.
 */
static void bind_add(struct tcp_table *t, struct tcp_hnode *h, int how)
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
	bind_add(t, &tp->hn, BIND_BY_BIND);
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

static void hn_from_sock(struct tcp_sock *tp)
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
	hn_from_sock(tp);
	if (tp->sk.state == TCP_LISTEN) {
		struct tcp_hnode **slot = lhash_slot(t, tp->sk.num);

		/* inet_hash puts IPv4 listeners at the head (the reuseport group order) */
		tp->hn.next = *slot;
		*slot = &tp->hn;
		tp->hn.hashed = true;
	} else {
		ehash_insert(t, &tp->hn);
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
		ehash_remove(t, &tp->hn);
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

/* tw_seconds_after - time_after32(now_s, stamp) */
static inline bool seconds_after(uint64_t now, uint64_t stamp)
{
	return (int32_t)((uint32_t)stamp - (uint32_t)now) < 0;
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
	hn_from_sock(tp);
	ehash_insert(t, &tp->hn);
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
	uint64_t port_offset = siphash_u32(t->secret, w, 3);
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
	hn_from_sock(tp);
	ehash_insert(t, &tp->hn);
ok_hashed:;
	/* a little randomness for the next connect, maximal when ports are free */
	uint32_t r = rand_below(ns, 8) * 2;
	t->hash_connect_perturb[index] += (i > r ? i : r) + 2;
	bind_add(t, &tp->hn, BIND_BY_CONNECT);
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

	return (uint32_t)siphash_u32(ns->tcp->secret, w, 3) + (uint32_t)(netns_now(ns) >> 6);
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
	return (uint32_t)siphash_u32(&ns->tcp->secret[2], w, 2);
}

/* ---- SYN cookies (syncookies.c) ---- */

static const uint16_t msstab[] = { 536, 1300, 1440, 1460 };

static uint32_t cookie_hash(struct tcp_table *t, uint32_t saddr, uint32_t daddr, uint16_t sport,
			    uint16_t dport, uint32_t count, int c)
{
	uint32_t w[4] = { saddr, daddr, (uint32_t)sport << 16 | dport, count };

	return (uint32_t)siphash_u32(priv_of(t)->cookie_key[c], w, 4);
}

static inline uint32_t cookie_time(struct netns *ns)
{
	return (uint32_t)(netns_now(ns) / SYNCOOKIE_PERIOD_NS);
}

/*
 * tcp_syncookie_seq - the SYN cookie ISN for a SYN from saddr:sport to
 * daddr:dport (network order) with sequence number seq
 * (__cookie_v4_init_sequence); *mss, the peer's, is rounded down to msstab.
 * Return: hash(tuple) + seq + minute << 24 + (hash(tuple, minute) + MSS index) mod 2^24.
 */
uint32_t tcp_syncookie_seq(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			   uint16_t dport, uint32_t seq, uint16_t *mss)
{
	struct tcp_table *t = ns->tcp;
	uint32_t count = cookie_time(ns), mssind;

	for (mssind = 3; mssind; mssind--)
		if (*mss >= msstab[mssind])
			break;
	*mss = msstab[mssind];
	return cookie_hash(t, saddr, daddr, sport, dport, 0, 0) + seq + (count << COOKIEBITS) +
	       ((cookie_hash(t, saddr, daddr, sport, dport, count, 1) + mssind) & COOKIEMASK);
}

/*
 * tcp_syncookie_check - decode the cookie (the ACK's ack - 1) of an ACK
 * from saddr:sport to daddr:dport whose SYN had sequence number seq (the
 * ACK's seq - 1) (__cookie_v4_check).
 * Return: the MSS it encodes, or 0 if it is forged or older than 2 minute ticks.
 */
int tcp_syncookie_check(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint32_t seq, uint32_t cookie)
{
	struct tcp_table *t = ns->tcp;
	uint32_t count = cookie_time(ns), diff, mssind;

	cookie -= cookie_hash(t, saddr, daddr, sport, dport, 0, 0) + seq;
	diff = (count - (cookie >> COOKIEBITS)) & (0xffffffffu >> COOKIEBITS);
	if (diff >= MAX_SYNCOOKIE_AGE)
		return 0;
	mssind = (cookie - cookie_hash(t, saddr, daddr, sport, dport, count - diff, 1)) & COOKIEMASK;
	return mssind < 4 ? msstab[mssind] : 0;
}

/*
 * cookie_init_timestamp - the SYN-ACK's TSval (ms, before the offset) with
 * wscale and SACK in its low 6 bits, never ahead of the clock.
 */
static uint32_t cookie_init_timestamp(const struct tcp_request_sock *req, uint32_t ts_now)
{
	uint32_t options = req->wscale_ok ? req->snd_wscale : TS_OPT_WSCALE_MASK, ts;

	if (req->sack_ok)
		options |= TS_OPT_SACK;
	ts = ((ts_now >> TSBITS) << TSBITS) | options;
	if ((int32_t)(ts - ts_now) > 0)
		ts -= 1u << TSBITS;
	return ts;
}

/* tcp_synq_overflow / tcp_synq_no_recent_overflow on the listener (ms + 1; 0: never). */
static void synq_overflow(struct tcp_sock *lp)
{
	struct netns *ns = lp->sk.ns;

	lp->ts_recent_stamp = netns_now(ns) / NSEC_PER_MSEC + 1;
	ns->tcp->last_syncookie_overflow_s = now_s(ns);
}

static bool synq_no_recent_overflow(struct tcp_sock *lp)
{
	uint64_t now = netns_now(lp->sk.ns) / NSEC_PER_MSEC + 1, last = lp->ts_recent_stamp;

	if (!last)
		return true;
	return now + 1000 < last ||
	       now > last + MAX_SYNCOOKIE_AGE * (SYNCOOKIE_PERIOD_NS / NSEC_PER_MSEC);
}

/* ---- Fast Open cookies and the client cache ---- */

/* tcp_fastopen_cookie_gen - the 8-byte cookie for a SYN from saddr (the client) to daddr. */
void tcp_fastopen_cookie_gen(struct netns *ns, uint32_t saddr, uint32_t daddr, uint8_t out[8])
{
	uint32_t w[2] = { saddr, daddr };
	uint64_t v = siphash_u32(ns->tcp->fastopen_key, w, 2);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));	/* cpu_to_le64 */
}

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

/* ---- request socks and the accept queue ---- */

static void reqsk_timer_fn(struct timer *tm, void *arg);

static struct tcp_request_sock *reqsk_alloc(struct tcp_sock *lp)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_req_ext *x = arena_cache_alloc(&ns->tcp->req_cache);

	if (!x)
		return NULL;
	x->ns = ns;
	x->req.hn.kind = TCP_HK_REQ;
	x->req.listener = lp;
	timer_init(&x->req.timer, reqsk_timer_fn, &x->req);
	return &x->req;
}

/*
 * tcp_reqsk_free - forget a request sock (reqsk_free / inet_csk_reqsk_queue_drop)
 * Leaves ehash, stops its timer, leaves the listener's SYN queue count.
 * For a Fast Open request (reqsk_fastopen_remove) the child forgets it and
 * the listener's fastopen_qlen drops: tcp_in.c calls this when the child's
 * handshake ends, tcp.c when such a child closes first.
 */
void tcp_reqsk_free(struct tcp_request_sock *req)
{
	if (!req)
		return;
	struct tcp_req_ext *x = req_ext(req);
	struct netns *ns = x->ns;

	netns_timer_cancel(ns, &req->timer);
	ehash_remove(ns->tcp, &req->hn);
	if (x->counted && req->listener)
		req->listener->syn_qlen--;
	if (req->tfo) {
		if (req->tfo_child && req->tfo_child->fastopen_rsk == req)
			req->tfo_child->fastopen_rsk = NULL;
		if (req->listener && req->listener->fastopen_qlen > 0)
			req->listener->fastopen_qlen--;
	}
	arena_cache_free(&ns->tcp->req_cache, x);
}

/* rtx_synack - inet_rtx_syn_ack + tcp_rtx_synack: no Fast Open cookie the second time. */
static int rtx_synack(struct tcp_request_sock *req)
{
	struct netns *ns = req_ext(req)->ns;
	int r = tcp_send_synack_req(req, NULL, 0);

	if (!r) {
		ns->tcp->mib.retrans_segs++;
		if (req->tfo_child)
			req->tfo_child->total_retrans++;
		req->num_retrans++;
	}
	return r;
}

static uint64_t reqsk_timeout_ns(const struct tcp_request_sock *req)
{
	uint64_t t = req->num_timeout >= 8 ? TCP_RTO_MAX_NS : TCP_TIMEOUT_INIT_NS << req->num_timeout;

	return t < TCP_RTO_MAX_NS ? t : TCP_RTO_MAX_NS;
}

/*
 * reqsk_timer_fn - reqsk_timer_handler: resend the SYN-ACK with a doubling
 * timeout until tcp_synack_retries (or the listener's TCP_SYNCNT) is spent;
 * under TCP_DEFER_ACCEPT a request whose bare ACK came waits quietly until
 * the deferring period nearly ends.  A SYN-ACK that cannot be sent ends
 * the request unless its ACK came.
 */
static void reqsk_timer_fn(struct timer *tm, void *arg)
{
	struct tcp_request_sock *req = arg;
	struct tcp_sock *lp = req->listener;
	struct netns *ns = req_ext(req)->ns;
	int max_retries, defer;
	bool expire, resend;

	(void)tm;
	if (!lp || lp->sk.state != TCP_LISTEN) {
		tcp_reqsk_free(req);
		return;
	}
	max_retries = lp->syn_retries ? lp->syn_retries : ns->tcp->sys.synack_retries;
	defer = lp->defer_accept;
	if (!defer) {
		expire = req->num_timeout >= max_retries;
		resend = true;
	} else {
		expire = req->num_timeout >= max_retries && (!req->acked || req->num_timeout >= defer);
		resend = !req->acked || req->num_timeout >= defer - 1;
	}
	if (!expire && (!resend || !rtx_synack(req) || req->acked)) {
		if (req->num_timeout < 255)
			req->num_timeout++;
		netns_timer_arm(ns, &req->timer, netns_now(ns) + reqsk_timeout_ns(req));
		return;
	}
	tcp_reqsk_free(req);
}

/*
 * tcp_accept_queue_add - queue a child for accept() (inet_csk_reqsk_queue_add);
 * its one reference now belongs to the queue.  Wakes the listener's readers (sk_data_ready).
 */
void tcp_accept_queue_add(struct tcp_sock *lp, struct tcp_sock *child)
{
	child->parent = lp;
	child->acc_next = NULL;
	if (lp->accept_tail)
		lp->accept_tail->acc_next = child;
	else
		lp->accept_head = child;
	lp->accept_tail = child;
	lp->ack_backlog++;
	sk_wake(&lp->sk, POLLIN | POLLRDNORM);
}

/*
 * tcp_accept_queue_pop - the oldest queued child (reqsk_queue_remove)
 * Return: the child with the queue's reference, or NULL if none waits.
 */
struct tcp_sock *tcp_accept_queue_pop(struct tcp_sock *lp)
{
	struct tcp_sock *child = lp->accept_head;

	if (!child)
		return NULL;
	lp->accept_head = child->acc_next;
	if (!lp->accept_head)
		lp->accept_tail = NULL;
	child->acc_next = NULL;
	child->parent = NULL;
	lp->ack_backlog--;
	return child;
}

static inline bool acceptq_is_full(const struct tcp_sock *lp)
{
	return lp->ack_backlog > lp->max_ack_backlog;	/* sk_acceptq_is_full */
}

static uint32_t route_mtu(const struct rt4_result *rt)
{
	return rt->rt && rt->rt->mtu ? rt->rt->mtu : rt->dev ? rt->dev->mtu : 576;
}

/* ipv4_default_advmss + tcp_mss_clamp: the MSS a listener advertises on a path. */
static uint32_t listener_advmss(const struct tcp_sock *lp, uint32_t mtu)
{
	uint32_t mss = mtu > 296 ? mtu - 40 : 256;

	if (mss > 65535 - 40)
		mss = 65535 - 40;
	if (lp->user_mss && lp->user_mss < mss)
		mss = lp->user_mss;
	return mss;
}

/*
 * create_child - tcp_v4_syn_recv_sock + tcp_create_openreq_child: a
 * SYN_RECV socket with the request's negotiated state and the listener's
 * TCP options (sk_clone_lock copies the listener), routed, on the
 * listener's port and in ehash in place of req if req was there.  pk is
 * the segment that completes the handshake (or the Fast Open SYN).
 * Return: the child (one reference), or NULL (accept queue full: counted).
 */
static struct tcp_sock *create_child(struct tcp_sock *lp, struct tcp_request_sock *req,
				     const struct pkt *pk, const struct tcp_repr *th)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	struct sock *csk;
	struct tcp_sock *c;

	if (acceptq_is_full(lp)) {
		t->mib.listen_overflows++;
		t->mib.listen_drops++;
		return NULL;
	}
	if (sock_alloc_child(&lp->sk, &csk)) {
		t->mib.listen_drops++;
		return NULL;
	}
	c = tcp_sk(csk);
	tcp_init_sock(c);
	/* what sk_clone_lock brings along from the listener's tcp_sock */
	c->user_mss = lp->user_mss;
	c->nonagle = lp->nonagle;
	c->keepalive_time_s = lp->keepalive_time_s;
	c->keepalive_intvl_s = lp->keepalive_intvl_s;
	c->keepalive_probes = lp->keepalive_probes;
	c->linger2_s = lp->linger2_s;
	c->syn_retries = lp->syn_retries;
	c->user_timeout_ms = lp->user_timeout_ms;
	c->notsent_lowat = lp->notsent_lowat;
	c->thin_lto = lp->thin_lto;
	c->recvmsg_inq = lp->recvmsg_inq;
	c->save_syn = lp->save_syn;
	c->autocorking = lp->autocorking;
	c->fastopen_connect = lp->fastopen_connect;
	c->fastopen_no_cookie = lp->fastopen_no_cookie;
	c->rto_min_us = lp->rto_min_us;
	c->ca.reno = lp->ca.reno;

	/* inet_csk_clone_lock and tcp_v4_syn_recv_sock's addresses */
	csk->state = TCP_SYN_RECV;
	csk->daddr = req->hn.daddr;
	csk->dport = req->hn.dport;
	csk->rcv_saddr = csk->saddr = req->hn.saddr;
	csk->num = ntohs(req->hn.sport);
	csk->sport = req->hn.sport;
	csk->bound_dev_if = req->hn.bound_dev_if;
	c->inet_id = (uint16_t)netns_random(ns);
	c->retransmits = c->backoff = c->probes_out = 0;
	if (tcp_route(c)) {
		csk->num = 0;
		sock_put_locked(csk);
		t->mib.listen_drops++;
		return NULL;
	}

	/* tcp_create_openreq_child */
	uint64_t now_us = tcp_clock_us(ns);
	c->rcv_wup = c->copied_seq = c->rcv_nxt = req->rcv_isn + 1;
	c->segs_in = 1;
	c->snd_una = c->snd_nxt = c->snd_up = req->snt_isn + 1;
	c->snd_wl1 = req->rcv_isn;	/* tcp_init_wl */
	c->ack.lrcvtime_us = now_us;
	c->lsndtime_us = now_us;
	c->total_retrans = req->num_retrans;
	c->write_seq = c->pushed_seq = req->snt_isn + 1;
	c->snd_isn = req->snt_isn;
	c->rcv_isn = req->rcv_isn;
	c->tstamp_ok = req->tstamp_ok;
	c->sack_ok = req->sack_ok;
	c->window_clamp = req->rsk_window_clamp;
	c->rcv_ssthresh = c->rcv_wnd = req->rsk_rcv_wnd;
	c->wscale_ok = req->wscale_ok;
	if (c->wscale_ok) {
		c->snd_wscale = req->snd_wscale;
		c->rcv_wscale = req->rcv_wscale;
	} else {
		c->snd_wscale = c->rcv_wscale = 0;
		if (c->window_clamp > 65535u)
			c->window_clamp = 65535u;
	}
	c->snd_wnd = (uint32_t)th->window << c->snd_wscale;
	c->max_window = c->snd_wnd;
	if (c->tstamp_ok) {
		c->ts_recent = req->ts_recent;
		c->ts_recent_stamp = now_s(ns);
	} else {
		c->ts_recent_stamp = 0;
	}
	if (req->num_timeout) {
		c->undo_marker = req->snt_isn;
		c->retrans_stamp_us = now_us - (uint32_t)((uint32_t)now_us - req->snt_synack_us);
	}
	c->tsoffset = req->ts_off;
	if (pk->tot_len >= TCP_MSS_DEFAULT)
		c->ack.last_seg_size = (uint16_t)(pk->tot_len > 65535 ? 65535 : pk->tot_len);
	c->mss_clamp = req->mss;
	c->fastopen_rsk = NULL;
	c->fastopen_req.active = false;
	if (csk->flags & SKF_KEEPALIVE)
		tcp_reset_keepalive_timer(c, (uint64_t)tcp_keepalive_time(c) * 1000000u);
	t->mib.passive_opens++;

	/* tcp_v4_syn_recv_sock: MSS from the route, the port, ehash */
	uint32_t mtu = route_mtu(&c->dst);
	tcp_sync_mss(c, mtu);
	c->advmss = (uint16_t)listener_advmss(lp, mtu);
	{
		/* tcp_initialize_rcv_mss */
		uint32_t hint = c->advmss < c->mss_cache ? c->advmss : c->mss_cache;

		if (hint > c->rcv_wnd / 2)
			hint = c->rcv_wnd / 2;
		if (hint > TCP_MSS_DEFAULT)
			hint = TCP_MSS_DEFAULT;
		if (hint < TCP_MIN_MSS)
			hint = TCP_MIN_MSS;
		c->ack.rcv_mss = (uint16_t)hint;
	}
	hn_from_sock(c);
	bind_add(t, &c->hn, BIND_INHERIT);	/* __inet_inherit_port */
	if (req->hn.hashed)
		ehash_replace(t, &req->hn, &c->hn);
	else
		ehash_insert(t, &c->hn);
	return c;
}

/*
 * child_forget - inet_child_forget: a queued child whose listener goes.
 * tcp_disconnect resets what needs it; the queue's reference becomes the
 * orphan's, which tcp_done drops (tcp_orphan_put).
 */
static void child_forget(struct tcp_sock *c)
{
	struct sock *sk = &c->sk;

	if (c->fastopen_rsk) {
		c->fastopen_rsk->listener = NULL;
		tcp_reqsk_free(c->fastopen_rsk);
	}
	if (sk->state == TCP_CLOSE) {
		sock_put_locked(sk);
		return;
	}
	if (TCPF(sk->state) & (TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT) | TCPF(TCP_FIN_WAIT1) |
			       TCPF(TCP_FIN_WAIT2) | TCPF(TCP_SYN_RECV)) ||
	    (c->snd_nxt != c->write_seq && (TCPF(sk->state) & (TCPF(TCP_CLOSING) | TCPF(TCP_LAST_ACK))))) {
		tcp_send_active_reset(c);
		sk->err = ECONNRESET;
	}
	c->orphan = true;
	sk->ns->tcp->orphan_count++;
	tcp_done(c);
}

/* ---- SYN processing (tcp_conn_request) ---- */

/* The options of a SYN as tcp_parse_options takes them on a listener (estab 0). */
struct syn_opts {
	uint16_t mss_clamp;
	uint8_t snd_wscale;
	bool wscale_ok, sack_ok, saw_tstamp;
	uint32_t tsval, tsecr;
};

static void parse_syn_opts(const struct tcp_sysctl *sys, const struct tcp_repr *th, uint16_t user_mss,
			   struct syn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mss_clamp = TCP_MSS_DEFAULT;
	if (th->opt.mss) {
		uint16_t in_mss = th->opt.mss;

		if (user_mss && user_mss < in_mss)
			in_mss = user_mss;
		o->mss_clamp = in_mss;
	}
	if (th->opt.has_wscale && sys->window_scaling) {
		o->wscale_ok = true;
		o->snd_wscale = th->opt.wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : th->opt.wscale;
	}
	o->sack_ok = th->opt.sack_perm && sys->sack;
	if (th->opt.has_ts && sys->timestamps) {
		o->saw_tstamp = true;
		o->tsval = th->opt.tsval;
		o->tsecr = th->opt.tsecr;
	}
}

/* tcp_openreq_init_rwin: the window the SYN-ACK offers, from the listener's buffer. */
static void openreq_init_rwin(struct tcp_request_sock *req, struct tcp_sock *lp, uint32_t mss)
{
	int full_space = tcp_full_space(&lp->sk);
	uint8_t rcv_wscale = 0;

	req->rsk_window_clamp = lp->window_clamp;
	if ((lp->sk.flags & SKF_RCVBUF_LOCK) &&
	    (req->rsk_window_clamp > (uint32_t)full_space || req->rsk_window_clamp == 0))
		req->rsk_window_clamp = (uint32_t)full_space;
	tcp_select_initial_window(&lp->sk, full_space, mss, &req->rsk_rcv_wnd, &req->rsk_window_clamp,
				  req->wscale_ok, &rcv_wscale, 0);
	req->rcv_wscale = rcv_wscale;
}

/*
 * tfo_add_data - tcp_fastopen_add_skb: the data of a Fast Open SYN goes on
 * the child's receive queue at once.  Return: true if pk was taken.
 */
static bool tfo_add_data(struct tcp_sock *c, struct pkt *pk)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(pk);

	if (cb->end_seq == c->rcv_nxt || !pk->tot_len)
		return false;
	c->segs_in = 1;
	c->data_segs_in = 1;
	cb->seq++;
	cb->tcp_flags &= (uint16_t)~TCP_HDR_SYN;
	if (!pk->meta.truesize)
		pk->meta.truesize = pkt_kernel_truesize(pk->tot_len);
	pk->next = NULL;
	pkt_queue_push(&c->sk.rcvq, pk);
	c->sk.rmem += pk->meta.truesize;
	c->rcv_nxt = cb->end_seq;
	c->syn_data_acked = true;
	c->bytes_received = pk->tot_len;
	return true;
}

/*
 * try_fastopen - tcp_try_fastopen: with the server side enabled and room
 * in the listener's Fast Open queue, a SYN with data and a valid cookie
 * (or none needed) gets its child at once; a cookie request or a wrong
 * cookie gets the right cookie in *foc for the SYN-ACK.
 * Return: the child (queued data taken: *taken), or NULL.
 */
static struct tcp_sock *try_fastopen(struct tcp_sock *lp, struct tcp_request_sock *req, struct pkt *pk,
				     const struct tcp_repr *th, int8_t *foc_len, uint8_t *foc, bool *taken)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	bool syn_data = cb->end_seq != cb->seq + 1;
	int8_t len = *foc_len, valid_len = -1;
	uint8_t valid[TCP_FASTOPEN_COOKIE_SIZE];
	struct tcp_sock *c;

	*taken = false;
	if (len == 0)
		t->mib.tfo_cookie_reqs++;
	if (!((t->sys.fastopen & TFO_SERVER_ENABLE) && (syn_data || len >= 0) && lp->fastopen_max_qlen > 0 &&
	      lp->fastopen_qlen < lp->fastopen_max_qlen)) {
		*foc_len = -1;
		return NULL;
	}
	if (!(syn_data && ((t->sys.fastopen & TFO_SERVER_COOKIE_NOT_REQD) || lp->fastopen_no_cookie))) {
		if (len < 0)
			goto no_child;
		tcp_fastopen_cookie_gen(ns, pk->meta.saddr, pk->meta.daddr, valid);
		valid_len = TCP_FASTOPEN_COOKIE_SIZE;
		/* a request, or a cookie that fails: the SYN-ACK brings the right one */
		if (len != TCP_FASTOPEN_COOKIE_SIZE || memcmp(foc, valid, sizeof(valid)))
			goto no_child;
	}
	/* tcp_fastopen_create_child */
	c = create_child(lp, req, pk, th);
	if (!c)
		goto no_child;
	lp->fastopen_qlen++;
	c->fastopen_rsk = req;
	req->tfo = true;
	req->tfo_child = c;
	c->snd_wnd = th->window;	/* a SYN's window is never scaled */
	c->max_window = c->snd_wnd;
	tcp_reset_xmit_timer(c, TCP_TIME_RETRANS, TCP_TIMEOUT_INIT_US, TCP_RTO_MAX_US);
	tcp_init_transfer(c);
	c->rcv_nxt = cb->seq + 1;
	*taken = tfo_add_data(c, pk);
	req->rcv_nxt = c->rcv_nxt;
	c->rcv_wup = c->rcv_nxt;
	*foc_len = -1;
	t->mib.tfo_passive++;
	return c;
no_child:
	if (valid_len > 0)
		memcpy(foc, valid, sizeof(valid));
	*foc_len = valid_len;
	return NULL;
}

static bool tw_isn_take(struct tcp_table *t, const struct pkt *pk, const struct tcp_repr *th, uint32_t *isn)
{
	struct tcp_hash_priv *p = priv_of(t);

	if (!p->tw_isn_valid)
		return false;
	p->tw_isn_valid = false;
	if (p->tw_isn_saddr != pk->meta.saddr || p->tw_isn_daddr != pk->meta.daddr ||
	    p->tw_isn_sport != th->sport || p->tw_isn_dport != th->dport ||
	    p->tw_isn_seq != TCP_SKB_CB(pk)->seq)
		return false;
	*isn = p->tw_isn;
	return true;
}

/*
 * tcp_conn_request - a SYN for listener lp (tcp_conn_request); consumes pk.
 * Drops it when the accept queue is full; answers with a SYN cookie when
 * the SYN queue is full (net.ipv4.tcp_syncookies=1) or always (=2), else
 * keeps a request sock in ehash whose timer resends the SYN-ACK; a Fast
 * Open SYN may get its child at once.  For a cookie SYN-ACK req->ts_off
 * is chosen so that tcp_send_synack_req's TSval (tcp_ts_now + ts_off)
 * carries the options (cookie_init_timestamp).
 */
void tcp_conn_request(struct tcp_sock *lp, struct pkt *pk, const struct tcp_repr *th)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	int syncookies = t->sys.syncookies;
	uint32_t isn = 0, local = pk->meta.daddr, peer = pk->meta.saddr;
	bool want_cookie = false, have_isn, taken = false;
	struct tcp_request_sock *req;
	struct syn_opts o;
	int8_t foc_len = -1;
	uint8_t foc[TCP_FASTOPEN_COOKIE_MAX];
	struct rt4_result rt;

	have_isn = tw_isn_take(t, pk, th, &isn);
	/* tcp_v4_conn_request: never answer SYNs sent to broadcast or multicast */
	if ((ntohl(local) >> 28) == 0xe || ip4_addr_type(ns, local) == RT_BROADCAST)
		goto drop;
	if ((syncookies == 2 || lp->syn_qlen > lp->max_ack_backlog) && !have_isn) {
		if (!syncookies)
			goto drop;
		want_cookie = true;
	}
	if (acceptq_is_full(lp)) {
		t->mib.listen_overflows++;
		goto drop;
	}
	req = reqsk_alloc(lp);
	if (!req)
		goto drop;

	parse_syn_opts(&t->sys, th, lp->user_mss, &o);
	if (!want_cookie && th->opt.fastopen) {
		foc_len = th->opt.fastopen_len;
		if (foc_len > 0)
			memcpy(foc, th->opt.fastopen_cookie, (size_t)foc_len);
	}
	if (want_cookie && !o.saw_tstamp)
		o.wscale_ok = o.sack_ok = false, o.snd_wscale = 0;	/* tcp_clear_options */

	/* tcp_openreq_init */
	req->rcv_isn = cb->seq;
	req->rcv_nxt = cb->seq + 1;
	req->mss = o.mss_clamp;
	req->ts_recent = o.saw_tstamp ? o.tsval : 0;
	req->tstamp_ok = o.saw_tstamp;
	req->sack_ok = o.sack_ok;
	req->snd_wscale = o.snd_wscale;
	req->wscale_ok = o.wscale_ok;
	req->hn.saddr = local;
	req->hn.daddr = peer;
	req->hn.sport = th->dport;
	req->hn.dport = th->sport;
	req->hn.bound_dev_if = lp->sk.bound_dev_if;

	if (ip4_route_output(ns, peer, local, req->hn.bound_dev_if, 0, &rt))
		goto drop_and_free;
	if (req->tstamp_ok)
		req->ts_off = tcp_secure_ts_off(ns, local, peer);
	if (!want_cookie && !have_isn) {
		int max_syn_backlog = t->sys.max_syn_backlog;

		/* without syncookies the last quarter of the queue is for proven peers */
		if (!syncookies && max_syn_backlog - lp->syn_qlen < (max_syn_backlog >> 2))
			goto drop_and_free;
		isn = tcp_secure_seq(ns, local, peer, th->dport, th->sport);
	}
	if (want_cookie) {
		uint16_t mss = req->mss;

		synq_overflow(lp);
		t->mib.syncookies_sent++;
		isn = tcp_syncookie_seq(ns, peer, local, th->sport, th->dport, cb->seq, &mss);
		req->mss = mss;
	}
	req->snt_isn = isn;
	openreq_init_rwin(req, lp, listener_advmss(lp, route_mtu(&rt)) - (req->tstamp_ok ? 12u : 0u));

	struct tcp_sock *child = NULL;
	if (!want_cookie)
		child = try_fastopen(lp, req, pk, th, &foc_len, foc, &taken);
	req->snt_synack_us = (uint32_t)tcp_clock_us(ns);
	if (child) {
		tcp_send_synack_req(req, foc_len > 0 ? foc : NULL, foc_len > 0 ? (uint8_t)foc_len : 0);
		if (lp->sk.state != TCP_LISTEN) {
			child_forget(child);
			goto drop_out;
		}
		tcp_accept_queue_add(lp, child);
		if (!taken)
			pkt_free(pk);
		return;
	}
	if (want_cookie) {
		if (req->tstamp_ok) {
			uint32_t now = tcp_ts_now(ns);

			req->ts_off += cookie_init_timestamp(req, now) - now;
		}
		tcp_send_synack_req(req, NULL, 0);
		tcp_reqsk_free(req);
		pkt_free(pk);
		return;
	}
	/* inet_csk_reqsk_queue_hash_add */
	ehash_insert(t, &req->hn);
	req_ext(req)->counted = true;
	lp->syn_qlen++;
	netns_timer_arm(ns, &req->timer, netns_now(ns) + TCP_TIMEOUT_INIT_NS);
	tcp_send_synack_req(req, foc_len > 0 ? foc : NULL, foc_len > 0 ? (uint8_t)foc_len : 0);
	pkt_free(pk);
	return;

drop_and_free:
	tcp_reqsk_free(req);
drop:
	t->mib.listen_drops++;
	pkt_free(pk);
	return;
drop_out:
	t->mib.listen_drops++;
	if (!taken)
		pkt_free(pk);
}

/* ---- the handshake's ACK (tcp_check_req) ---- */

static inline bool in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win)
{
	if (seq == s_win)
		return true;
	if (tcp_after(end_seq, s_win) && tcp_before(seq, e_win))
		return true;
	return seq == e_win && seq == end_seq;
}

/* tcp_paws_reject with the given TS.Recent and its age. */
static bool paws_reject(uint32_t ts_recent, uint64_t ts_recent_stamp, uint32_t tsval, bool rst,
			uint64_t now)
{
	if ((int32_t)(ts_recent - tsval) <= 0)
		return false;
	if (!seconds_after(ts_recent_stamp + TCP_PAWS_24DAYS, now))
		return false;
	if (!ts_recent)
		return false;
	if (rst && !seconds_after(ts_recent_stamp + TCP_PAWS_MSL, now))
		return false;
	return true;
}

/* tcp_oow_rate_limited: at most one dupack per tcp_invalid_ratelimit ms. */
static bool oow_rate_limited(struct netns *ns, const struct pkt *pk, const struct tcp_repr *th,
			     uint32_t *last)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t now = tcp_ts_now(ns) + 1;

	if (cb->seq != cb->end_seq && !(th->flags & TCP_HDR_SYN))
		return false;
	if (*last) {
		int32_t elapsed = (int32_t)(now - *last);

		if (elapsed >= 0 && elapsed < ns->tcp->sys.invalid_ratelimit)
			return true;
	}
	*last = now;
	return false;
}

/* tcp_v4_reqsk_send_ack: ACK for an out-of-window segment of a pending handshake. */
static void reqsk_send_ack(struct tcp_request_sock *req, struct tcp_sock *sk_or_child)
{
	struct netns *ns = req_ext(req)->ns;
	uint32_t seq = sk_or_child ? sk_or_child->snd_nxt : req->snt_isn + 1;
	uint32_t win = req->rsk_rcv_wnd < 65535u ? req->rsk_rcv_wnd : 65535u;

	tcp_v4_send_ack(ns, req->hn.saddr, req->hn.daddr, req->hn.sport, req->hn.dport, seq, req->rcv_nxt,
			win >> req->rcv_wscale, req->tstamp_ok ? tcp_ts_now(ns) + req->ts_off : 0,
			req->tstamp_ok ? req->ts_recent : 0, req->hn.bound_dev_if, 0);
}

/*
 * tcp_check_req - a segment for a pending handshake (tcp_check_req);
 * pk is consumed when NULL is returned.  A retransmitted SYN gets the SYN-ACK again; an ACK that does not ack
 * our SYN gets a RST; out of window gets an ACK; RST or SYN ends the
 * request (SYN: with a RST).  The handshake's ACK creates the child, puts
 * it on the listener's accept queue in SYN_RECV and returns it: the
 * caller runs tcp_rcv_state_process(child, pk, th).  Under
 * TCP_DEFER_ACCEPT a bare ACK is dropped and remembered.  If the accept
 * queue is full the ACK is dropped (the SYN-ACK timer keeps the request)
 * or, with tcp_abort_on_overflow, answered by a RST.  For a Fast Open
 * request the checks run against its child, which is returned if pk is
 * to be processed.
 * Return: the child, or NULL.
 */
struct tcp_sock *tcp_check_req(struct tcp_request_sock *req, struct pkt *pk, const struct tcp_repr *th)
{
	struct tcp_req_ext *x = req_ext(req);
	struct netns *ns = x->ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	struct tcp_sock *lp = req->listener, *child;
	uint16_t flg = th->flags & (TCP_HDR_RST | TCP_HDR_SYN | TCP_HDR_ACK);
	bool fastopen = req->tfo, paws = false, saw_tstamp = false;
	uint32_t tsval = 0;

	if (!fastopen && (!lp || lp->sk.state != TCP_LISTEN)) {
		/* the listener went: the kernel looks again and finds nobody */
		tcp_reqsk_free(req);
		if (!(th->flags & TCP_HDR_RST))
			tcp_v4_send_reset(ns, pk, th, pk->tot_len);
		goto drop;
	}
	if (th->doff > 5 && th->opt.has_ts && t->sys.timestamps) {
		uint64_t stamp, now = now_s(ns);

		saw_tstamp = true;
		tsval = th->opt.tsval;
		stamp = now - ((TCP_TIMEOUT_INIT_US / 1000000u) << (req->num_timeout > 30 ? 30 : req->num_timeout));
		paws = paws_reject(req->ts_recent, stamp, tsval, th->flags & TCP_HDR_RST, now);
	}

	/* a pure retransmitted SYN: the SYN-ACK again, timer restarted */
	if (cb->seq == req->rcv_isn && flg == TCP_HDR_SYN && !paws) {
		if (!oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms) && !rtx_synack(req) && !fastopen &&
		    timer_pending(&req->timer))
			netns_timer_arm(ns, &req->timer, netns_now(ns) + reqsk_timeout_ns(req));
		goto drop;
	}
	/* an ACK of something we did not send: RST from the listener */
	if ((flg & TCP_HDR_ACK) && !fastopen && cb->ack_seq != req->snt_isn + 1) {
		tcp_v4_send_reset(ns, pk, th, pk->tot_len);
		goto drop;
	}
	if (paws || !in_window(cb->seq, cb->end_seq, req->rcv_nxt, req->rcv_nxt + req->rsk_rcv_wnd)) {
		if (!(flg & TCP_HDR_RST) && !oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms))
			reqsk_send_ack(req, fastopen ? req->tfo_child : NULL);
		goto drop;
	}
	if (saw_tstamp && !tcp_after(cb->seq, req->rcv_nxt))
		req->ts_recent = tsval;
	if (cb->seq == req->rcv_isn)
		flg &= (uint16_t)~TCP_HDR_SYN;	/* the SYN is left of the window */
	if (flg & (TCP_HDR_RST | TCP_HDR_SYN)) {
		t->mib.attempt_fails++;
		goto embryonic_reset;
	}
	if (!(flg & TCP_HDR_ACK))
		goto drop;
	if (fastopen)
		return req->tfo_child;
	if (req->num_timeout < lp->defer_accept && cb->end_seq == req->rcv_isn + 1) {
		req->acked = true;
		goto drop;
	}
	child = create_child(lp, req, pk, th);
	if (!child) {
		if (!t->sys.abort_on_overflow) {
			req->acked = true;
			goto drop;
		}
		goto embryonic_reset;
	}
	if (!req->num_retrans && req->snt_synack_us)
		tcp_synack_rtt_meas(child, (uint32_t)tcp_clock_us(ns) - req->snt_synack_us);
	tcp_reqsk_free(req);
	tcp_accept_queue_add(lp, child);
	return child;

embryonic_reset:
	if (!(flg & TCP_HDR_RST)) {
		tcp_v4_send_reset(ns, pk, th, pk->tot_len);
	} else if (fastopen) {
		struct tcp_sock *c = req->tfo_child;

		tcp_reqsk_free(req);
		if (c)
			tcp_reset(c);
	}
	if (!fastopen)
		tcp_reqsk_free(req);
drop:
	pkt_free(pk);
	return NULL;
}

/*
 * tcp_cookie_check - a bare ACK to a listener that may answer a SYN cookie
 * (cookie_v4_check); pk is not consumed.  Only while the listener's SYN queue overflowed in the last two minutes
 * (or syncookies=2 made it send cookies).  The cookie gives the MSS; the
 * echoed timestamp gives window scaling and SACK; the child is built as
 * tcp_check_req builds it and queued for accept.
 * Return: the child, or NULL (no valid cookie, queue full, no memory).
 */
struct tcp_sock *tcp_cookie_check(struct tcp_sock *lp, struct pkt *pk, const struct tcp_repr *th)
{
	struct netns *ns = lp->sk.ns;
	struct tcp_table *t = ns->tcp;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(pk);
	uint32_t cookie = cb->ack_seq - 1, local = pk->meta.daddr, peer = pk->meta.saddr, tsoff = 0;
	bool saw_tstamp, wscale_ok = false, sack_ok = false;
	uint8_t snd_wscale = 0;
	struct tcp_request_sock *req;
	struct tcp_sock *child;
	struct rt4_result rt;
	int mss;

	if (!t->sys.syncookies || !(th->flags & TCP_HDR_ACK) || (th->flags & (TCP_HDR_RST | TCP_HDR_SYN)))
		return NULL;
	if (synq_no_recent_overflow(lp))
		return NULL;
	mss = tcp_syncookie_check(ns, peer, local, th->sport, th->dport, cb->seq - 1, cookie);
	if (!mss) {
		t->mib.syncookies_failed++;
		return NULL;
	}
	t->mib.syncookies_recv++;

	/* cookie_timestamp_decode */
	saw_tstamp = th->opt.has_ts && t->sys.timestamps;
	if (saw_tstamp) {
		uint32_t tsecr = th->opt.tsecr;

		if (tsecr) {
			tsoff = tcp_secure_ts_off(ns, local, peer);
			tsecr -= tsoff;
		}
		sack_ok = tsecr & TS_OPT_SACK;
		if (sack_ok && !t->sys.sack)
			return NULL;
		if ((tsecr & TS_OPT_WSCALE_MASK) != TS_OPT_WSCALE_MASK) {
			wscale_ok = true;
			snd_wscale = tsecr & TS_OPT_WSCALE_MASK;
			if (!t->sys.window_scaling)
				return NULL;
		}
	}
	req = reqsk_alloc(lp);
	if (!req)
		return NULL;
	req->rcv_isn = cb->seq - 1;
	req->rcv_nxt = cb->seq;
	req->snt_isn = cookie;
	req->mss = (uint16_t)mss;
	req->hn.saddr = local;
	req->hn.daddr = peer;
	req->hn.sport = th->dport;
	req->hn.dport = th->sport;
	req->hn.bound_dev_if = lp->sk.bound_dev_if;
	req->snd_wscale = snd_wscale;
	req->sack_ok = sack_ok;
	req->wscale_ok = wscale_ok;
	req->tstamp_ok = saw_tstamp;
	req->ts_recent = saw_tstamp ? th->opt.tsval : 0;
	if (ip4_route_output(ns, peer, local, req->hn.bound_dev_if, 0, &rt)) {
		tcp_reqsk_free(req);
		return NULL;
	}
	/* try to redo what tcp_v4_send_synack did: the MSS as decoded, not less timestamps */
	openreq_init_rwin(req, lp, req->mss);
	child = create_child(lp, req, pk, th);
	if (child) {
		child->tsoffset = tsoff;
		tcp_accept_queue_add(lp, child);
	}
	tcp_reqsk_free(req);
	return child;
}

/*
 * tcp_listen_stop - listener lp, already out of LISTEN, closes
 * (inet_csk_listen_stop).  Queued children are reset (tcp_disconnect) and closed; request socks of
 * the listener are freed, and Fast Open requests of children already
 * accepted forget it.
 */
void tcp_listen_stop(struct tcp_sock *lp)
{
	struct tcp_table *t = lp->sk.ns->tcp;
	struct tcp_sock *c;

	while ((c = tcp_accept_queue_pop(lp)) != NULL)
		child_forget(c);
	if (!lp->syn_qlen && !lp->fastopen_qlen)
		return;
	for (unsigned i = 0; i < TCP_EHASH_SIZE; i++) {
		struct tcp_hnode *h = t->ehash[i], *next;

		for (; h; h = next) {
			next = h->next;
			if (h->kind == TCP_HK_REQ) {
				struct tcp_request_sock *req = (struct tcp_request_sock *)(void *)h;

				if (req->listener == lp)
					tcp_reqsk_free(req);
			} else if (h->kind == TCP_HK_SOCK) {
				struct tcp_request_sock *req = hn_sock(h)->fastopen_rsk;

				if (req && req->listener == lp)
					req->listener = NULL;
			}
		}
	}
	lp->syn_qlen = 0;
	lp->fastopen_qlen = 0;
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
			bind_add(t, &tw->hn, BIND_INHERIT);
		if (tp->hn.hashed)
			ehash_replace(t, &tp->hn, &tw->hn);
		else
			ehash_insert(t, &tw->hn);
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
	ehash_remove(t, &tw->hn);
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
		paws = paws_reject(tw->ts_recent, tw->ts_recent_stamp, tsval, rst, now);
	}
	if (tw->tw_substate == TCP_FIN_WAIT2) {
		if (paws || !in_window(cb->seq, cb->end_seq, tw->rcv_nxt, tw->rcv_nxt + tw->rcv_wnd))
			return oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms) ? TCP_TW_SUCCESS : TCP_TW_ACK;
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
		return oow_rate_limited(ns, pk, th, &x->last_oow_ack_ms) ? TCP_TW_SUCCESS : TCP_TW_ACK;
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
