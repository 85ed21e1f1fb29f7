/*
 * serial.h - the 16550A-style UART at 0x3f8: enough of it for a guest to
 * print, polling (the built-in guest, early consoles) or driven by its
 * transmit interrupt (Linux's 8250 driver).  Output goes to an optional
 * console file, a ring that keeps the console tail for the VmResult, and
 * the shm region's console ring (the whole console, capped, which vmorch
 * stores); a kernel panic line is reported as soon as it is complete.
 */
#ifndef VMORCH_SERIAL_H
#define VMORCH_SERIAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/vm_result.h"
#include "guest/builtin/protocol.h"

#define SERIAL_PORT_BASE 0x3f8
#define SERIAL_PORT_LEN	 8
#define SERIAL_LINE_MAX	 32768	/* a result line with 256 figures fits */
#define SERIAL_IRQ	 4	/* COM1's ISA interrupt */
#define SERIAL_PANIC_TEXT "Kernel panic - not syncing"

struct serial {
	pthread_mutex_t lock;
	int out_fd;			/* console copy, or -1 */
	uint8_t regs[8];		/* IER, LCR, MCR, SCR and the divisor latch */
	uint8_t dll, dlm;
	uint8_t fcr;			/* FIFO enable: IIR's top bits say 16550A */
	bool thr_ipending;		/* "transmitter empty" interrupt pending */
	int vm_fd;			/* for KVM_IRQ_LINE, or -1: no interrupts */
	bool irq_level;			/* what the line was last set to */
	/* Called once, under the lock, with the first panic line. */
	void (*on_panic)(void *ctx, const char *line);
	void *panic_ctx;
	bool panicked;
	char tail[VM_CONSOLE_TAIL_MAX];	/* ring of the last bytes */
	uint64_t total;			/* bytes ever written */
	char *ring;			/* the shm region's console ring, or NULL */
	uint32_t ring_cap, ring_pos;	/* ring_pos == total % ring_cap */
	_Atomic uint64_t *ring_total;	/* the region's console_total */
	char line[SERIAL_LINE_MAX + 1];	/* the line being assembled */
	uint32_t line_len;
	char result_line[SERIAL_LINE_MAX + 1];	/* last VMORCH-RESULT payload */
	char nonce[GUEST_NONCE_LEN + 1];	/* a result line must carry it; "" none */
	uint64_t first_output_ns;	/* 0 until the guest prints */
};

void serial_init(struct serial *s, int out_fd);
void serial_destroy(struct serial *s);

/*
 * Keep the whole console from now on (before the guest runs) in @ring of
 * @cap bytes, the count in @total: the shm region's (common/shm.h).
 */
void serial_set_ring(struct serial *s, char *ring, uint32_t cap, _Atomic uint64_t *total);

/* Raise COM1's interrupt through @vm_fd's in-kernel irqchip from now on. */
void serial_enable_irq(struct serial *s, int vm_fd);

/* True once the guest enabled the transmit interrupt (interrupt-driven output). */
bool serial_tx_irq_enabled(struct serial *s);

/* A port access in [0x3f8, 0x400); @data is one byte. */
void serial_io(struct serial *s, uint16_t port, uint8_t *data, bool is_write);

/* Copy the console tail (oldest first, NUL-terminated) into @buf. */
void serial_copy_tail(struct serial *s, char *buf, size_t cap);

/*
 * From now on a result line counts only as "VMORCH-RESULT @nonce {...}":
 * the agent of a Linux guest prints the nonce it alone was given, so a
 * line the user's program prints on the same console is not taken for it.
 */
void serial_set_nonce(struct serial *s, const char *nonce);

/* Copy the guest's result payload (JSON text after the prefix); false if none. */
bool serial_result_line(struct serial *s, char *buf, size_t cap);

#endif
