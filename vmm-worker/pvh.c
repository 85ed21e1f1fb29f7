/*
 * pvh.c - the PVH ELF loader and start-info writer (see pvh.h).
 *
 * The ELF comes from the user (a kernel) or from our own build (the built-in
 * guest); every header field is checked against the file's size and guest
 * RAM before anything is copied.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vmm-worker/pvh.h"

static int elf_check_header(const Elf64_Ehdr *eh, size_t len, struct verr *e)
{
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) {
		verr_set(e, "not an ELF file");
		return -ENOEXEC;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64) {
		verr_set(e, "not a little-endian x86-64 ELF (class %u, machine %u)",
			 eh->e_ident[EI_CLASS], eh->e_machine);
		return -ENOEXEC;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff) {
		verr_set(e, "ELF program headers out of the file's bounds");
		return -ENOEXEC;
	}
	return 0;
}

/* Walk one PT_NOTE segment for Xen's PHYS32_ENTRY note. */
static int elf_find_pvh_note(const uint8_t *p, uint64_t size, uint32_t *entry)
{
	uint64_t off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_len, desc_len;

		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		name_len = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
		desc_len = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
		if (name_len > size - off || desc_len > size - off - name_len)
			return -ENOEXEC;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(p + off, "Xen", 4) == 0 && nh.n_descsz >= 4) {
			memcpy(entry, p + off + name_len, 4);
			return 0;
		}
		off += name_len + desc_len;
	}
	return -ENOENT;
}

int pvh_load_elf(const struct guest_mem *mem, const uint8_t *elf, size_t len,
		 uint32_t *entry, struct verr *e)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
	bool found = false;
	int rc, nload = 0;

	rc = elf_check_header(eh, len, e);
	if (rc)
		return rc;
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, elf + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			verr_set(e, "ELF segment %d lies outside the file", i);
			return -ENOEXEC;
		}
		if (ph.p_type == PT_NOTE && !found) {
			found = elf_find_pvh_note(elf + ph.p_offset, ph.p_filesz, entry) == 0;
			continue;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_paddr < PVH_IMAGE_MIN_GPA) {
			verr_set(e, "ELF segment %d: bad sizes or loads below 1 MiB "
				 "(paddr 0x%llx)", i, (unsigned long long)ph.p_paddr);
			return -ENOEXEC;
		}
		dst = gmem_ptr(mem, ph.p_paddr, ph.p_memsz);
		if (!dst) {
			verr_set(e, "ELF segment %d (0x%llx + 0x%llx) does not fit in "
				 "%llu MiB of guest memory", i,
				 (unsigned long long)ph.p_paddr,
				 (unsigned long long)ph.p_memsz,
				 (unsigned long long)(mem->size >> 20));
			return -E2BIG;
		}
		memcpy(dst, elf + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		nload++;
	}
	if (!nload) {
		verr_set(e, "ELF has no loadable segment");
		return -ENOEXEC;
	}
	if (!found) {
		verr_set(e, "ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
			 "is it a PVH-capable kernel?");
		return -ENOEXEC;
	}
	return 0;
}

int pvh_write_boot_info(const struct guest_mem *mem, const struct pvh_boot_info *bi,
			uint64_t *start_info_gpa, struct verr *e)
{
	struct hvm_memmap_table_entry map[] = {
		{ .addr = 0, .size = 0x9fc00, .type = 1 },
		{ .addr = 0x9fc00, .size = 0x100000 - 0x9fc00, .type = 2 },
		{ .addr = 0x100000, .size = 0, .type = 1 },
	};
	struct hvm_start_info si = {
		.magic = PVH_START_INFO_MAGIC,
		.version = 1,
		.cmdline_paddr = PVH_CMDLINE_GPA,
		.memmap_paddr = PVH_MEMMAP_GPA,
		.memmap_entries = sizeof(map) / sizeof(map[0]),
		.rsdp_paddr = bi->rsdp_gpa,
	};
	size_t clen = strlen(bi->cmdline);
	void *p;

	if (clen > PVH_CMDLINE_MAX) {
		verr_set(e, "kernel command line is %zu bytes, at most %d", clen,
			 PVH_CMDLINE_MAX);
		return -E2BIG;
	}
	if (mem->size <= 0x100000) {
		verr_set(e, "guest memory too small for PVH boot");
		return -E2BIG;
	}
	if (bi->module_size && !gmem_ptr(mem, bi->module_gpa, bi->module_size)) {
		verr_set(e, "PVH module (0x%llx + 0x%llx) outside guest memory",
			 (unsigned long long)bi->module_gpa,
			 (unsigned long long)bi->module_size);
		return -EINVAL;
	}
	map[2].size = mem->size - 0x100000;
	if (bi->module_size) {
		struct hvm_modlist_entry mod = {
			.paddr = bi->module_gpa, .size = bi->module_size,
		};

		memcpy(gmem_ptr(mem, PVH_MODLIST_GPA, sizeof(mod)), &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST_GPA;
	}
	memcpy(gmem_ptr(mem, PVH_CMDLINE_GPA, clen + 1), bi->cmdline, clen + 1);
	p = gmem_ptr(mem, PVH_MEMMAP_GPA, sizeof(map));
	memcpy(p, map, sizeof(map));
	memcpy(gmem_ptr(mem, PVH_START_INFO_GPA, sizeof(si)), &si, sizeof(si));
	*start_info_gpa = PVH_START_INFO_GPA;
	return 0;
}

int pvh_write_start_info(const struct guest_mem *mem, const char *cmdline,
			 uint64_t *start_info_gpa, struct verr *e)
{
	const struct pvh_boot_info bi = { .cmdline = cmdline };

	return pvh_write_boot_info(mem, &bi, start_info_gpa, e);
}
