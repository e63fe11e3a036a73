/* SPDX-License-Identifier: MIT */
/*
 * ipcmd.c - configuration in iproute2's words, and /proc/sys/net settings
 *
 * usock_ip() takes one `ip` command without the leading "ip" and does what
 * iproute2 would ask the kernel to do, so that one topology text drives
 * both `ip -n NS ...` and usock.  The grammar is the subset a test or a
 * launcher needs (link add veth / set / del, addr add/del/show, route
 * add/del/show, neigh add/replace/del/show, link show, and tc's words for
 * netem on a veth end or TAP device: qdisc add/change/replace/del/show);
 * anything else is EINVAL rather than a silent no-op.  usock_sysctl()
 * reads and writes the per-namespace settings by their /proc/sys/net names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errno_edge.h"
#include "ip/ip4.h"
#include "ip/neigh.h"
#include "link/qdisc.h"
#include "net/netns_internal.h"
#include "tcp/tcp.h"
#include "usock.h"

#define MAXTOK 24

static int tokenize(char *s, char **tok)
{
	int n = 0;
	for (char *p = strtok(s, " \t\n"); p && n < MAXTOK; p = strtok(NULL, " \t\n"))
		tok[n++] = p;
	return n;
}

static const char *opt(char **tok, int n, const char *key)
{
	for (int i = 0; i + 1 < n; i++)
		if (strcmp(tok[i], key) == 0)
			return tok[i + 1];
	return NULL;
}

static int parse_prefix(const char *s, uint32_t *addr, int *plen)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	*plen = 32;
	if (slash) {
		*slash = 0;
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || v < 0 || v > 32)
			return -EINVAL;
		*plen = (int)v;
	}
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static void out_append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void out_append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
{
	if (!out || *pos >= outlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static int cmd_link(struct netns *ns, char **tok, int n, char *out, size_t outlen)
{
	if (n >= 2 && strcmp(tok[1], "add") == 0) {
		/* link add NAME type veth peer name PEER [netns NS] */
		if (n < 3)
			return -EINVAL;
		const char *name = tok[2];
		const char *type = opt(tok, n, "type");
		if (!type || strcmp(type, "veth") != 0)
			return -EOPNOTSUPP;
		const char *peer = opt(tok, n, "name");
		if (!peer)
			return -EINVAL;
		const char *pns = opt(tok, n, "netns");
		struct netns *nb = pns ? netns_find(pns) : ns;
		if (!nb)
			return -ENOENT;
		if (nb != ns)
			netns_lock(nb);
		int r = link_veth_pair(ns, name, nb, peer);
		if (nb != ns)
			netns_unlock(nb);
		return r;
	}
	if (n >= 3 && strcmp(tok[1], "set") == 0) {
		struct netdev *d = netns_dev_by_name(ns, tok[2]);
		if (!d)
			return -ENODEV;
		for (int i = 3; i < n; i++) {
			if (strcmp(tok[i], "up") == 0) {
				netns_dev_set_up(ns, d, true);
			} else if (strcmp(tok[i], "down") == 0) {
				netns_dev_set_up(ns, d, false);
			} else if (strcmp(tok[i], "mtu") == 0 && i + 1 < n) {
				long v = strtol(tok[++i], NULL, 10);
				/* eth_validate_mtu: 68..65535; lo allows up to 65536 */
				long max = d->type == ARPHRD_LOOPBACK ? 65536 : 65535;
				if (v < 68 || v > max)
					return -EINVAL;
				d->mtu = (uint32_t)v;
			} else if (strcmp(tok[i], "address") == 0 && i + 1 < n) {
				if (parse_mac(tok[++i], d->hwaddr))
					return -EINVAL;
			} else {
				return -EINVAL;
			}
		}
		return 0;
	}
	if (n >= 3 && (strcmp(tok[1], "del") == 0 || strcmp(tok[1], "delete") == 0)) {
		struct netdev *d = netns_dev_by_name(ns, tok[2]);
		if (!d)
			return -ENODEV;
		if (d->type == ARPHRD_LOOPBACK)
			return -EOPNOTSUPP;
		netns_dev_remove(ns, d);
		return 0;
	}
	if (n >= 2 && strcmp(tok[1], "show") == 0) {
		size_t pos = 0;
		for (int i = 1; i < NETNS_MAX_DEV; i++) {
			struct netdev *d = ns->dev[i];
			if (!d)
				continue;
			out_append(out, outlen, &pos,
				   "%d: %s: <%s%s%s> mtu %u state %s\n    link/%s "
				   "%02x:%02x:%02x:%02x:%02x:%02x\n",
				   d->ifindex, d->name, d->type == ARPHRD_LOOPBACK ? "LOOPBACK" : "BROADCAST",
				   (d->flags & IFF_UP) ? ",UP" : "", (d->flags & IFF_UP) ? ",LOWER_UP" : "",
				   d->mtu, (d->flags & IFF_UP) ? (d->type == ARPHRD_LOOPBACK ? "UNKNOWN" : "UP")
							      : "DOWN",
				   d->type == ARPHRD_LOOPBACK ? "loopback" : "ether", d->hwaddr[0],
				   d->hwaddr[1], d->hwaddr[2], d->hwaddr[3], d->hwaddr[4], d->hwaddr[5]);
		}
		return 0;
	}
	return -EINVAL;
}

static int cmd_addr(struct netns *ns, char **tok, int n, char *out, size_t outlen)
{
	if (n >= 2 && strcmp(tok[1], "show") == 0) {
		size_t pos = 0;
		const char *only = opt(tok, n, "dev");
		for (int i = 1; i < NETNS_MAX_DEV; i++) {
			struct netdev *d = ns->dev[i];
			if (!d || (only && strcmp(only, d->name) != 0))
				continue;
			out_append(out, outlen, &pos, "%d: %s: mtu %u %s\n", d->ifindex, d->name, d->mtu,
				   (d->flags & IFF_UP) ? "UP" : "DOWN");
			for (unsigned j = 0; j < d->naddr4; j++) {
				char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
				inet_ntop(AF_INET, &d->addr4[j].addr, a, sizeof(a));
				inet_ntop(AF_INET, &d->addr4[j].bcast, b, sizeof(b));
				if (d->addr4[j].bcast)
					out_append(out, outlen, &pos, "    inet %s/%u brd %s scope global %s\n", a,
						   d->addr4[j].prefixlen, b, d->name);
				else
					out_append(out, outlen, &pos, "    inet %s/%u scope %s %s\n", a,
						   d->addr4[j].prefixlen,
						   d->type == ARPHRD_LOOPBACK ? "host" : "global", d->name);
			}
		}
		return 0;
	}
	if (n < 3)
		return -EINVAL;
	bool add = strcmp(tok[1], "add") == 0;
	bool del = strcmp(tok[1], "del") == 0 || strcmp(tok[1], "delete") == 0;
	if (!add && !del)
		return -EINVAL;
	uint32_t addr;
	int plen;
	if (parse_prefix(tok[2], &addr, &plen))
		return -EINVAL;
	const char *dev = opt(tok, n, "dev");
	struct netdev *d = dev ? netns_dev_by_name(ns, dev) : NULL;
	if (!d)
		return -ENODEV;
	if (del)
		return ip4_addr_del(ns, d, addr, plen);
	uint32_t bcast = 0;
	const char *brd = opt(tok, n, "brd");
	if (!brd)
		brd = opt(tok, n, "broadcast");
	if (brd && strcmp(brd, "+") == 0 && plen < 31) {
		uint32_t m = plen ? htonl(~0u << (32 - plen)) : 0;
		bcast = addr | ~m;
	} else if (brd) {
		struct in_addr b;
		if (inet_pton(AF_INET, brd, &b) != 1)
			return -EINVAL;
		bcast = b.s_addr;
	}
	return ip4_addr_add(ns, d, addr, plen, bcast);
}

static int cmd_route(struct netns *ns, char **tok, int n, char *out, size_t outlen)
{
	const char *table = opt(tok, n, "table");
	int tb = table && strcmp(table, "local") == 0 ? RT_TABLE_LOCAL : RT_TABLE_MAIN;
	if (n == 1 || strcmp(tok[1], "show") == 0 || strcmp(tok[1], "list") == 0) {
		int need = ip4_route_show(ns, tb, out, outlen);
		return need >= 0 ? 0 : need;
	}
	if (n < 3)
		return -EINVAL;
	bool add = strcmp(tok[1], "add") == 0 || strcmp(tok[1], "replace") == 0;
	bool del = strcmp(tok[1], "del") == 0 || strcmp(tok[1], "delete") == 0;
	if (!add && !del)
		return -EINVAL;
	struct rt4 r;
	memset(&r, 0, sizeof(r));
	int i = 2;
	if (strcmp(tok[i], "unreachable") == 0 || strcmp(tok[i], "blackhole") == 0 ||
	    strcmp(tok[i], "prohibit") == 0) {
		r.type = tok[i][0] == 'u' ? RT_UNREACHABLE : tok[i][0] == 'b' ? RT_BLACKHOLE : RT_PROHIBIT;
		r.scope = RT_SCOPE_UNIVERSE;
		r.ifindex = ns->lo->ifindex;
		i++;
	}
	if (i >= n)
		return -EINVAL;
	int plen;
	if (strcmp(tok[i], "default") == 0) {
		r.dst = 0;
		plen = 0;
	} else if (parse_prefix(tok[i], &r.dst, &plen)) {
		return -EINVAL;
	}
	r.plen = (uint8_t)plen;
	r.table = (uint8_t)tb;
	const char *via = opt(tok, n, "via");
	if (via) {
		struct in_addr g;
		if (inet_pton(AF_INET, via, &g) != 1)
			return -EINVAL;
		r.gw = g.s_addr;
	}
	const char *dev = opt(tok, n, "dev");
	if (dev) {
		struct netdev *d = netns_dev_by_name(ns, dev);
		if (!d)
			return -ENODEV;
		r.ifindex = d->ifindex;
	}
	const char *src = opt(tok, n, "src");
	if (src) {
		struct in_addr s;
		if (inet_pton(AF_INET, src, &s) != 1)
			return -EINVAL;
		r.prefsrc = s.s_addr;
	}
	const char *metric = opt(tok, n, "metric");
	if (!metric)
		metric = opt(tok, n, "priority");
	if (metric)
		r.metric = (uint32_t)strtoul(metric, NULL, 10);
	const char *mtu = opt(tok, n, "mtu");
	if (mtu)
		r.mtu = (uint32_t)strtoul(mtu, NULL, 10);
	if (del)
		return ip4_route_del(ns, &r);
	if (strcmp(tok[1], "replace") == 0)
		ip4_route_del(ns, &r);
	return ip4_route_add(ns, &r);
}

static int cmd_neigh(struct netns *ns, char **tok, int n, char *out, size_t outlen)
{
	if (n == 1 || strcmp(tok[1], "show") == 0) {
		if (out && outlen)
			out[0] = 0;
		neigh_show(ns, out, (unsigned)outlen);
		return 0;
	}
	if (n < 3)
		return -EINVAL;
	uint32_t addr;
	int plen;
	if (parse_prefix(tok[2], &addr, &plen) || plen != 32)
		return -EINVAL;
	const char *dev = opt(tok, n, "dev");
	struct netdev *d = dev ? netns_dev_by_name(ns, dev) : NULL;
	if (!d)
		return -ENODEV;
	if (strcmp(tok[1], "del") == 0 || strcmp(tok[1], "delete") == 0)
		return neigh_del(ns, d, addr);
	if (strcmp(tok[1], "add") != 0 && strcmp(tok[1], "replace") != 0 &&
	    strcmp(tok[1], "change") != 0)
		return -EINVAL;
	uint8_t mac[6] = {0};
	const char *ll = opt(tok, n, "lladdr");
	if (ll && parse_mac(ll, mac))
		return -EINVAL;
	unsigned nud = NUD_PERMANENT;
	const char *st = opt(tok, n, "nud");
	if (st) {
		static const struct {
			const char *name;
			unsigned nud;
		} m[] = {{"permanent", NUD_PERMANENT}, {"reachable", NUD_REACHABLE},
			 {"stale", NUD_STALE},	       {"delay", NUD_DELAY},
			 {"probe", NUD_PROBE},	       {"failed", NUD_FAILED},
			 {"noarp", NUD_NOARP},	       {"incomplete", NUD_INCOMPLETE},
			 {"none", NUD_NONE}};
		unsigned i;
		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
			if (strcmp(st, m[i].name) == 0)
				break;
		if (i == sizeof(m) / sizeof(m[0]))
			return -EINVAL;
		nud = m[i].nud;
	}
	/* `ip neigh add` is NLM_F_CREATE|NLM_F_EXCL: an existing entry is EEXIST */
	if (strcmp(tok[1], "add") == 0 && neigh_lookup_state(ns, d, addr, NULL) != NUD_NONE)
		return -EEXIST;
	return neigh_add(ns, d, addr, mac, nud);
}

/* ---- qdisc: tc's words for netem on a device's egress (link/qdisc.h) ---- */

struct unit {
	const char *sfx;
	double mult;
};

/* A number with one of the units of tbl (iproute2's get_time/get_rate). Return: 0, -EINVAL. */
static int parse_scaled(const char *s, const struct unit *tbl, size_t n, double max, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(end, tbl[i].sfx) == 0) {
			double r = v * tbl[i].mult + 0.5;
			if (r >= max)
				return -EINVAL;
			*out = r;
			return 0;
		}
	return -EINVAL;
}

/* A netem TIME as iproute2's get_time reads it: a bare number is µs. Return: 0, -EINVAL. */
static int parse_time_ns(const char *s, uint64_t *ns)
{
	static const struct unit u[] = {
		{"", 1e3},	 {"s", 1e9},	 {"sec", 1e9},	 {"secs", 1e9}, {"ms", 1e6},
		{"msec", 1e6}, {"msecs", 1e6}, {"us", 1e3},	 {"usec", 1e3}, {"usecs", 1e3},
		{"ns", 1},	 {"nsec", 1},	 {"nsecs", 1}};
	double r;
	int e = parse_scaled(s, u, sizeof(u) / sizeof(u[0]), 1.8e19, &r);
	if (!e)
		*ns = (uint64_t)r;
	return e;
}

/* A netem RATE as iproute2's get_rate reads it: a bare number is bit/s. Return: 0, -EINVAL. */
static int parse_rate(const char *s, uint32_t *bps)
{
	static const struct unit u[] = {
		{"", 1},		{"bit", 1},	     {"kbit", 1e3},	{"mbit", 1e6},
		{"gbit", 1e9},		{"kibit", 1024.},    {"mibit", 1048576.}, {"gibit", 1073741824.},
		{"bps", 8},		{"kbps", 8e3},	     {"mbps", 8e6},	{"gbps", 8e9},
		{"kibps", 8192.},	{"mibps", 8388608.}};
	double r;
	int e = parse_scaled(s, u, sizeof(u) / sizeof(u[0]), 4294967296.0, &r);
	if (!e)
		*bps = (uint32_t)r;
	return e;
}

/* A netem PERCENT ("5%", "0.1%" or "5") in parts per million. Return: 0, -EINVAL. */
static int parse_ppm(const char *s, uint32_t *ppm)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || (*end && strcmp(end, "%") != 0) || !(v >= 0 && v <= 100))
		return -EINVAL;
	*ppm = (uint32_t)(v * 10000 + 0.5);
	return 0;
}

/* An optional CORRELATION after a netem value. Return: 0, -EOPNOTSUPP unless it is 0. */
static int skip_correlation(char **tok, int n, int *i)
{
	uint32_t c;
	if (*i + 1 < n && parse_ppm(tok[*i + 1], &c) == 0) {
		(*i)++;
		if (c)
			return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * netem OPTIONS from tok[i]: limit, delay, loss [random], duplicate,
 * reorder, rate, seed.
 * Return: 0, -EINVAL (bad value or word), -EOPNOTSUPP (a netem word usock
 * does not model: corrupt, distribution, gap, slot, ecn, loss models,
 * non-zero correlations).
 */
static int parse_netem(struct netns *ns, char **tok, int n, int i, struct link_impair *im)
{
	bool seeded = false;
	memset(im, 0, sizeof(*im));
	for (; i < n; i++) {
		const char *k = tok[i];
		bool more = i + 1 < n;
		int r = 0;
		if (strcmp(k, "limit") == 0 && more) {
			char *end;
			unsigned long v = strtoul(tok[++i], &end, 10);
			if (*end || v == 0 || v > UINT32_MAX)
				return -EINVAL;
			im->limit = (uint32_t)v;
		} else if ((strcmp(k, "delay") == 0 || strcmp(k, "latency") == 0) && more) {
			r = parse_time_ns(tok[++i], &im->delay_ns);
			if (!r && i + 1 < n && parse_time_ns(tok[i + 1], &im->jitter_ns) == 0) {
				i++;
				r = skip_correlation(tok, n, &i);
			}
		} else if ((strcmp(k, "loss") == 0 || strcmp(k, "drop") == 0) && more) {
			if (strcmp(tok[i + 1], "random") == 0 && ++i + 1 >= n)
				return -EINVAL;
			if (strcmp(tok[i + 1], "state") == 0 || strcmp(tok[i + 1], "gemodel") == 0)
				return -EOPNOTSUPP;
			r = parse_ppm(tok[++i], &im->loss_ppm);
			if (!r)
				r = skip_correlation(tok, n, &i);
		} else if (strcmp(k, "duplicate") == 0 && more) {
			r = parse_ppm(tok[++i], &im->dup_ppm);
			if (!r)
				r = skip_correlation(tok, n, &i);
		} else if (strcmp(k, "reorder") == 0 && more) {
			r = parse_ppm(tok[++i], &im->reorder_ppm);
			if (!r)
				r = skip_correlation(tok, n, &i);
		} else if (strcmp(k, "rate") == 0 && more) {
			r = parse_rate(tok[++i], &im->rate_bps);
		} else if (strcmp(k, "seed") == 0 && more) {
			char *end;
			im->seed = strtoull(tok[++i], &end, 0);
			if (*end || !*tok[i])
				return -EINVAL;
			seeded = true;
		} else if (strcmp(k, "corrupt") == 0 || strcmp(k, "distribution") == 0 ||
			   strcmp(k, "gap") == 0 || strcmp(k, "slot") == 0 || strcmp(k, "ecn") == 0) {
			return -EOPNOTSUPP;
		} else {
			return -EINVAL;
		}
		if (r)
			return r;
	}
	/* without a seed netem draws one (get_random_u64 in netem_change) */
	if (!seeded)
		im->seed = netns_random(ns);
	return 0;
}

static void fmt_time(char *b, size_t l, uint64_t ns)
{
	if (ns % NSEC_PER_MSEC == 0)
		snprintf(b, l, "%llums", (unsigned long long)(ns / NSEC_PER_MSEC));
	else if (ns % NSEC_PER_USEC == 0)
		snprintf(b, l, "%lluus", (unsigned long long)(ns / NSEC_PER_USEC));
	else
		snprintf(b, l, "%lluns", (unsigned long long)ns);
}

/* One device's netem line and counters, in the shape of `tc -s qdisc show`. */
static void qdisc_show_dev(struct netdev *d, bool name, char *out, size_t outlen, size_t *pos)
{
	struct link_impair im;
	struct link_impair_stats st;
	char t[32], j[32];
	if (qdisc_get(d, &im, &st))
		return;
	out_append(out, outlen, pos, "qdisc netem 8001: %s%s%sroot refcnt 2 limit %u",
		   name ? "dev " : "", name ? d->name : "", name ? " " : "", im.limit ? im.limit : 1000);
	if (im.delay_ns || im.jitter_ns) {
		fmt_time(t, sizeof(t), im.delay_ns);
		fmt_time(j, sizeof(j), im.jitter_ns);
		out_append(out, outlen, pos, " delay %s", t);
		if (im.jitter_ns)
			out_append(out, outlen, pos, "  %s", j);
	}
	if (im.loss_ppm)
		out_append(out, outlen, pos, " loss %g%%", im.loss_ppm / 10000.0);
	if (im.dup_ppm)
		out_append(out, outlen, pos, " duplicate %g%%", im.dup_ppm / 10000.0);
	if (im.reorder_ppm)
		out_append(out, outlen, pos, " reorder %g%%", im.reorder_ppm / 10000.0);
	if (im.rate_bps)
		out_append(out, outlen, pos, " rate %ubit", im.rate_bps);
	out_append(out, outlen, pos, " seed %llu\n", (unsigned long long)im.seed);
	out_append(out, outlen, pos,
		   " Sent %llu bytes %llu pkt (dropped %llu, overlimits %llu requeues 0)\n"
		   " backlog %ub %up requeues 0\n"
		   " lost %llu nomem %llu duplicated %llu reordered %llu\n",
		   (unsigned long long)st.sent_bytes, (unsigned long long)st.sent_packets,
		   (unsigned long long)st.dropped, (unsigned long long)st.overlimit, st.backlog_bytes,
		   st.backlog_packets, (unsigned long long)st.lost, (unsigned long long)st.nomem,
		   (unsigned long long)st.duplicated, (unsigned long long)st.reordered);
}

/*
 * qdisc add|change|replace dev DEV root [handle H] netem OPTIONS,
 * qdisc del dev DEV root, qdisc show [dev DEV].  Only netem, only at the
 * root of a device that has a qdisc (veth end, TAP; not lo).  add on an
 * impaired device is EEXIST, change or del on a plain one ENOENT, as tc
 * gets from the kernel.
 * Return: 0, -EINVAL, -ENODEV, -EOPNOTSUPP, -EEXIST, -ENOENT.
 */
static int cmd_qdisc(struct netns *ns, char **tok, int n, char *out, size_t outlen)
{
	if (n == 1 || strcmp(tok[1], "show") == 0 || strcmp(tok[1], "list") == 0 ||
	    strcmp(tok[1], "ls") == 0) {
		size_t pos = 0;
		const char *only = opt(tok, n, "dev");
		if (only && !netns_dev_by_name(ns, only))
			return -ENODEV;
		for (int i = 1; i < NETNS_MAX_DEV; i++)
			if (ns->dev[i] && (!only || strcmp(only, ns->dev[i]->name) == 0))
				qdisc_show_dev(ns->dev[i], !only, out, outlen, &pos);
		return 0;
	}
	bool add = strcmp(tok[1], "add") == 0, change = strcmp(tok[1], "change") == 0;
	bool replace = strcmp(tok[1], "replace") == 0;
	bool del = strcmp(tok[1], "del") == 0 || strcmp(tok[1], "delete") == 0;
	if (!add && !change && !replace && !del)
		return -EINVAL;
	struct netdev *d = NULL;
	bool root = false;
	int i;
	for (i = 2; i < n; i++) {
		if (strcmp(tok[i], "dev") == 0 && i + 1 < n) {
			d = netns_dev_by_name(ns, tok[++i]);
			if (!d)
				return -ENODEV;
		} else if (strcmp(tok[i], "root") == 0) {
			root = true;
		} else if (strcmp(tok[i], "handle") == 0 && i + 1 < n) {
			i++;
		} else if (strcmp(tok[i], "parent") == 0) {
			return -EOPNOTSUPP;
		} else {
			break;
		}
	}
	if (!d || !root)
		return -EINVAL;
	int got = qdisc_get(d, NULL, NULL);
	if (got == -EOPNOTSUPP)
		return got;
	bool have = got == 0;
	if (del) {
		if (i < n && strcmp(tok[i], "netem") != 0)
			return -EINVAL;
		return have ? qdisc_set(d, NULL) : -ENOENT;
	}
	if (i >= n)
		return -EINVAL;
	if (strcmp(tok[i], "netem") != 0)
		return -EOPNOTSUPP;
	if (add && have)
		return -EEXIST;
	if (change && !have)
		return -ENOENT;
	struct link_impair im;
	int r = parse_netem(ns, tok, n, i + 1, &im);
	return r ? r : qdisc_set(d, &im);
}

int usock_ip(struct usock_netns *uns, const char *cmd, char *out, size_t outlen)
{
	struct netns *ns = (struct netns *)uns;
	if (!ns || !cmd)
		return (int)usock_ret(-EINVAL);
	char buf[512];
	if (strlen(cmd) >= sizeof(buf))
		return (int)usock_ret(-EINVAL);
	snprintf(buf, sizeof(buf), "%s", cmd);
	char *tok[MAXTOK];
	int n = tokenize(buf, tok);
	if (n == 0)
		return (int)usock_ret(-EINVAL);
	if (out && outlen)
		out[0] = 0;
	int r;
	netns_lock(ns);
	if (strcmp(tok[0], "link") == 0 || strcmp(tok[0], "l") == 0)
		r = cmd_link(ns, tok, n, out, outlen);
	else if (strcmp(tok[0], "addr") == 0 || strcmp(tok[0], "address") == 0 ||
		 strcmp(tok[0], "a") == 0)
		r = cmd_addr(ns, tok, n, out, outlen);
	else if (strcmp(tok[0], "route") == 0 || strcmp(tok[0], "r") == 0)
		r = cmd_route(ns, tok, n, out, outlen);
	else if (strcmp(tok[0], "neigh") == 0 || strcmp(tok[0], "neighbour") == 0 ||
		 strcmp(tok[0], "n") == 0)
		r = cmd_neigh(ns, tok, n, out, outlen);
	else if (strcmp(tok[0], "qdisc") == 0)	/* MAXTOK tokens: some may have been cut off */
		r = n >= MAXTOK ? -EINVAL : cmd_qdisc(ns, tok, n, out, outlen);
	else
		r = -EINVAL;
	netns_unlock(ns);
	return (int)usock_ret(r);
}

/* ---- sysctl ---- */

struct sysctl_int {
	const char *name;
	size_t off;
	int min, max;
};

#define S(n, f, lo, hi) {n, offsetof(struct netns_sysctl, f), lo, hi}
static const struct sysctl_int sysctl_ints[] = {
	S("core.optmem_max", optmem_max, 0, INT_MAX),
	S("core.wmem_default", wmem_default, 4608, INT_MAX),
	S("core.wmem_max", wmem_max, 4608, INT_MAX),
	S("core.rmem_default", rmem_default, 2304, INT_MAX),
	S("core.rmem_max", rmem_max, 2304, INT_MAX),
	S("core.somaxconn", somaxconn, 0, INT_MAX),
	S("core.netdev_max_backlog", netdev_max_backlog, 0, INT_MAX),
	S("usock.busy_poll", busy_read_us, 0, 1000000),
	S("ipv4.ip_default_ttl", ip_default_ttl, 1, 255),
	S("ipv4.ipfrag_high_thresh", ipfrag_high_thresh, 0, INT_MAX),
	S("ipv4.ipfrag_low_thresh", ipfrag_low_thresh, 0, INT_MAX),
	S("ipv4.ipfrag_time", ipfrag_time, 0, INT_MAX),
	S("ipv4.icmp_ratelimit", icmp_ratelimit, 0, INT_MAX),
	S("ipv4.icmp_ratemask", icmp_ratemask, 0, INT_MAX),
	S("ipv4.icmp_echo_ignore_all", icmp_echo_ignore_all, 0, 1),
	S("ipv4.icmp_echo_ignore_broadcasts", icmp_echo_ignore_broadcasts, 0, 1),
	S("ipv4.udp_rmem_min", udp_rmem_min, 1, INT_MAX),
	S("ipv4.udp_wmem_min", udp_wmem_min, 1, INT_MAX),
	S("ipv4.ip_no_pmtu_disc", ip_no_pmtu_disc, 0, 3),
};

struct neigh_var {
	const char *name;
	size_t off;
	unsigned scale; /* the /proc unit in ms: 1 for _ms, 1000 for seconds, 10 for USER_HZ ticks */
};
#define N(n, f, sc) {n, offsetof(struct neigh_parms, f), sc}
static const struct neigh_var neigh_vars[] = {
	N("base_reachable_time_ms", base_reachable_time_ms, 1),
	N("base_reachable_time", base_reachable_time_ms, 1000),
	N("delay_first_probe_time", delay_first_probe_time_ms, 1000),
	N("retrans_time_ms", retrans_time_ms, 1),
	N("retrans_time", retrans_time_ms, 10),
	N("gc_stale_time", gc_stale_time_ms, 1000),
	N("ucast_solicit", ucast_probes, 0),
	N("mcast_solicit", mcast_probes, 0),
	N("app_solicit", app_probes, 0),
	N("mcast_resolicit", mcast_resolicit, 0),
	N("unres_qlen_bytes", unres_qlen_bytes, 0),
};

static void normalise(const char *in, char *out, size_t outlen)
{
	if (strncmp(in, "net.", 4) == 0 || strncmp(in, "net/", 4) == 0)
		in += 4;
	size_t i;
	for (i = 0; in[i] && i + 1 < outlen; i++)
		out[i] = in[i] == '/' ? '.' : in[i];
	out[i] = 0;
}

static int neigh_sysctl(struct netns *ns, const char *rest, const char *val, char *out,
			size_t outlen)
{
	/* rest: "DEV.var" or "default.var" */
	const char *dot = strchr(rest, '.');
	if (!dot)
		return -ENOENT;
	char dev[IFNAMSIZ + 1];
	size_t dl = (size_t)(dot - rest);
	if (dl >= sizeof(dev))
		return -ENOENT;
	memcpy(dev, rest, dl);
	dev[dl] = 0;
	const struct neigh_var *v = NULL;
	for (size_t i = 0; i < sizeof(neigh_vars) / sizeof(neigh_vars[0]); i++)
		if (strcmp(dot + 1, neigh_vars[i].name) == 0)
			v = &neigh_vars[i];
	if (!v)
		return -ENOENT;
	bool all = strcmp(dev, "default") == 0;
	struct netdev *d = all ? NULL : netns_dev_by_name(ns, dev);
	if (!all && !d)
		return -ENOENT;
	if (!val) {
		struct neigh_parms p;
		if (d)
			p = d->neigh;
		else
			netns_neigh_parms_default(&p);
		uint32_t x = *(uint32_t *)((uint8_t *)&p + v->off);
		snprintf(out, outlen, "%u", v->scale ? x / v->scale : x);
		return 0;
	}
	char *end;
	long x = strtol(val, &end, 10);
	if (end == val || x < 0)
		return -EINVAL;
	uint32_t stored = (uint32_t)(v->scale ? x * (long)v->scale : x);
	for (int i = 1; i < NETNS_MAX_DEV; i++) {
		struct netdev *t = ns->dev[i];
		if (!t || (d && t != d))
			continue;
		*(uint32_t *)((uint8_t *)&t->neigh + v->off) = stored;
		if (v->off == offsetof(struct neigh_parms, base_reachable_time_ms)) {
			/* neigh_proc_base_reachable_time re-draws reachable_time at once */
			uint32_t b = t->neigh.base_reachable_time_ms;
			t->neigh.reachable_time_ms = b ? b / 2 + (uint32_t)(netns_random(ns) % b) : 0;
		}
	}
	return 0;
}

/* ipv4.tcp_*: one or more ints, written and printed tab-separated as /proc does. */
static int tcp_sysctl(struct netns *ns, const char *name, const char *val, char *out,
		      size_t outlen)
{
	int n = 0;
	int *p = tcp_sysctl_lookup(&ns->tcp->sys, name, &n);
	if (!p)
		return -ENOENT;
	if (!val) {
		size_t o = 0;
		for (int i = 0; i < n && o < outlen; i++)
			o += (size_t)snprintf(out + o, outlen - o, i ? "\t%d" : "%d", p[i]);
		return 0;
	}
	int tmp[3];
	if (n > 3)
		return -EINVAL;
	const char *c = val;
	for (int i = 0; i < n; i++) {
		char *end;
		long x = strtol(c, &end, 10);
		if (end == c || x < INT_MIN || x > INT_MAX)
			return -EINVAL;
		tmp[i] = (int)x;
		c = end;
	}
	memcpy(p, tmp, (size_t)n * sizeof(int));
	return 0;
}

int usock_sysctl(struct usock_netns *uns, const char *name, const char *val, char *out,
		 size_t outlen)
{
	struct netns *ns = (struct netns *)uns;
	char key[128];
	if (!ns || !name)
		return (int)usock_ret(-EINVAL);
	normalise(name, key, sizeof(key));
	int r = -ENOENT;
	netns_lock(ns);
	if (strcmp(key, "ipv4.ip_local_port_range") == 0) {
		if (val) {
			int lo, hi;
			if (sscanf(val, "%d %d", &lo, &hi) != 2 || lo < 1 || hi > 65535 || lo > hi)
				r = -EINVAL;
			else {
				ns->sys.port_lo = lo;
				ns->sys.port_hi = hi;
				r = 0;
			}
		} else {
			snprintf(out, outlen, "%d\t%d", ns->sys.port_lo, ns->sys.port_hi);
			r = 0;
		}
	} else if (strncmp(key, "ipv4.neigh.", 11) == 0) {
		r = neigh_sysctl(ns, key + 11, val, out, outlen);
	} else if (strcmp(key, "ipv4.tcp_congestion_control") == 0) {
		/* a string: the algorithms usock has (tcp_set_default_congestion_control) */
		char *cc = ns->tcp->sys.congestion_control;
		if (!val) {
			snprintf(out, outlen, "%s", cc);
			r = 0;
		} else {
			char v[16];
			snprintf(v, sizeof(v), "%s", val);
			v[strcspn(v, "\n ")] = 0;
			r = strcmp(v, "cubic") && strcmp(v, "reno") ? -ENOENT : 0;
			if (!r)
				snprintf(cc, sizeof(ns->tcp->sys.congestion_control), "%s", v);
		}
	} else if (strncmp(key, "ipv4.tcp_", 9) == 0) {
		r = tcp_sysctl(ns, key + 5, val, out, outlen);
	} else {
		for (size_t i = 0; i < sizeof(sysctl_ints) / sizeof(sysctl_ints[0]); i++) {
			const struct sysctl_int *s = &sysctl_ints[i];
			if (strcmp(key, s->name) != 0)
				continue;
			int *p = (int *)((uint8_t *)&ns->sys + s->off);
			if (val) {
				char *end;
				long x = strtol(val, &end, 10);
				if (end == val || x < s->min || x > s->max)
					r = -EINVAL;
				else {
					*p = (int)x;
					r = 0;
				}
			} else {
				snprintf(out, outlen, "%d", *p);
				r = 0;
			}
			break;
		}
	}
	netns_unlock(ns);
	return (int)usock_ret(r);
}
