/*
 * serial.c - a 16550A at 0x3f8: transmit always ready (a byte is "sent" the
 * moment it is written), nothing to receive.  Guests that poll LSR (the
 * built-in guest, Linux's console) never enable interrupts; Linux's tty
 * layer does and waits for "transmitter empty" interrupts, which this
 * raises on COM1's line (IRQ 4) like a real UART: pending while the holding
 * register is empty and the interrupt enabled, cleared by reading IIR or
 * writing THR.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "common/shm.h"
#include "guest/builtin/protocol.h"
#include "vmm-worker/serial.h"

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define UART_LCR_DLAB	0x80
#define UART_IER_MASK	0x0f
#define UART_IER_THRI	0x02	/* interrupt when the holding register empties */
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */
#define UART_IIR_NONE	0x01	/* no interrupt pending */
#define UART_IIR_THRI	0x02	/* transmitter holding register empty */
#define UART_IIR_FIFO	0xc0	/* FIFOs enabled: what makes it a 16550A */
#define UART_FCR_ENABLE	0x01
#define UART_MCR_LOOP	0x10
#define UART_MSR_READY	0xb0	/* DCD, DSR, CTS */

void serial_init(struct serial *s, int out_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->vm_fd = -1;
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

void serial_set_ring(struct serial *s, char *ring, uint32_t cap, _Atomic uint64_t *total)
{
	pthread_mutex_lock(&s->lock);
	s->ring = cap ? ring : NULL;
	s->ring_cap = cap;
	s->ring_pos = (uint32_t)(cap ? s->total % cap : 0);
	s->ring_total = total;
	if (s->ring)
		atomic_store_explicit(total, s->total, memory_order_release);
	pthread_mutex_unlock(&s->lock);
}

void serial_enable_irq(struct serial *s, int vm_fd)
{
	pthread_mutex_lock(&s->lock);
	s->vm_fd = vm_fd;
	pthread_mutex_unlock(&s->lock);
}

bool serial_tx_irq_enabled(struct serial *s)
{
	bool on;

	pthread_mutex_lock(&s->lock);
	on = s->regs[UART_IER] & UART_IER_THRI;
	pthread_mutex_unlock(&s->lock);
	return on;
}

static void serial_set_line(struct serial *s, bool level)
{
	struct kvm_irq_level irq = { .irq = SERIAL_IRQ, .level = level };

	if (s->vm_fd < 0 || s->irq_level == level)
		return;
	s->irq_level = level;
	if (ioctl(s->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		/* No irqchip: the guest polls or gets nothing; nothing to report. */
	}
}

/* The line follows "an enabled interrupt is pending" (edge at the IOAPIC). */
static void serial_update_irq(struct serial *s)
{
	serial_set_line(s, s->thr_ipending && (s->regs[UART_IER] & UART_IER_THRI));
}

static void serial_end_line(struct serial *s)
{
	static const char prefix[] = GUEST_RESULT_PREFIX;
	size_t plen = sizeof(prefix) - 1;

	size_t nlen = strlen(s->nonce);

	s->line[s->line_len] = 0;
	if (s->line_len >= plen && memcmp(s->line, prefix, plen) == 0) {
		const char *rest = s->line + plen;

		if (!nlen)
			memcpy(s->result_line, rest, s->line_len - plen + 1);
		else if (!strncmp(rest, s->nonce, nlen) && rest[nlen] == ' ')
			memcpy(s->result_line, rest + nlen + 1, s->line_len - plen - nlen);
	}
	if (!s->panicked && s->on_panic && strstr(s->line, SERIAL_PANIC_TEXT)) {
		s->panicked = true;
		s->on_panic(s->panic_ctx, s->line);
	}
	s->line_len = 0;
}

static void serial_put(struct serial *s, uint8_t c)
{
	if (!s->first_output_ns)
		s->first_output_ns = clock_ns();
	s->tail[s->total % VM_CONSOLE_TAIL_MAX] = (char)c;
	s->total++;
	/* Two stores and a compare: no system call, whatever the guest prints. */
	if (s->ring) {
		s->ring[s->ring_pos] = (char)c;
		if (++s->ring_pos == s->ring_cap)
			s->ring_pos = 0;
		atomic_store_explicit(s->ring_total, s->total, memory_order_release);
	}
	if (s->out_fd >= 0 && write(s->out_fd, &c, 1) < 0)
		s->out_fd = -1;	/* console copy is best effort */
	if (c == '\n') {
		serial_end_line(s);
	} else if (c != '\r' && s->line_len < SERIAL_LINE_MAX) {
		s->line[s->line_len++] = (char)c;
	}
}

static uint8_t serial_read_iir(struct serial *s)
{
	uint8_t iir = UART_IIR_NONE;

	if ((s->regs[UART_IER] & UART_IER_THRI) && s->thr_ipending) {
		iir = UART_IIR_THRI;
		s->thr_ipending = false;	/* reading IIR acknowledges it */
		serial_update_irq(s);
	}
	return iir | ((s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
}

/* In loopback the modem inputs echo MCR: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
static uint8_t serial_read_msr(struct serial *s)
{
	uint8_t mcr = s->regs[UART_MCR];

	if (!(mcr & UART_MCR_LOOP))
		return UART_MSR_READY;
	return (uint8_t)(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x0c) << 4));
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
		return serial_read_iir(s);
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return serial_read_msr(s);
	default:
		return s->regs[reg];
	}
}

static void serial_write_thr(struct serial *s, uint8_t v)
{
	/* Sent at once: the holding register empties again, a fresh edge. */
	s->thr_ipending = false;
	serial_update_irq(s);
	if (!(s->regs[UART_MCR] & UART_MCR_LOOP))
		serial_put(s, v);
	s->thr_ipending = true;
	serial_update_irq(s);
}

static void serial_write_ier(struct serial *s, uint8_t v)
{
	uint8_t old = s->regs[UART_IER];

	s->regs[UART_IER] = v & UART_IER_MASK;
	/* Enabling THRI with the register empty raises it (the 8250 driver tests this). */
	if ((v & UART_IER_THRI) && !(old & UART_IER_THRI))
		s->thr_ipending = true;
	serial_update_irq(s);
}

static void serial_write(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->regs[UART_LCR] & UART_LCR_DLAB;

	if (reg == UART_RBR_THR && dlab)
		s->dll = v;
	else if (reg == UART_RBR_THR)
		serial_write_thr(s, v);
	else if (reg == UART_IER && dlab)
		s->dlm = v;
	else if (reg == UART_IER)
		serial_write_ier(s, v);
	else if (reg == UART_IIR_FCR)
		s->fcr = v;
	else if (reg != UART_LSR && reg != UART_MSR)
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

void serial_set_nonce(struct serial *s, const char *nonce)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->nonce, sizeof(s->nonce), "%s", nonce);
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
