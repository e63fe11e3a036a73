/* SPDX-License-Identifier: MIT */
/*
 * poll.c - usock_poll over any mix of usock and kernel descriptors
 *
 * Theory of operation.  usock sockets are asked for their events without
 * the namespace lock (a lockless reference; the fields read are words a
 * writer updates whole, and a stale answer only costs one more round), so a
 * poller never waits behind a sender holding the namespace for a batch;
 * kernel descriptors are asked with the kernel's own poll().  Before
 * sleeping on a set of usock sockets only, the caller spins for up to the
 * sockets' busy-poll time watching their wake-up counters, as SO_BUSY_POLL
 * does: an event within it costs no system call.  When nothing is ready and the caller wants to wait, the thread's
 * eventfd is linked as a waiter on every usock socket of the set, and the
 * thread blocks in one kernel poll() over the kernel descriptors plus that
 * eventfd: a usock event writes the eventfd, a kernel event wakes poll()
 * itself, a signal gives EINTR exactly as poll(2) does.  Then everything is
 * asked again.  POLLERR, POLLHUP and POLLNVAL are always reported, as the
 * kernel does; a closed or unknown descriptor number goes to the kernel,
 * which answers POLLNVAL.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/errno_edge.h"
#include "core/usercopy.h"
#include "net/netns.h"
#include "sock/sock_internal.h"
#include "usock.h"

#define POLL_STACK 64

static uint32_t sock_events(struct sock *sk, short want)
{
	uint32_t ev = sk->ops->poll(sk);
	return ev & ((uint32_t)(uint16_t)want | POLLERR | POLLHUP | POLLNVAL);
}

static inline int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One lockless pass over the usock sockets of the set. Return: how many are ready. */
static int usock_pass(struct pollfd *fds, nfds_t nfds)
{
	int ready = 0;
	for (nfds_t i = 0; i < nfds; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0 || !usock_is_socket(fds[i].fd))
			continue;
		struct sock *sk = sock_get_ref(fds[i].fd);
		if (!sk)
			continue; /* closed meanwhile: the kernel pass says POLLNVAL */
		fds[i].revents = (short)sock_events(sk, fds[i].events);
		sock_put_ref(sk);
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

/*
 * spin - watch the wake-up counters of the set's sockets for the shortest
 * busy-poll time among them (bounded by the time left).
 * Return: true if one of them moved.
 */
static bool spin(struct pollfd *fds, nfds_t nfds, int64_t left)
{
	uint32_t seq[POLL_STACK];
	struct sock *sks[POLL_STACK];
	nfds_t n = 0;
	int64_t us = INT64_MAX;
	if (nfds > POLL_STACK)
		return false;
	for (nfds_t i = 0; i < nfds; i++) {
		if (fds[i].fd < 0)
			continue;
		struct sock *sk = sock_get_ref(fds[i].fd);
		if (!sk)
			continue;
		if ((int64_t)sk->busy_poll_us < us)
			us = sk->busy_poll_us;
		seq[n] = atomic_load_explicit(&sk->ev_seq, memory_order_acquire);
		sks[n++] = sk;
	}
	bool hit = false;
	if (n && us > 0 && us != INT64_MAX) {
		int64_t end = now_ns() + us * 1000;
		if (left > 0 && now_ns() + left < end)
			end = now_ns() + left;
		for (unsigned k = 0; !hit; k++) {
			for (nfds_t j = 0; j < n && !hit; j++)
				hit = atomic_load_explicit(&sks[j]->ev_seq, memory_order_acquire) != seq[j];
			__builtin_ia32_pause();
			if ((k & 63) == 63 && now_ns() >= end)
				break;
		}
	}
	for (nfds_t j = 0; j < n; j++)
		sock_put_ref(sks[j]);
	return hit;
}

int usock_poll(struct pollfd *ufds, nfds_t nfds, int timeout)
{
	struct pollfd stack_fds[POLL_STACK];
	struct wait_entry stack_w[POLL_STACK];
	int stack_wfd[POLL_STACK];
	struct pollfd *kfds = stack_fds;
	struct wait_entry *w = stack_w;
	int *wfd = stack_wfd;
	struct pollfd stack_copy[POLL_STACK];
	struct pollfd *fds = stack_copy;
	int ret;

	if (nfds > (nfds_t)1 << 20)
		return (int)usock_ret(-EINVAL);
	/* work on a private copy so that a bad pointer is EFAULT, not a crash;
	 * on the stack for the sets programs use, allocated only beyond */
	if (nfds > POLL_STACK) {
		fds = malloc(nfds * sizeof(*fds));
		if (!fds)
			return (int)usock_ret(-ENOMEM);
	}
	if (nfds && copy_from_user(fds, ufds, nfds * sizeof(*fds))) {
		if (fds != stack_copy)
			free(fds);
		return (int)usock_ret(-EFAULT);
	}
	if (nfds + 1 > POLL_STACK) {
		kfds = malloc((nfds + 1) * sizeof(*kfds));
		w = malloc(nfds * sizeof(*w));
		wfd = malloc(nfds * sizeof(*wfd));
		if (!kfds || !w || !wfd) {
			free(kfds);
			free(w);
			free(wfd);
			if (fds != stack_copy)
				free(fds);
			return (int)usock_ret(-ENOMEM);
		}
	}
	int64_t deadline = timeout > 0 ? now_ns() + (int64_t)timeout * 1000000 : 0;
	bool have_usock = false;
	for (nfds_t i = 0; i < nfds; i++)
		if (fds[i].fd >= 0 && usock_is_socket(fds[i].fd))
			have_usock = true;

	bool spun = false;
	for (;;) {
		int ready = 0;
		nfds_t nk = 0;
		/* 1. usock sockets */
		ready = usock_pass(fds, nfds);
		/* 2. kernel descriptors, without waiting */
		for (nfds_t i = 0; i < nfds; i++) {
			if (fds[i].fd >= 0 && usock_is_socket(fds[i].fd))
				continue;
			kfds[nk] = fds[i];
			kfds[nk].revents = 0;
			nk++;
		}
		if (nk) {
			int n = poll(kfds, nk, 0);
			if (n < 0) {
				ret = -errno;
				goto out;
			}
			nfds_t k = 0;
			for (nfds_t i = 0; i < nfds; i++) {
				if (fds[i].fd >= 0 && usock_is_socket(fds[i].fd))
					continue;
				fds[i].revents = kfds[k++].revents;
				if (fds[i].revents)
					ready++;
			}
		}
		int64_t left = timeout < 0 ? -1 : timeout == 0 ? 0 : deadline - now_ns();
		if (ready || left == 0 || (timeout > 0 && left <= 0)) {
			ret = ready;
			goto out;
		}
		if (!nk && !spun) {
			/* only usock sockets: spin a little before sleeping */
			spun = true;
			if (spin(fds, nfds, left))
				continue;
		}
		/* 3. wait for anything */
		int efd = sock_thread_efd();
		if (efd < 0) {
			ret = -ENOMEM;
			goto out;
		}
		nfds_t nw = 0;
		if (have_usock) {
			for (nfds_t i = 0; i < nfds; i++) {
				if (fds[i].fd < 0 || !usock_is_socket(fds[i].fd))
					continue;
				struct sock *sk = sock_get_ref(fds[i].fd);
				if (!sk)
					continue;
				sock_wait_entry_add(sk, &w[nw], (uint32_t)(uint16_t)fds[i].events);
				wfd[nw] = fds[i].fd;
				/* after linking: whatever a waker changed before it
				 * looked at the list is visible now */
				fds[i].revents = (short)sock_events(sk, fds[i].events);
				sock_put_ref(sk);
				nw++;
			}
		}
		kfds[nk].fd = efd;
		kfds[nk].events = POLLIN;
		kfds[nk].revents = 0;
		int to = left < 0 ? -1 : (int)((left + 999999) / 1000000);
		/* an event that raced with registering is already in fds[] */
		bool raced = false;
		for (nfds_t i = 0; i < nfds; i++)
			if (fds[i].fd >= 0 && usock_is_socket(fds[i].fd) && fds[i].revents)
				raced = true;
		int n = raced ? 0 : poll(kfds, nk + 1, to);
		int perr = errno;
		/* unlink from every socket we joined (each under its own lock); a
		 * socket closed meanwhile took its waiter list with it */
		for (nfds_t j = 0; j < nw; j++) {
			struct sock *sk = sock_get_ref(wfd[j]);
			if (sk) {
				sock_wait_entry_del(sk, &w[j]);
				sock_put_ref(sk);
			}
		}
		if (kfds[nk].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(efd, &v, sizeof(v));
			(void)r;
		}
		if (n < 0 && perr == EINTR) {
			ret = -EINTR;
			goto out;
		}
	}
out:
	if (ret >= 0) {
		for (nfds_t i = 0; i < nfds; i++) {
			short *dst = (short *)((uintptr_t)ufds + i * sizeof(*ufds) +
					       offsetof(struct pollfd, revents));
			if (copy_to_user(dst, &fds[i].revents, sizeof(short))) {
				ret = -EFAULT;
				break;
			}
		}
	}
	if (kfds != stack_fds) {
		free(kfds);
		free(w);
		free(wfd);
	}
	if (fds != stack_copy)
		free(fds);
	return (int)usock_ret(ret);
}
