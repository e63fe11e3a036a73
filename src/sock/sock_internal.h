/* SPDX-License-Identifier: MIT */
/*
 * sock_internal.h - what stays inside src/sock/
 */
#ifndef USOCK_SOCK_SOCK_INTERNAL_H
#define USOCK_SOCK_SOCK_INTERNAL_H

#include "sock/sock.h"

int sock_alloc(struct netns *ns, const struct proto_ops *ops, int type_flags, struct sock **out);
/* sock_close_locked - close(2) of a socket descriptor; returns with the lock released. */
int sock_close_locked(struct sock *sk);
bool sock_fd_is_ours(int fd);
int sock_fd_install(int fd, struct sock *sk);
void sock_fd_clear(int fd);
int sock_wait_entry_add(struct sock *sk, struct wait_entry *w, uint32_t events);
void sock_wait_entry_del(struct sock *sk, struct wait_entry *w);
int sock_thread_efd(void);
long sock_hz(void);
void sock_raise_sigpipe(void);

#endif
