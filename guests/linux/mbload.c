// SPDX-License-Identifier: MIT
/*
 * mbload: a Multiboot (v1, ELF32) kernel as a KVM guest, started the way
 * nestvisor starts its L1 (README, "What L1 sees"; vmx/vmcs01.c,
 * vmx/l1_multiboot.c), so that the same benchmark L1 (guests/exitbench) runs
 * with Linux's KVM as its L0 (make compare-kvm). The KVM API reference is
 * Documentation/virt/kvm/api.rst.
 *
 *   - RAM at guest-physical 0 (-M MiB, default 128), one memory slot;
 *     KVM's in-kernel PIC, IOAPIC and local APIC (KVM_CREATE_IRQCHIP), as QEMU.
 *   - The kernel's PT_LOAD segments at their p_paddr, the modules after it
 *     (page-aligned), then the Multiboot information: mem_lower/mem_upper,
 *     boot device "none", the command line "<kernel path> <args>" (as QEMU
 *     and nestvisor give it), the modules, the loader name, a memory map.
 *   - 32-bit protected mode, paging off, flat 4 GiB segments (code 0x08,
 *     data 0x10), a busy 32-bit TSS at 0, GDTR/IDTR empty, CR0 = PE|ET,
 *     RFLAGS = 2, EAX = 0x2BADB002, EBX = the Multiboot information, ESP = 0.
 *   - CPUID: everything KVM supports (KVM_GET_SUPPORTED_CPUID: VMX with
 *     kvm_intel nested=1) plus the hypervisor bit and the CPU's brand string;
 *     the VMX capability MSRs are KVM's defaults.
 *   - Exits: COM1 (0x3f8-0x3ff) transmits to stdout (line status: always
 *     ready); port 0xf4 is the exit port of nestvisor and QEMU's
 *     isa-debug-exit (a write ends the run with status (value << 1) | 1, a
 *     read gives 0xff); any other port reads all ones and ignores writes, as
 *     an unassigned port; MMIO outside RAM reads all ones, writes ignored.
 *
 * Usage: mbload [-M MIB] [-t SECONDS] [-m FILE[:STRING]]... KERNEL [ARGS...]
 * Exit: 0 the guest wrote 0 to the exit port (status 1, success); 1 another
 * status; 2 mbload could not start the guest; 3 the guest ended otherwise
 * (triple fault, KVM error, time limit).
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define PAGE             0x1000ull
#define LOWER_MEMORY_END 0xa0000ull   /* 640 KiB */
#define EBDA_BASE        0x9fc00ull   /* reserved up to 640 KiB, as a PC BIOS leaves it */
#define BIOS_BASE        0xf0000ull   /* reserved up to 1 MiB */
#define UPPER_MEMORY     0x100000ull
#define KVM_TSS_ADDR     0xfffbd000u  /* three pages below 4 GiB, outside RAM (as QEMU) */
#define MBI_SIZE         0x4000u      /* the Multiboot information area */
#define MAX_MODULES      8
#define MAX_ARG_BYTES    4096

#define MB_HEADER_MAGIC  0x1badb002u  /* Multiboot 0.6.96, 3.1.1 "The layout of Multiboot header" */
#define MB_HEADER_SEARCH 8192
#define MB_HEADER_AOUT_KLUDGE (1u << 16)
#define MB_BOOT_MAGIC    0x2badb002u  /* 3.2 "Machine state": EAX */
#define BOOT_DEVICE_NONE 0x8000ffffu  /* as QEMU and nestvisor: drive 0x80, no partition */

/* Multiboot 0.6.96, 3.3 "Boot information format": the very structures nestvisor
 * hands its L1 (vmx/multiboot.h), so both L0s start exitbench alike. */
#include "vmx/multiboot.h"

/* The 16550 UART registers mbload answers (COM1). */
#define COM1        0x3f8
#define COM1_END    0x400
#define UART_THR    0           /* DLAB = 0: transmit holding register */
#define UART_LCR    3
#define UART_LSR    5
#define UART_SCR    7
#define UART_LCR_DLAB    0x80
#define UART_LSR_READY   0x60   /* THRE | TEMT: nothing waits to be sent */

#define EXIT_PORT   0xf4

enum { EXIT_OK, EXIT_STATUS, EXIT_SETUP, EXIT_ABNORMAL };

struct module {
	const char *path, *string;
};

struct guest {
	int kvm, vm, vcpu;
	uint8_t *ram;
	uint64_t ram_size;
	struct kvm_run *run;
	long run_size;
	/* COM1 */
	uint8_t lcr, scratch;
	char line[512];
	size_t line_len;
	/* what the run saw */
	unsigned long exits, io_exits, mmio_exits, other_ports;
};

static volatile sig_atomic_t timed_out;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "mbload: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -1;
}

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return fail("%s: %s", path, strerror(errno));
	*size = (size_t)st.st_size;
	*data = malloc(*size ? *size : 1);
	if (!*data)
		return fail("%s: out of memory", path);
	while ((size_t)got < *size) {
		ssize_t n = read(fd, *data + got, *size - (size_t)got);

		if (n <= 0) {
			close(fd);
			return fail("%s: read: %s", path, n ? strerror(errno) : "short file");
		}
		got += n;
	}
	close(fd);
	return 0;
}

/* ---- The VM --------------------------------------------------------------- */

static int guest_create(struct guest *g, uint64_t ram_size)
{
	struct kvm_userspace_memory_region region;
	int version;

	g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm < 0)
		return fail("/dev/kvm: %s (no VMX, or kvm_intel not loaded)", strerror(errno));
	version = ioctl(g->kvm, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return fail("KVM_GET_API_VERSION: %d, want %d", version, KVM_API_VERSION);
	g->run_size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (g->run_size <= 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		return fail("KVM_CREATE_VM: %s", strerror(errno));
	if (ioctl(g->vm, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return fail("KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (ioctl(g->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	g->ram_size = ram_size;
	g->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->ram == MAP_FAILED)
		return fail("mmap of %llu MiB of guest RAM: %s", (unsigned long long)(ram_size >> 20),
			    strerror(errno));
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
		.userspace_addr = (uintptr_t)g->ram,
	};
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return fail("KVM_CREATE_VCPU: %s", strerror(errno));
	g->run = mmap(NULL, (size_t)g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	if (g->run == MAP_FAILED)
		return fail("mmap of kvm_run: %s", strerror(errno));
	return 0;
}

/* CPUID leaves 0x80000002-4, the brand string, as this CPU has it (QEMU's -cpu host):
 * KVM_GET_SUPPORTED_CPUID gives them as zeros, and exitbench prints it. */
static void add_brand_string(struct kvm_cpuid2 *c, uint32_t max)
{
	if (__get_cpuid_max(0x80000000, NULL) < 0x80000004)
		return;
	for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; leaf++) {
		struct kvm_cpuid_entry2 *e = NULL;

		for (uint32_t i = 0; i < c->nent && !e; i++)
			if (c->entries[i].function == leaf)
				e = &c->entries[i];
		if (!e && c->nent < max)
			e = &c->entries[c->nent++];
		if (!e)
			return;
		*e = (struct kvm_cpuid_entry2){ .function = leaf };
		__cpuid(leaf, e->eax, e->ebx, e->ecx, e->edx);
	}
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000000 && c->entries[i].eax < 0x80000004)
			c->entries[i].eax = 0x80000004;
}

/* Everything KVM can offer the guest, VMX included, and the hypervisor bit (as QEMU). */
static int guest_set_cpuid(struct guest *g)
{
	enum { MAX_ENTRIES = 256 };
	static struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 entries[MAX_ENTRIES];
	} c;
	int vmx = 0;

	c.head.nent = MAX_ENTRIES;
	if (ioctl(g->kvm, KVM_GET_SUPPORTED_CPUID, &c) < 0)
		return fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	for (uint32_t i = 0; i < c.head.nent; i++) {
		struct kvm_cpuid_entry2 *e = &c.entries[i];

		if (e->function == 1) {
			e->ecx |= 1u << 31;                  /* CPUID.1:ECX.hypervisor */
			vmx = !!(e->ecx & (1u << 5));        /* CPUID.1:ECX.VMX */
		}
	}
	add_brand_string(&c.head, MAX_ENTRIES);
	if (!vmx)
		fprintf(stderr, "mbload: warning: KVM offers no VMX (kvm_intel nested=0?): "
				"the guest's L2 measurements will be skipped\n");
	if (ioctl(g->vcpu, KVM_SET_CPUID2, &c) < 0)
		return fail("KVM_SET_CPUID2: %s", strerror(errno));
	return 0;
}

/* ---- The kernel and its Multiboot information ---------------------------- */

/* Is [base, base + size) inside RAM? */
static int in_ram(const struct guest *g, uint64_t base, uint64_t size)
{
	return base <= g->ram_size && size <= g->ram_size - base;
}

/* The Multiboot header in the first 8 KiB: magic, flags, checksum (3.1.1). */
static int check_multiboot_header(const char *path, const uint8_t *img, size_t size)
{
	for (size_t off = 0; off + 12 <= size && off < MB_HEADER_SEARCH; off += 4) {
		uint32_t h[3];

		memcpy(h, img + off, sizeof(h));
		if (h[0] != MB_HEADER_MAGIC || (uint32_t)(h[0] + h[1] + h[2]) != 0)
			continue;
		if (h[1] & MB_HEADER_AOUT_KLUDGE)
			return fail("%s: Multiboot header asks for the a.out kludge (flag 16): "
				    "only ELF kernels are loaded", path);
		return 0;
	}
	return fail("%s: no Multiboot header in its first %d bytes", path, MB_HEADER_SEARCH);
}

/* The ELF32 PT_LOAD segments at their physical addresses; *end: the last byte + 1. */
static int load_elf32(struct guest *g, const char *path, uint32_t *entry, uint64_t *end)
{
	uint8_t *img;
	size_t size;
	Elf32_Ehdr eh;

	if (read_file(path, &img, &size) || check_multiboot_header(path, img, size))
		return -1;
	if (size < sizeof(eh))
		return fail("%s: too short for an ELF header", path);
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh.e_machine != EM_386 || eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(Elf32_Phdr))
		return fail("%s: not an ELF32 i386 executable", path);
	if ((uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr) > size)
		return fail("%s: program headers beyond the file", path);
	*end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || (uint64_t)ph.p_offset + ph.p_filesz > size)
			return fail("%s: segment %u is inconsistent", path, i);
		if (!in_ram(g, ph.p_paddr, ph.p_memsz) || ph.p_paddr < UPPER_MEMORY)
			return fail("%s: segment %u (0x%x+0x%x) is not in RAM above 1 MiB", path, i,
				    ph.p_paddr, ph.p_memsz);
		memcpy(g->ram + ph.p_paddr, img + ph.p_offset, ph.p_filesz);
		memset(g->ram + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + (uint64_t)ph.p_memsz > *end)
			*end = ph.p_paddr + (uint64_t)ph.p_memsz;
	}
	free(img);
	if (*end == 0)
		return fail("%s: no PT_LOAD segment", path);
	*entry = eh.e_entry;
	return 0;
}

/* A bump allocator in the Multiboot information area. */
struct area {
	struct guest *g;
	uint64_t base, used;
};

static uint32_t area_alloc(struct area *a, size_t size)
{
	uint64_t at = a->base + ((a->used + 7) & ~7ull);

	if (at + size > a->base + MBI_SIZE)
		return 0;
	a->used = at + size - a->base;
	return (uint32_t)at;
}

static uint32_t area_string(struct area *a, const char *s)
{
	uint32_t at = area_alloc(a, strlen(s) + 1);

	if (at)
		memcpy(a->g->ram + at, s, strlen(s) + 1);
	return at;
}

/*
 * The modules after the kernel, then the Multiboot information; returns its
 * address, or 0 (printed). The memory map is a PC's: low RAM up to the EBDA,
 * the BIOS area reserved, RAM from 1 MiB to the end.
 */
static uint32_t build_mbi(struct guest *g, uint64_t next, const char *cmdline,
			  const struct module *mods, unsigned nmods)
{
	const struct mb_mmap_entry map[] = {
		{ 20, 0, EBDA_BASE, MB_MMAP_AVAILABLE },
		{ 20, EBDA_BASE, LOWER_MEMORY_END - EBDA_BASE, MB_MMAP_RESERVED },
		{ 20, BIOS_BASE, UPPER_MEMORY - BIOS_BASE, MB_MMAP_RESERVED },
		{ 20, UPPER_MEMORY, g->ram_size - UPPER_MEMORY, MB_MMAP_AVAILABLE },
	};
	struct mb_module mod[MAX_MODULES];
	struct area a = { g, 0, 0 };
	struct mb_info *mbi;
	uint32_t at;

	for (unsigned i = 0; i < nmods; i++) {
		uint8_t *data;
		size_t size;

		next = page_up(next);
		if (read_file(mods[i].path, &data, &size))
			return 0;
		if (!in_ram(g, next, size) || next + size > 0xffffffffull) {
			fail("%s: module %u does not fit in RAM at 0x%llx", mods[i].path, i,
			     (unsigned long long)next);
			return 0;
		}
		memcpy(g->ram + next, data, size);
		free(data);
		mod[i] = (struct mb_module){ (uint32_t)next, (uint32_t)(next + size), 0, 0 };
		next += size;
	}
	a.base = page_up(next);
	if (!in_ram(g, a.base, MBI_SIZE)) {
		fail("the Multiboot information does not fit in RAM at 0x%llx",
		     (unsigned long long)a.base);
		return 0;
	}
	memset(g->ram + a.base, 0, MBI_SIZE);
	at = area_alloc(&a, sizeof(*mbi));
	mbi = (struct mb_info *)(g->ram + at);
	mbi->flags = MBI_FLAG_MEM | MBI_FLAG_BOOT_DEVICE | MBI_FLAG_CMDLINE | MBI_FLAG_MMAP |
		     MBI_FLAG_LOADER_NAME;
	mbi->mem_lower = (uint32_t)(EBDA_BASE / 1024);
	mbi->mem_upper = (uint32_t)((g->ram_size - UPPER_MEMORY) / 1024);
	mbi->boot_device = BOOT_DEVICE_NONE;
	mbi->cmdline = area_string(&a, cmdline);
	mbi->boot_loader_name = area_string(&a, "mbload (KVM)");
	if (nmods) {
		struct mb_module *out;

		mbi->flags |= MBI_FLAG_MODS;
		mbi->mods_count = nmods;
		mbi->mods_addr = area_alloc(&a, nmods * sizeof(*out));
		for (unsigned i = 0; i < nmods && mbi->mods_addr; i++) {
			mod[i].string = area_string(&a, mods[i].string);
			memcpy(g->ram + mbi->mods_addr + i * sizeof(*out), &mod[i], sizeof(mod[i]));
		}
	}
	mbi->mmap_length = sizeof(map);
	mbi->mmap_addr = area_alloc(&a, sizeof(map));
	if (!mbi->cmdline || !mbi->boot_loader_name || (nmods && !mbi->mods_addr) ||
	    !mbi->mmap_addr) {
		fail("the Multiboot information does not fit in its 0x%x bytes", MBI_SIZE);
		return 0;
	}
	memcpy(g->ram + mbi->mmap_addr, map, sizeof(map));
	return at;
}

/* ---- The start state (nestvisor's vmx/vmcs01.c: setup_guest_state) -------- */

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffffu, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

static int guest_set_start_state(struct guest *g, uint32_t entry, uint32_t mbi)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rax = MB_BOOT_MAGIC, .rbx = mbi, .rip = entry, .rsp = 0, .rflags = 2,
	};

	if (ioctl(g->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS: %s", strerror(errno));
	flat_segment(&sregs.cs, 0x08, 0xb);          /* execute/read, accessed */
	flat_segment(&sregs.ds, 0x10, 0x3);          /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .limit = 0xff, .type = 0xb, .present = 1 }; /* busy TSS */
	sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	sregs.gdt.base = sregs.idt.base = 0;
	sregs.gdt.limit = sregs.idt.limit = 0;
	sregs.cr0 = 0x11;                            /* PE | ET; paging off */
	sregs.cr2 = sregs.cr3 = sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(g->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS: %s", strerror(errno));
	if (ioctl(g->vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

/* ---- Exits ----------------------------------------------------------------- */

static void serial_flush(struct guest *g)
{
	if (!g->line_len)
		return;
	fwrite(g->line, 1, g->line_len, stdout);
	fflush(stdout);
	/* A serial console sends after write() returns: let it finish, so that no
	 * transmit interrupt of the host lands in the guest's next measurement. */
	if (isatty(STDOUT_FILENO))
		tcdrain(STDOUT_FILENO);
	g->line_len = 0;
}

static void serial_out(struct guest *g, unsigned reg, uint8_t v)
{
	if (reg == UART_LCR)
		g->lcr = v;
	else if (reg == UART_SCR)
		g->scratch = v;
	else if (reg == UART_THR && !(g->lcr & UART_LCR_DLAB)) {
		if (v == '\r')
			return;
		g->line[g->line_len++] = (char)v;
		if (v == '\n' || g->line_len == sizeof(g->line))
			serial_flush(g);
	}
}

static uint8_t serial_in(struct guest *g, unsigned reg)
{
	switch (reg) {
	case UART_LCR: return g->lcr;
	case UART_LSR: return UART_LSR_READY;
	case UART_SCR: return g->scratch;
	default: return 0;
	}
}

/* One KVM_EXIT_IO; returns 1 when the guest wrote to the exit port (*status set). */
static int handle_io(struct guest *g, unsigned *status)
{
	struct kvm_run *r = g->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	unsigned port = r->io.port;

	g->io_exits++;
	for (uint32_t n = 0; n < r->io.count; n++, data += r->io.size) {
		if (r->io.direction == KVM_EXIT_IO_OUT) {
			if (port == EXIT_PORT) {
				uint32_t v = 0;

				memcpy(&v, data, r->io.size);
				*status = (v << 1) | 1;
				return 1;
			}
			if (port >= COM1 && port < COM1_END)
				serial_out(g, port - COM1, data[0]);
			else
				g->other_ports++;
		} else if (port >= COM1 && port < COM1_END) {
			data[0] = serial_in(g, port - COM1);
		} else {
			g->other_ports += port != EXIT_PORT;
			memset(data, 0xff, r->io.size);
		}
	}
	return 0;
}

static void print_registers(struct guest *g)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(g->vcpu, KVM_GET_REGS, &regs) < 0 || ioctl(g->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return;
	printf("mbload: rip=0x%llx rsp=0x%llx rax=0x%llx rbx=0x%llx cr0=0x%llx cr3=0x%llx "
	       "cr4=0x%llx efer=0x%llx\n", (unsigned long long)regs.rip,
	       (unsigned long long)regs.rsp, (unsigned long long)regs.rax,
	       (unsigned long long)regs.rbx, (unsigned long long)sregs.cr0,
	       (unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4,
	       (unsigned long long)sregs.efer);
}

/* Run until the guest ends; returns mbload's exit status. */
static int guest_run(struct guest *g)
{
	const char *how;
	unsigned status = 0;

	for (;;) {
		struct kvm_run *r = g->run;

		if (ioctl(g->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			how = timed_out ? "time limit" : strerror(errno);
			break;
		}
		g->exits++;
		if (r->exit_reason == KVM_EXIT_IO) {
			if (handle_io(g, &status)) {
				serial_flush(g);
				printf("mbload: end: guest exit status 0x%x (guest wrote %u); "
				       "%lu exits to mbload (%lu I/O, %lu MMIO), %lu other port accesses\n",
				       status, status >> 1, g->exits, g->io_exits, g->mmio_exits,
				       g->other_ports);
				return status == 1 ? EXIT_OK : EXIT_STATUS;
			}
			continue;
		}
		if (r->exit_reason == KVM_EXIT_MMIO) {
			g->mmio_exits++;
			if (!r->mmio.is_write)
				memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
			continue;
		}
		if (r->exit_reason == KVM_EXIT_INTR)
			continue;
		if (r->exit_reason == KVM_EXIT_SHUTDOWN)
			how = "triple fault (KVM_EXIT_SHUTDOWN)";
		else if (r->exit_reason == KVM_EXIT_FAIL_ENTRY)
			how = "VM entry failed (KVM_EXIT_FAIL_ENTRY)";
		else if (r->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			how = "KVM internal error (KVM_EXIT_INTERNAL_ERROR)";
		else if (r->exit_reason == KVM_EXIT_HLT)
			how = "the guest halted (KVM_EXIT_HLT)";
		else
			how = "an exit mbload does not handle";
		printf("mbload: exit reason %u\n", r->exit_reason);
		break;
	}
	serial_flush(g);
	printf("mbload: end: failure: %s after %lu exits\n", how, g->exits);
	print_registers(g);
	return EXIT_ABNORMAL;
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: mbload [-M MIB] [-t SECONDS] [-m FILE[:STRING]]... KERNEL [ARGS...]\n");
	return EXIT_SETUP;
}

int main(int argc, char **argv)
{
	static struct guest g;
	struct module mods[MAX_MODULES];
	unsigned nmods = 0, megs = 128, seconds = 0;
	char cmdline[MAX_ARG_BYTES];
	size_t len;
	uint32_t entry = 0, mbi;
	uint64_t end = 0;
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "+M:t:m:")) != -1) {
		switch (opt) {
		case 'M':
			megs = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 't':
			seconds = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'm': {
			char *colon = strchr(optarg, ':');

			if (nmods == MAX_MODULES)
				return fail("at most %d modules", MAX_MODULES), EXIT_SETUP;
			/* The module's string is its path, then its arguments (as GRUB and nestvisor). */
			if (colon) {
				*colon = ' ';
				mods[nmods].string = optarg;
				mods[nmods].path = strndup(optarg, (size_t)(colon - optarg));
			} else {
				mods[nmods].path = mods[nmods].string = optarg;
			}
			nmods++;
			break;
		}
		default:
			return usage();
		}
	}
	if (optind >= argc || megs < 2 || megs > 3072)
		return usage();
	/* "<kernel path> <args>", as QEMU's -kernel and nestvisor give a Multiboot kernel. */
	len = (size_t)snprintf(cmdline, sizeof(cmdline), "%s", argv[optind]);
	for (int i = optind + 1; i < argc && len < sizeof(cmdline); i++)
		len += (size_t)snprintf(cmdline + len, sizeof(cmdline) - len, " %s", argv[i]);
	if (len >= sizeof(cmdline))
		return fail("the command line is longer than %d bytes", MAX_ARG_BYTES - 1), EXIT_SETUP;

	if (guest_create(&g, (uint64_t)megs << 20) || guest_set_cpuid(&g) ||
	    load_elf32(&g, argv[optind], &entry, &end))
		return EXIT_SETUP;
	mbi = build_mbi(&g, end, cmdline, mods, nmods);
	if (!mbi || guest_set_start_state(&g, entry, mbi))
		return EXIT_SETUP;
	printf("mbload: %s: entry 0x%x, image to 0x%llx, Multiboot information at 0x%x, "
	       "%u MiB of RAM, %u module(s); cmdline \"%s\"\n", argv[optind], entry,
	       (unsigned long long)end, mbi, megs, nmods, cmdline);
	if (seconds) {
		struct sigaction sa = { .sa_handler = on_alarm };

		sigaction(SIGALRM, &sa, NULL);
		alarm(seconds);
	}
	return guest_run(&g);
}
