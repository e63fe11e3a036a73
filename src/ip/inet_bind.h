/* SPDX-License-Identifier: MIT */
/*
 * inet_bind.h - address checks that TCP and UDP bind and getname share
 */
#ifndef USOCK_IP_INET_BIND_H
#define USOCK_IP_INET_BIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct sock;

int ip4_bind_check(struct sock *sk, const struct sockaddr *a, socklen_t len,
		   uint8_t closed_state, uint16_t *snum);
void ip4_bind_done(struct sock *sk, uint16_t snum);
int ip4_getname(const struct sock *sk, struct sockaddr_storage *a, socklen_t *len,
		bool peer, bool connected);

#endif
