/* SPDX-License-Identifier: MIT */
/*
 * usercopy.c - copies from and to the caller's memory that fail with EFAULT
 *
 * Theory of operation: as the kernel's exception tables.  On x86_64 every
 * copy runs in one small assembly routine, usercopy_asm_copy.  The process
 * owns one SIGSEGV and one SIGBUS handler (installed once, by usercopy_init);
 * when a fault arrives, the handler looks at the interrupted instruction
 * pointer in the ucontext: if it lies inside the copy routine, it points the
 * context at the routine's fixup code (which returns -EFAULT to the caller
 * of the copy) and returns, so the kernel's sigreturn resumes there with the
 * signal mask it saved.  Nothing is armed or saved before a copy: no
 * setjmp, no thread-local state, no system call; concurrent copies in many
 * threads need nothing, since each fault is judged by its own thread's
 * registers.  A fault in usock's own buffer during a copy also gives
 * -EFAULT, as the kernel's fixup does not ask which side faulted either.
 *
 * Elsewhere (USOCK_USERCOPY_PORTABLE, or any other architecture) a copy sets
 * a thread-local jump buffer with sigsetjmp(.., 0), which saves no signal
 * mask and therefore makes no system call; the handler siglongjmps to it.
 * The handler is installed with SA_NODEFER and an empty sa_mask, so running
 * it changed no blocked signal and the plain jump leaves the mask exactly as
 * it was when the copy began.  Limit of this fallback: any fault on the
 * thread while the guard is set counts, including one in an unrelated signal
 * handler that interrupted the copy.
 *
 * A fault that is not a copy's, or a SIGSEGV/SIGBUS sent with kill(), is
 * handed to whatever was installed before us, as the kernel would have
 * delivered it: a SA_SIGINFO or plain handler is called with its own
 * sa_mask blocked (and the signal itself unless it asked for SA_NODEFER);
 * SA_RESETHAND is honoured by forgetting the handler after this call.
 * SIG_DFL, and SIG_IGN for a real fault (the kernel's force_sig_info_to_task
 * refuses to ignore a synchronous fault), restore the default action and
 * re-raise, so the process dies of the signal with a core dump.  A kill()ed
 * signal under SIG_IGN stays ignored.  The handler is installed with
 * SA_ONSTACK so that a program's alternate-stack overflow handling still
 * sees stack overflows.
 *
 * Limits: whoever installs a SIGSEGV/SIGBUS handler after usercopy_init
 * replaces ours (guarded copies then fault into that handler); the
 * LD_PRELOAD shim is the place to keep ours first.  A thread that has
 * SIGSEGV or SIGBUS blocked cannot recover at all: the kernel's
 * force_sig_info_to_task unblocks a synchronous fault and resets it to
 * SIG_DFL, killing the process (the shim has to keep these two out of any
 * mask the program sets).  ASan installs its handler before main, so ours
 * lands on top of it and chains to it.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "core/usercopy.h"

#if defined(__x86_64__) && !defined(USOCK_USERCOPY_PORTABLE)
#define USERCOPY_FIXUP 1
#else
#define USERCOPY_FIXUP 0
#endif

#define USERCOPY_STR_(x) #x
#define USERCOPY_STR(x) USERCOPY_STR_(x)

#if USERCOPY_FIXUP

#ifdef __CET__
#define USERCOPY_ENDBR "endbr64\n\t"
#else
#define USERCOPY_ENDBR ""
#endif

/* Copies larger than this go to rep movsb (ERMS/FSRM make it the fastest). */
#define USERCOPY_REP_MIN 4096

/*
 * usercopy_asm_copy(dst, src, n) - memcpy that returns 0, or -EFAULT when any
 * load or store faults.  Every instruction that touches memory lies in
 * [usercopy_asm_copy, usercopy_asm_end) or, for the AVX loop, in
 * [usercopy_asm_avx, usercopy_asm_avx_end), each range with its own fixup;
 * the routine uses no stack, so a fixup can return straight to the caller
 * from any point inside.  Up to 128 bytes, overlapping loads from both ends
 * (no loop, no byte tail); up to REP_MIN, a loop of 64 or 128 bytes per
 * turn; beyond, rep movsb.  Measured against glibc's memcpy on the build
 * machine (AMD EPYC, FSRM): within 1-2 ns up to 4 KiB, equal at 64 KiB.
 */
__asm__(
	".pushsection .text\n\t"
	".p2align 5\n\t"
	".globl usercopy_asm_copy\n\t"
	".hidden usercopy_asm_copy\n\t"
	".type usercopy_asm_copy, @function\n"
"usercopy_asm_copy:\n\t"
	".cfi_startproc\n\t"
	USERCOPY_ENDBR
	"xorl %eax, %eax\n\t"
	"cmpq $16, %rdx\n\t"
	"ja 5f\n\t"
	"cmpq $8, %rdx\n\t"
	"jae 3f\n\t"
	"cmpq $4, %rdx\n\t"
	"jae 2f\n\t"
	"testq %rdx, %rdx\n\t"
	"je 1f\n\t"
	/* 1..3 bytes: first, last and middle byte cover every case. */
	"movq %rdx, %r9\n\t"
	"shrq $1, %r9\n\t"
	"movzbl (%rsi), %ecx\n\t"
	"movzbl -1(%rsi,%rdx), %r8d\n\t"
	"movzbl (%rsi,%r9), %r10d\n\t"
	"movb %cl, (%rdi)\n\t"
	"movb %r8b, -1(%rdi,%rdx)\n\t"
	"movb %r10b, (%rdi,%r9)\n"
"1:\n\t"
	"ret\n"
"2:\n\t"	/* 4..7 */
	"movl (%rsi), %ecx\n\t"
	"movl -4(%rsi,%rdx), %r8d\n\t"
	"movl %ecx, (%rdi)\n\t"
	"movl %r8d, -4(%rdi,%rdx)\n\t"
	"ret\n"
"3:\n\t"	/* 8..16 */
	"movq (%rsi), %rcx\n\t"
	"movq -8(%rsi,%rdx), %r8\n\t"
	"movq %rcx, (%rdi)\n\t"
	"movq %r8, -8(%rdi,%rdx)\n\t"
	"ret\n"
"5:\n\t"
	"cmpq $32, %rdx\n\t"
	"ja 6f\n\t"
	/* 17..32 */
	"movdqu (%rsi), %xmm0\n\t"
	"movdqu -16(%rsi,%rdx), %xmm1\n\t"
	"movdqu %xmm0, (%rdi)\n\t"
	"movdqu %xmm1, -16(%rdi,%rdx)\n\t"
	"ret\n"
"6:\n\t"
	"cmpq $64, %rdx\n\t"
	"ja 7f\n\t"
	/* 33..64 */
	"movdqu (%rsi), %xmm0\n\t"
	"movdqu 16(%rsi), %xmm1\n\t"
	"movdqu -32(%rsi,%rdx), %xmm2\n\t"
	"movdqu -16(%rsi,%rdx), %xmm3\n\t"
	"movdqu %xmm0, (%rdi)\n\t"
	"movdqu %xmm1, 16(%rdi)\n\t"
	"movdqu %xmm2, -32(%rdi,%rdx)\n\t"
	"movdqu %xmm3, -16(%rdi,%rdx)\n\t"
	"ret\n"
"7:\n\t"
	"cmpq $128, %rdx\n\t"
	"ja 10f\n\t"
	/* 65..128 */
	"movdqu (%rsi), %xmm0\n\t"
	"movdqu 16(%rsi), %xmm1\n\t"
	"movdqu 32(%rsi), %xmm2\n\t"
	"movdqu 48(%rsi), %xmm3\n\t"
	"movdqu -64(%rsi,%rdx), %xmm4\n\t"
	"movdqu -48(%rsi,%rdx), %xmm5\n\t"
	"movdqu -32(%rsi,%rdx), %xmm6\n\t"
	"movdqu -16(%rsi,%rdx), %xmm7\n\t"
	"movdqu %xmm0, (%rdi)\n\t"
	"movdqu %xmm1, 16(%rdi)\n\t"
	"movdqu %xmm2, 32(%rdi)\n\t"
	"movdqu %xmm3, 48(%rdi)\n\t"
	"movdqu %xmm4, -64(%rdi,%rdx)\n\t"
	"movdqu %xmm5, -48(%rdi,%rdx)\n\t"
	"movdqu %xmm6, -32(%rdi,%rdx)\n\t"
	"movdqu %xmm7, -16(%rdi,%rdx)\n\t"
	"ret\n"
"10:\n\t"
	"cmpq $" USERCOPY_STR(USERCOPY_REP_MIN) ", %rdx\n\t"
	"ja 9f\n\t"
	"cmpb $0, usercopy_have_avx(%rip)\n\t"
	"jne usercopy_asm_avx\n\t"
	/*
	 * 129..REP_MIN without AVX: the first 16 and last 64 bytes are
	 * loaded up front; the loop then runs from the first 16-aligned
	 * destination byte so its stores never split a cache line, and
	 * stops once the last 64 bytes cover the rest.
	 */
	"movdqu (%rsi), %xmm8\n\t"
	"movdqu -64(%rsi,%rdx), %xmm4\n\t"
	"movdqu -48(%rsi,%rdx), %xmm5\n\t"
	"movdqu -32(%rsi,%rdx), %xmm6\n\t"
	"movdqu -16(%rsi,%rdx), %xmm7\n\t"
	"leaq -64(%rdi,%rdx), %r8\n\t"
	"movq %rdi, %r9\n\t"
	"movl %edi, %ecx\n\t"
	"negl %ecx\n\t"
	"andl $15, %ecx\n\t"
	"addq %rcx, %rsi\n\t"
	"addq %rcx, %rdi\n\t"
	"negq %rcx\n\t"
	"addq %rdx, %rcx\n\t"
	"cmpq $64, %rcx\n\t"
	"jbe 4f\n"
"8:\n\t"
	"movdqu (%rsi), %xmm0\n\t"
	"movdqu 16(%rsi), %xmm1\n\t"
	"movdqu 32(%rsi), %xmm2\n\t"
	"movdqu 48(%rsi), %xmm3\n\t"
	"movdqa %xmm0, (%rdi)\n\t"
	"movdqa %xmm1, 16(%rdi)\n\t"
	"movdqa %xmm2, 32(%rdi)\n\t"
	"movdqa %xmm3, 48(%rdi)\n\t"
	"addq $64, %rsi\n\t"
	"addq $64, %rdi\n\t"
	"subq $64, %rcx\n\t"
	"cmpq $64, %rcx\n\t"
	"ja 8b\n"
"4:\n\t"
	"movdqu %xmm8, (%r9)\n\t"
	"movdqu %xmm4, (%r8)\n\t"
	"movdqu %xmm5, 16(%r8)\n\t"
	"movdqu %xmm6, 32(%r8)\n\t"
	"movdqu %xmm7, 48(%r8)\n\t"
	"ret\n"
"9:\n\t"
	"movq %rdx, %rcx\n\t"
	"rep movsb\n\t"
	"ret\n"
	".globl usercopy_asm_end\n\t"
	".hidden usercopy_asm_end\n"
"usercopy_asm_end:\n\t"
	".globl usercopy_asm_fixup\n\t"
	".hidden usercopy_asm_fixup\n"
"usercopy_asm_fixup:\n\t"
	"movl $-" USERCOPY_STR(EFAULT) ", %eax\n\t"
	"ret\n\t"
	/*
	 * 129..REP_MIN with AVX: the SSE loop above in 32-byte registers,
	 * which halves the stores (the limit at these sizes).  Its own range
	 * and fixup, since leaving with dirty upper halves would slow every
	 * later SSE instruction on Intel parts.
	 */
	".globl usercopy_asm_avx\n\t"
	".hidden usercopy_asm_avx\n"
"usercopy_asm_avx:\n\t"
	"vmovdqu (%rsi), %ymm8\n\t"
	"vmovdqu -128(%rsi,%rdx), %ymm4\n\t"
	"vmovdqu -96(%rsi,%rdx), %ymm5\n\t"
	"vmovdqu -64(%rsi,%rdx), %ymm6\n\t"
	"vmovdqu -32(%rsi,%rdx), %ymm7\n\t"
	"leaq -128(%rdi,%rdx), %r8\n\t"
	"movq %rdi, %r9\n\t"
	"movl %edi, %ecx\n\t"
	"negl %ecx\n\t"
	"andl $31, %ecx\n\t"
	"addq %rcx, %rsi\n\t"
	"addq %rcx, %rdi\n\t"
	"negq %rcx\n\t"
	"addq %rdx, %rcx\n\t"
	"cmpq $128, %rcx\n\t"
	"jbe 12f\n"
"11:\n\t"
	"vmovdqu (%rsi), %ymm0\n\t"
	"vmovdqu 32(%rsi), %ymm1\n\t"
	"vmovdqu 64(%rsi), %ymm2\n\t"
	"vmovdqu 96(%rsi), %ymm3\n\t"
	"vmovdqa %ymm0, (%rdi)\n\t"
	"vmovdqa %ymm1, 32(%rdi)\n\t"
	"vmovdqa %ymm2, 64(%rdi)\n\t"
	"vmovdqa %ymm3, 96(%rdi)\n\t"
	"subq $-128, %rsi\n\t"
	"subq $-128, %rdi\n\t"
	"addq $-128, %rcx\n\t"
	"cmpq $128, %rcx\n\t"
	"ja 11b\n"
"12:\n\t"
	"vmovdqu %ymm8, (%r9)\n\t"
	"vmovdqu %ymm4, (%r8)\n\t"
	"vmovdqu %ymm5, 32(%r8)\n\t"
	"vmovdqu %ymm6, 64(%r8)\n\t"
	"vmovdqu %ymm7, 96(%r8)\n\t"
	"vzeroupper\n\t"
	"ret\n\t"
	".globl usercopy_asm_avx_end\n\t"
	".hidden usercopy_asm_avx_end\n"
"usercopy_asm_avx_end:\n\t"
	".globl usercopy_asm_avx_fixup\n\t"
	".hidden usercopy_asm_avx_fixup\n"
"usercopy_asm_avx_fixup:\n\t"
	"vzeroupper\n\t"
	"movl $-" USERCOPY_STR(EFAULT) ", %eax\n\t"
	"ret\n\t"
	".cfi_endproc\n\t"
	".size usercopy_asm_copy, .-usercopy_asm_copy\n\t"
	".popsection\n"
);

int usercopy_asm_copy(void *dst, const void *src, size_t n)
	__attribute__((visibility("hidden")));
extern const char usercopy_asm_end[] __attribute__((visibility("hidden")));
extern const char usercopy_asm_fixup[] __attribute__((visibility("hidden")));
extern const char usercopy_asm_avx[] __attribute__((visibility("hidden")));
extern const char usercopy_asm_avx_end[] __attribute__((visibility("hidden")));
extern const char usercopy_asm_avx_fixup[] __attribute__((visibility("hidden")));

/* Set once by usercopy_install when the CPU and OS support 256-bit AVX. */
bool usercopy_have_avx __attribute__((visibility("hidden"), used));

/* A fault at an instruction of the copy routine: resume at its fixup. */
static bool usercopy_fixup(void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];

	uintptr_t to;

	if (ip >= (uintptr_t)usercopy_asm_copy && ip < (uintptr_t)usercopy_asm_end)
		to = (uintptr_t)usercopy_asm_fixup;
	else if (ip >= (uintptr_t)usercopy_asm_avx && ip < (uintptr_t)usercopy_asm_avx_end)
		to = (uintptr_t)usercopy_asm_avx_fixup;
	else
		return false;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)to;
	return true;
}

static inline int usercopy_guarded(void *dst, const void *src, size_t n)
{
	return usercopy_asm_copy(dst, src, n);
}

#else /* !USERCOPY_FIXUP */

/*
 * initial-exec: the handler must reach the guard without __tls_get_addr,
 * which may allocate and is not async-signal-safe.
 */
static __thread sigjmp_buf *volatile usercopy_guard
	__attribute__((tls_model("initial-exec")));

typedef uint64_t __attribute__((may_alias, aligned(1))) usercopy_word;

/*
 * Volatile loads keep the compiler from turning the loop into a memcpy
 * call, which a sanitizer build would route through its interceptor.
 */
__attribute__((noinline, no_sanitize("address", "undefined")))
static void usercopy_bytes(void *dst, const void *src, size_t n)
{
	const volatile usercopy_word *sw = src;
	usercopy_word *dw = dst;
	const volatile unsigned char *sb;
	unsigned char *db;

	for (; n >= sizeof(*dw); n -= sizeof(*dw))
		*dw++ = *sw++;
	sb = (const volatile unsigned char *)sw;
	db = (unsigned char *)dw;
	while (n--)
		*db++ = *sb++;
}

static int usercopy_guarded(void *dst, const void *src, size_t n)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0)) {
		usercopy_guard = NULL;
		return -EFAULT;
	}
	usercopy_guard = &jb;
	usercopy_bytes(dst, src, n);
	usercopy_guard = NULL;
	return 0;
}

#endif /* USERCOPY_FIXUP */

static const int usercopy_sigs[2] = { SIGSEGV, SIGBUS };
/* What was installed before us, per entry of usercopy_sigs. */
static struct sigaction usercopy_prev[2];
static pthread_once_t usercopy_once = PTHREAD_ONCE_INIT;
static bool usercopy_ready;

static struct sigaction *usercopy_prev_of(int sig)
{
	return &usercopy_prev[sig == SIGBUS];
}

/* Deliver sig to the handler installed before ours, as the kernel would. */
static void usercopy_chain(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction *slot = usercopy_prev_of(sig);
	struct sigaction old = *slot;
	bool user_sent = si->si_code <= 0;
	sigset_t mask;

	if (!(old.sa_flags & SA_SIGINFO) &&
	    (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
		struct sigaction dfl;

		if (old.sa_handler == SIG_IGN && user_sent)
			return;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		sigaction(sig, &dfl, NULL);
		/*
		 * Not blocked (SA_NODEFER), so this kills us before raise()
		 * returns.  If it ever did return, the faulting instruction
		 * runs again and faults into the default action.
		 */
		raise(sig);
		return;
	}

	if (old.sa_flags & SA_RESETHAND) {
		slot->sa_flags &= ~SA_SIGINFO;
		slot->sa_handler = SIG_DFL;
	}
	mask = old.sa_mask;
	if (!(old.sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (old.sa_flags & SA_SIGINFO)
		old.sa_sigaction(sig, si, ctx);
	else
		old.sa_handler(sig);
	/* sigreturn restores the mask the thread had at the fault. */
}

static void usercopy_handler(int sig, siginfo_t *si, void *ctx)
{
	/* si_code > 0: raised by the kernel for a fault, not by kill(). */
	if (si->si_code > 0) {
#if USERCOPY_FIXUP
		if (usercopy_fixup(ctx))
			return;
#else
		sigjmp_buf *jb = usercopy_guard;

		if (jb)
			siglongjmp(*jb, 1);
#endif
	}
	usercopy_chain(sig, si, ctx);
}

static void usercopy_install(void)
{
	struct sigaction sa;
	unsigned i;

	for (i = 0; i < 2; i++) {
		int sig = usercopy_sigs[i];

		/* Save the old one first: a fault may arrive as soon as ours is in. */
		sigaction(sig, NULL, &usercopy_prev[i]);
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = usercopy_handler;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER |
			      (usercopy_prev[i].sa_flags & SA_RESTART);
		sigaction(sig, &sa, NULL);
	}
#if USERCOPY_FIXUP
	/* libgcc's check covers the OS side too (XCR0 has the YMM state). */
	__builtin_cpu_init();
	usercopy_have_avx = __builtin_cpu_supports("avx");
#endif
	__atomic_store_n(&usercopy_ready, true, __ATOMIC_RELEASE);
}

/**
 * usercopy_init() - install the SIGSEGV/SIGBUS handler, once per process
 *
 * Safe to call from any number of threads; the copies call it themselves
 * the first time, so calling it is only needed to pin down the moment the
 * program's previous handlers are recorded.
 */
void usercopy_init(void)
{
	pthread_once(&usercopy_once, usercopy_install);
}

static inline bool usercopy_bad_range(const void *p, size_t n)
{
	return (uintptr_t)p + n < (uintptr_t)p;
}

static inline void usercopy_ensure(void)
{
	if (__builtin_expect(!__atomic_load_n(&usercopy_ready, __ATOMIC_ACQUIRE), 0))
		usercopy_init();
}

/**
 * copy_from_user() - copy n bytes from the caller's src into usock's dst
 * @dst:	usock buffer
 * @src:	caller's memory, any pointer
 * @n:		bytes; 0 touches nothing and succeeds, as in the kernel
 *
 * Return: 0, or -EFAULT if src + n wraps or a byte could not be read (dst
 * may then hold part of the data).
 */
int copy_from_user(void *dst, const void *src, size_t n)
{
	if (!n)
		return 0;
	if (usercopy_bad_range(src, n))
		return -EFAULT;
	usercopy_ensure();
	return usercopy_guarded(dst, src, n);
}

/**
 * copy_to_user() - copy n bytes from usock's src into the caller's dst
 * @dst:	caller's memory, any pointer
 * @src:	usock buffer
 * @n:		bytes; 0 touches nothing and succeeds
 *
 * Return: 0, or -EFAULT if dst + n wraps or a byte could not be written
 * (the bytes before the fault may have been written, as in the kernel).
 */
int copy_to_user(void *dst, const void *src, size_t n)
{
	if (!n)
		return 0;
	if (usercopy_bad_range(dst, n))
		return -EFAULT;
	usercopy_ensure();
	return usercopy_guarded(dst, src, n);
}
