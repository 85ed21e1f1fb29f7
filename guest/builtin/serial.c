/*
 * serial.c - console output on the 16550 at 0x3f8 (where QEMU's microvm and
 * our VMM put it), FIFO on: poll LSR.THRE, then write up to 16 bytes to
 * THR.  Output only.
 */
#include "guest.h"
#include "protocol.h"

#define SERIAL_FCR		(GUEST_SERIAL_PORT + 2)
#define SERIAL_LSR		(GUEST_SERIAL_PORT + 5)
#define SERIAL_FCR_FIFO_ON	0x07	/* enable, clear both FIFOs */
#define SERIAL_LSR_THRE		0x20	/* FIFO mode: transmit FIFO empty */
#define SERIAL_FIFO		16
#define SERIAL_POLL_LIMIT	100000	/* a stuck UART must not hang us */

static bool fifo_on;

/* Every port access is an exit (about 9 us on PVM): poll once per
 * FIFO-full of bytes rather than once per byte. */
void serial_write(const char *s)
{
	if (!fifo_on) {
		outb(SERIAL_FCR, SERIAL_FCR_FIFO_ON);
		fifo_on = true;
	}
	while (*s) {
		for (int i = 0; i < SERIAL_POLL_LIMIT; i++)
			if (inb(SERIAL_LSR) & SERIAL_LSR_THRE)
				break;
		for (int n = 0; n < SERIAL_FIFO && *s; n++)
			outb(GUEST_SERIAL_PORT, (uint8_t)*s++);
	}
}

/*
 * A guest that floods its console, as a hostile or broken one may: @bytes
 * bytes of "vmorch-flood %016lx\n" lines (each the offset of its first
 * byte, so that a reader can check order and loss), the last one cut to
 * fit and ended by a newline (the result line must start a line), without
 * waiting for the UART: THR writes queue in the VMM's
 * coalesced ring, an exit per ring-full instead of one per 16 bytes.
 */
void serial_flood(uint64_t bytes)
{
	static const char hex[] = "0123456789abcdef";
	char line[SERIAL_FLOOD_LINE] = "vmorch-flood ";

	for (uint64_t i = 0; i < bytes; i++) {
		unsigned k = (unsigned)(i % SERIAL_FLOOD_LINE);

		if (k == 0) {
			for (int d = 0; d < 16; d++)
				line[13 + d] = hex[(i >> (4 * (15 - d))) & 15];
			line[SERIAL_FLOOD_LINE - 1] = '\n';
		}
		outb(GUEST_SERIAL_PORT, i + 1 == bytes ? '\n' : (uint8_t)line[k]);
	}
}

void serial_printf(const char *f, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, f);
	vfmt(buf, sizeof(buf), f, ap);
	va_end(ap);
	serial_write(buf);
}
