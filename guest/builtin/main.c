/*
 * main.c - the built-in guest's main line: read hvm_start_info (PVH), parse
 * the workload, find the virtio-blk disks, run the workload (or a hostile
 * mode) on each, print the VMORCH-RESULT line and leave by the exit port.
 */
#include "guest.h"
#include "protocol.h"

#define HVM_START_MAGIC		0x336ec578u
#define E820_RAM		1
#define DEFAULT_RAM_END		(16u << 20)
#define DEFAULT_IRQ_BASE	5

/* Xen's public start_info.h layout (PVH boot ABI). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

extern char __image_start[], __image_end[];
void guest_main(uint32_t start_info) __attribute__((noreturn));

bool guest_in_ring0;
static char reason[128];
static struct guest_cfg cfg;
static struct run_stats stats;
static struct disk disks[MAX_DISKS];
static unsigned ndisks;

int fail(const char *f, ...)
{
	va_list ap;

	if (!reason[0]) {
		va_start(ap, f);
		vfmt(reason, sizeof(reason), f, ap);
		va_end(ap);
	}
	return -1;
}

/* The reason goes into a JSON string: keep it printable, no quotes. */
static void reason_sanitize(void)
{
	for (char *p = reason; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			*p = '\'';
}

void guest_finish(int rc)
{
	char line[512];
	uint64_t irqs = 0;
	bool pass = rc == 0 && stats.verify_errors == 0;
	int n;

	if (rc == 0 && stats.verify_errors)
		fail("verify: %lu bad sectors", (unsigned long)stats.verify_errors);
	if (!pass && !reason[0])
		fail("unknown error");
	for (unsigned i = 0; i < ndisks; i++)
		irqs += irq_count[disks[i].index];
	reason_sanitize();
	n = fmt(line, sizeof(line),
		GUEST_RESULT_PREFIX "{\"status\":\"%s\",\"disks\":%u,\"ops\":%lu,"
		"\"reads\":%lu,\"writes\":%lu,\"flushes\":%lu,\"bytes_read\":%lu,"
		"\"bytes_written\":%lu,\"verify_errors\":%lu,\"irqs\":%lu,"
		"\"cycles\":%lu,\"tsc_khz\":%lu",
		pass ? "pass" : "fail", ndisks, (unsigned long)stats.ops,
		(unsigned long)stats.reads, (unsigned long)stats.writes,
		(unsigned long)stats.flushes, (unsigned long)stats.bytes_read,
		(unsigned long)stats.bytes_written,
		(unsigned long)stats.verify_errors, (unsigned long)irqs,
		(unsigned long)stats.cycles, (unsigned long)tsc_khz());
	if (!pass)
		fmt(line + n, sizeof(line) - n, ",\"reason\":\"%s\"}\n", reason);
	else
		fmt(line + n, sizeof(line) - n, "}\n");
	serial_write(line);
	outl(GUEST_DEBUG_EXIT_PORT, pass ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL);
	for (;;) {
		if (guest_in_ring0)	/* an exception handler ended the run */
			__asm__ volatile("cli; hlt");
		else
			svc_call(SVC_HALT);
	}
}

/* Buffers live in the RAM region that holds the image; without a memory
 * map assume 16 MiB. */
static void mem_setup(const struct hvm_start_info *si)
{
	uint64_t start = (uintptr_t)__image_end, end = DEFAULT_RAM_END, top = 0;
	const struct hvm_memmap_entry *e;

	if (si->version >= 1 && si->memmap_paddr) {
		e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
		for (uint32_t i = 0; i < si->memmap_entries; i++) {
			if (e[i].type != E820_RAM)
				continue;
			if (e[i].addr + e[i].size > top)
				top = e[i].addr + e[i].size;
			if (e[i].addr <= (uintptr_t)__image_start &&
			    e[i].addr + e[i].size > start)
				end = e[i].addr + e[i].size;
		}
	}
	mem_init(start, end, top ? top : end);
}

/* Scan every window for a virtio-blk device; ascending address order. */
static int disks_probe(void)
{
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_WINDOWS; i++) {
		uintptr_t base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_WINDOW;
		struct disk *d = &disks[ndisks];
		uint32_t version;

		if (!vmmio_is_blk(base, &version))
			continue;
		if (version != 2)
			return fail("virtio-mmio at %lx is version %u, need 2 "
				    "(QEMU: -global virtio-mmio.force-legacy=false)",
				    (unsigned long)base, version);
		d->index = ndisks++;
		d->base = base;
		d->irq = DEFAULT_IRQ_BASE + i;
		for (unsigned h = 0; h < cfg.nhints; h++)
			if (cfg.hints[h].addr == base)
				d->irq = cfg.hints[h].irq;
	}
	return 0;
}

static int disks_open(void)
{
	int rc;

	if (cfg.irq && ndisks)
		irq_start_controllers();
	for (unsigned i = 0; i < ndisks; i++) {
		struct disk *d = &disks[i];

		if ((rc = blk_open(d, &cfg)))
			return rc;
		if (cfg.irq) {
			irq_route_disk(d);
			vmmio_irq_ack(d);	/* a line left high would hide every edge */
		}
		serial_printf("vmorch-guest: disk %u at %lx irq %u: capacity %lu "
			      "sectors, queue %u, features %lx\n", i,
			      (unsigned long)d->base, d->irq,
			      (unsigned long)d->capacity, d->qsize,
			      (unsigned long)d->features);
	}
	return 0;
}

static int run(const struct hvm_start_info *si)
{
	const char *cmdline = "";
	unsigned first = 0;
	int rc;

	if (si->magic != HVM_START_MAGIC)
		return fail("bad hvm_start_info magic %x", si->magic);
	if (si->cmdline_paddr)
		cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	if ((rc = cfg_parse(&cfg, cmdline)))
		return rc;
	mem_setup(si);
	serial_flood(cfg.flood);
	if (cfg.hostile == HOSTILE_BAD_INSN) {
		hostile_bad_insn();
		return fail("bad_insn: int3 returned");
	}
	if ((rc = disks_probe()) || (rc = disks_open()))
		return rc;
	if (cfg.hostile != HOSTILE_NONE) {
		if (!ndisks)
			return fail("hostile=%s needs a disk", hostile_name(cfg.hostile));
		if ((rc = hostile_run(&disks[0], &cfg, &stats)))
			return rc;
		first = 1;
	}
	for (unsigned i = first; i < ndisks; i++) {
		if ((rc = workload_run_disk(&disks[i], &cfg, &stats)))
			return rc;
		serial_printf("vmorch-guest: disk %u done\n", i);
	}
	return 0;
}

/* Entered from entry.S at CPL 3 (IOPL 3, IF 0): everything from here on
 * runs in ring 3 except the interrupt stubs and the ring-0 service. */
void guest_main(uint32_t start_info)
{
	irq_init();
	tsc_init();
	serial_printf("vmorch-guest: start (tsc %s, %lu kHz)\n",
		      tsc_works() ? "ok" : "stopped", (unsigned long)tsc_khz());
	guest_finish(run((const struct hvm_start_info *)(uintptr_t)start_info));
}
