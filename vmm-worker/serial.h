/*
 * serial.h - the 16550-style UART at 0x3f8: enough of it for a guest to
 * print.  Output goes to an optional console file and a ring that keeps the
 * console tail for the VmResult.
 */
#ifndef VMORCH_SERIAL_H
#define VMORCH_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/vm_result.h"

#define SERIAL_PORT_BASE 0x3f8
#define SERIAL_PORT_LEN	 8
#define SERIAL_LINE_MAX	 1024

struct serial {
	pthread_mutex_t lock;
	int out_fd;			/* console copy, or -1 */
	uint8_t regs[8];		/* IER, LCR, MCR, SCR and the divisor latch */
	uint8_t dll, dlm;
	char tail[VM_CONSOLE_TAIL_MAX];	/* ring of the last bytes */
	uint64_t total;			/* bytes ever written */
	char line[SERIAL_LINE_MAX + 1];	/* the line being assembled */
	uint32_t line_len;
	char result_line[SERIAL_LINE_MAX + 1];	/* last VMORCH-RESULT payload */
	uint64_t first_output_ns;	/* 0 until the guest prints */
};

void serial_init(struct serial *s, int out_fd);
void serial_destroy(struct serial *s);

/* A port access in [0x3f8, 0x400); @data is one byte. */
void serial_io(struct serial *s, uint16_t port, uint8_t *data, bool is_write);

/* Copy the console tail (oldest first, NUL-terminated) into @buf. */
void serial_copy_tail(struct serial *s, char *buf, size_t cap);

/* Copy the guest's result payload (JSON text after the prefix); false if none. */
bool serial_result_line(struct serial *s, char *buf, size_t cap);

#endif
