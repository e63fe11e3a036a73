/* SPDX-License-Identifier: MIT */
/*
 * pcap.c - capture any link to a pcap file
 *
 * Theory of operation.  A pcap_writer is one open file; several devices
 * (even in several namespaces) may share it, so writers live in a small
 * process-wide table keyed by path, each with its own mutex and a count of
 * devices using it.  Files use the nanosecond pcap format (magic
 * 0xa1b23c4d) and LINKTYPE_ETHERNET: every usock link carries Ethernet
 * frames, lo included (as Linux's lo, with zero MAC addresses).  Writes go
 * through stdio and are flushed per frame so that a test can read the file
 * while the namespace lives.  Capture is off the fast path unless enabled.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/pkt.h"
#include "link/link.h"
#include "net/netns.h"

#define PCAP_MAX_WRITERS 16
#define PCAP_SNAPLEN 262144u

struct pcap_writer {
	char path[256];
	FILE *f;
	unsigned users;
	pthread_mutex_t mu;
};

static struct pcap_writer writers[PCAP_MAX_WRITERS];
static pthread_mutex_t writers_mu = PTHREAD_MUTEX_INITIALIZER;

static int writer_get(const char *path, struct pcap_writer **out)
{
	pthread_mutex_lock(&writers_mu);
	struct pcap_writer *freew = NULL;
	for (int i = 0; i < PCAP_MAX_WRITERS; i++) {
		if (writers[i].users && strcmp(writers[i].path, path) == 0) {
			writers[i].users++;
			*out = &writers[i];
			pthread_mutex_unlock(&writers_mu);
			return 0;
		}
		if (!writers[i].users && !freew)
			freew = &writers[i];
	}
	if (!freew || strlen(path) >= sizeof(freew->path)) {
		pthread_mutex_unlock(&writers_mu);
		return freew ? -ENAMETOOLONG : -ENFILE;
	}
	FILE *f = fopen(path, "wbe");
	if (!f) {
		int e = errno;
		pthread_mutex_unlock(&writers_mu);
		return -e;
	}
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr = {0xa1b23c4d, 2, 4, 0, 0, PCAP_SNAPLEN, 1};
	fwrite(&hdr, sizeof(hdr), 1, f);
	fflush(f);
	snprintf(freew->path, sizeof(freew->path), "%s", path);
	freew->f = f;
	freew->users = 1;
	pthread_mutex_init(&freew->mu, NULL);
	*out = freew;
	pthread_mutex_unlock(&writers_mu);
	return 0;
}

int link_pcap_open(struct netdev *dev, const char *path)
{
	if (dev->pcap)
		link_pcap_close(dev);
	struct pcap_writer *w = NULL;
	int r = writer_get(path, &w);
	if (r)
		return r;
	dev->pcap = w;
	return 0;
}

void link_pcap_write(struct pcap_writer *w, const struct pkt *pk, uint64_t realtime_ns)
{
	uint8_t buf[2048];
	uint32_t len = pk->tot_len, cap = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	struct {
		uint32_t sec, nsec, caplen, len;
	} rh = {(uint32_t)(realtime_ns / 1000000000ull), (uint32_t)(realtime_ns % 1000000000ull), cap,
		len};
	pthread_mutex_lock(&w->mu);
	fwrite(&rh, sizeof(rh), 1, w->f);
	for (uint32_t off = 0; off < cap;) {
		uint32_t n = cap - off < sizeof(buf) ? cap - off : (uint32_t)sizeof(buf);
		pkt_copy_out(pk, off, buf, n);
		fwrite(buf, 1, n, w->f);
		off += n;
	}
	fflush(w->f);
	pthread_mutex_unlock(&w->mu);
}

void link_pcap_close(struct netdev *dev)
{
	struct pcap_writer *w = dev->pcap;
	if (!w)
		return;
	dev->pcap = NULL;
	pthread_mutex_lock(&writers_mu);
	if (--w->users == 0) {
		fclose(w->f);
		w->f = NULL;
		pthread_mutex_destroy(&w->mu);
	}
	pthread_mutex_unlock(&writers_mu);
}

void link_pcap_env(struct netdev *dev)
{
	const char *p = getenv("USOCK_PCAP");
	if (p && *p)
		link_pcap_open(dev, p);
}
