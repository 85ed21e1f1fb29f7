/*
 * serial.c - a write-mostly 16550: transmit always ready, nothing to
 * receive, no interrupts.  Guests that poll LSR before each byte (the
 * built-in guest, Linux's early console) see an idle, ready line.
 */
#include <string.h>
#include <unistd.h>

#include "common/shm.h"
#include "guest/builtin/protocol.h"
#include "vmm-worker/serial.h"

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define UART_LCR_DLAB	0x80
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */
#define UART_IIR_NONE	0x01	/* no interrupt pending */
#define UART_MSR_READY	0xb0	/* DCD, DSR, CTS */

void serial_init(struct serial *s, int out_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

static void serial_end_line(struct serial *s)
{
	static const char prefix[] = GUEST_RESULT_PREFIX;
	size_t plen = sizeof(prefix) - 1;

	s->line[s->line_len] = 0;
	if (s->line_len >= plen && memcmp(s->line, prefix, plen) == 0)
		memcpy(s->result_line, s->line + plen, s->line_len - plen + 1);
	s->line_len = 0;
}

static void serial_put(struct serial *s, uint8_t c)
{
	if (!s->first_output_ns)
		s->first_output_ns = shm_now_ns();
	s->tail[s->total % VM_CONSOLE_TAIL_MAX] = (char)c;
	s->total++;
	if (s->out_fd >= 0 && write(s->out_fd, &c, 1) < 0)
		s->out_fd = -1;	/* console copy is best effort */
	if (c == '\n') {
		serial_end_line(s);
	} else if (c != '\r' && s->line_len < SERIAL_LINE_MAX) {
		s->line[s->line_len++] = (char)c;
	}
}

static uint8_t serial_read(struct serial *s, unsigned reg)
{
	bool dlab = s->regs[UART_LCR] & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? s->dll : 0;
	case UART_IER:
		return dlab ? s->dlm : s->regs[UART_IER];
	case UART_IIR_FCR:
		return UART_IIR_NONE;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return UART_MSR_READY;
	default:
		return s->regs[reg];
	}
}

static void serial_write(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->regs[UART_LCR] & UART_LCR_DLAB;

	if (reg == UART_RBR_THR && dlab)
		s->dll = v;
	else if (reg == UART_RBR_THR)
		serial_put(s, v);
	else if (reg == UART_IER && dlab)
		s->dlm = v;
	else if (reg != UART_LSR && reg != UART_MSR && reg != UART_IIR_FCR)
		s->regs[reg] = v;
}

void serial_io(struct serial *s, uint16_t port, uint8_t *data, bool is_write)
{
	unsigned reg = (unsigned)(port - SERIAL_PORT_BASE) & 7;

	pthread_mutex_lock(&s->lock);
	if (is_write)
		serial_write(s, reg, *data);
	else
		*data = serial_read(s, reg);
	pthread_mutex_unlock(&s->lock);
}

void serial_copy_tail(struct serial *s, char *buf, size_t cap)
{
	uint64_t n, start;
	size_t i;

	pthread_mutex_lock(&s->lock);
	n = s->total < VM_CONSOLE_TAIL_MAX ? s->total : VM_CONSOLE_TAIL_MAX;
	if (n > cap - 1)
		n = cap - 1;
	start = s->total - n;
	for (i = 0; i < n; i++) {
		char c = s->tail[(start + i) % VM_CONSOLE_TAIL_MAX];

		buf[i] = c ? c : '?';	/* a NUL would cut the text short */
	}
	buf[i] = 0;
	pthread_mutex_unlock(&s->lock);
}

bool serial_result_line(struct serial *s, char *buf, size_t cap)
{
	bool found;

	pthread_mutex_lock(&s->lock);
	found = s->result_line[0] != 0;
	if (found) {
		strncpy(buf, s->result_line, cap - 1);
		buf[cap - 1] = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}
