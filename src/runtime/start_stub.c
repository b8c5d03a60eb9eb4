#define _GNU_SOURCE
#include "start_stub.h"

#include "cold_start.h"
#include "image_info.h"
#include "phases.h"

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#define PAGE 4096u
#define MAX_INTERPRETER_SEGMENTS 16

/* crt1's entry, where ld.so goes once the program is loaded. */
extern char _start[];

/* Entered as the kernel enters a program: %rsp at argc.  A loader that
 * started the runtime itself (one whose PT_INTERP was not hidden) passes
 * its finalizer in %rdx, which _start must get back. */
__asm__(".text\n"
        ".globl pf_start_stub\n"
        ".type pf_start_stub, @function\n"
        "pf_start_stub:\n"
        "\tendbr64\n"
        "\txor %ebp, %ebp\n"
        "\tmov %rsp, %rdi\n"
        "\tmov %rdx, %rsi\n"
        "\tand $-16, %rsp\n"
        "\tcall pf_stub_main\n"
        "\thlt\n");

static long system_call(long number, long a, long b, long c, long d, long e, long f)
{
    long result;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static int failed(long result)
{
    return (unsigned long)result > -4096ul;
}

static _Noreturn void jump(uint64_t entry, uint64_t *stack, uint64_t finalizer)
{
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "jmp *%1"
                     :
                     : "r"(stack), "r"(entry), "d"(finalizer)
                     : "memory");
    __builtin_unreachable();
}

static unsigned long text_length(const char *text)
{
    unsigned long length = 0;
    while (text[length] != '\0')
        length++;
    return length;
}

static _Noreturn void die(const char *what)
{
    static const char prefix[] = "pyfreeze: starting the runtime failed: ";
    system_call(SYS_write, 2, (long)prefix, sizeof prefix - 1, 0, 0, 0);
    system_call(SYS_write, 2, (long)what, (long)text_length(what), 0, 0, 0);
    system_call(SYS_write, 2, (long)"\n", 1, 0, 0, 0);
    system_call(SYS_exit_group, 127, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

/* The value of NAME in ENVP ("NAME=value"), or 0. */
static const char *environment_value(char **envp, const char *name)
{
    for (; *envp != 0; envp++) {
        const char *entry = *envp, *wanted = name;
        while (*wanted != '\0' && *entry == *wanted) {
            entry++;
            wanted++;
        }
        if (*wanted == '\0' && *entry == '=')
            return entry + 1;
    }
    return 0;
}

/* As main's cold_start_requested(). */
static int cold_start_requested(char **envp)
{
    const char *value = environment_value(envp, PF_COLD_ENV);
    return value != 0 && value[0] != '\0' && !(value[0] == '0' && value[1] == '\0');
}

static char *decimal(char *out, uint64_t value)
{
    char digits[24];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0)
        *out++ = digits[--count];
    return out;
}

/* Under PYFREEZE_PHASES, the "main" mark the first execution's main used to
 * write (src/runtime/phases.c has the format). */
static void mark_phase(char **envp)
{
    const char *path = environment_value(envp, PF_PHASES_ENV);
    if (path == 0 || path[0] != '/')
        return;
    struct timespec now;
    struct rusage usage;
    if (failed(system_call(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&now, 0, 0, 0, 0)) ||
        failed(system_call(SYS_getrusage, RUSAGE_SELF, (long)&usage, 0, 0, 0, 0)))
        return;
    char line[80];
    line[0] = 'm', line[1] = 'a', line[2] = 'i', line[3] = 'n', line[4] = ' ';
    char *end = decimal(line + 5, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
    *end++ = ' ';
    end = decimal(end, (uint64_t)(usage.ru_minflt + usage.ru_majflt));
    *end++ = '\n';
    long fd = system_call(SYS_open, (long)path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600, 0, 0, 0);
    if (failed(fd))
        return;
    system_call(SYS_write, fd, (long)line, end - line, 0, 0, 0);
    system_call(SYS_close, fd, 0, 0, 0, 0, 0);
}

/* An image with native libraries needs them where the dump had them:
 * with randomisation on, it executes itself again without, as
 * pf_native_fix_layout() would in main, and through the path the kernel
 * was given (AT_EXECFN), so that the next execution knows it too.  Returns
 * when it does not apply or cannot be done: main then decides. */
static void fix_layout(char **argv, char **envp, const char *executed)
{
    if (pf_info.state != PF_STATE_IMAGE || pf_info.library_count == 0 || cold_start_requested(envp) ||
        executed == 0)
        return;
    long persona = system_call(SYS_personality, 0xffffffff, 0, 0, 0, 0, 0);
    if (failed(persona) || (persona & ADDR_NO_RANDOMIZE))
        return;
    if (failed(system_call(SYS_personality, persona | ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0)))
        return;
    mark_phase(envp);
    system_call(SYS_execve, (long)executed, (long)argv, (long)envp, 0, 0, 0);
    system_call(SYS_personality, persona, 0, 0, 0, 0, 0);
}

static int read_at(long fd, void *buffer, unsigned long size, uint64_t offset)
{
    long got = system_call(SYS_pread64, fd, (long)buffer, (long)size, (long)offset, 0, 0);
    return !failed(got) && (unsigned long)got == size;
}

static uint64_t page_down(uint64_t address)
{
    return address & ~(uint64_t)(PAGE - 1);
}

static uint64_t page_up(uint64_t address)
{
    return (address + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static long protection(uint32_t flags)
{
    return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) | ((flags & PF_X) ? PROT_EXEC : 0);
}

/* Maps one PT_LOAD of the interpreter at BASE, with its zero-filled tail,
 * as the kernel's ELF loader does. */
static void map_segment(long fd, const Elf64_Phdr *segment, uint64_t base)
{
    long prot = protection(segment->p_flags);
    uint64_t start = base + page_down(segment->p_vaddr);
    uint64_t file_end = base + segment->p_vaddr + segment->p_filesz;
    uint64_t memory_end = page_up(base + segment->p_vaddr + segment->p_memsz);
    if (segment->p_filesz > 0 &&
        failed(system_call(SYS_mmap, (long)start, (long)(page_up(file_end) - start), prot,
                           MAP_PRIVATE | MAP_FIXED, fd, (long)page_down(segment->p_offset))))
        die("cannot map the dynamic loader");
    if (segment->p_memsz <= segment->p_filesz)
        return;
    if ((prot & PROT_WRITE) && segment->p_filesz > 0)
        for (char *byte = (char *)file_end; (uint64_t)byte < page_up(file_end); byte++)
            *(volatile char *)byte = 0;
    uint64_t anonymous = segment->p_filesz > 0 ? page_up(file_end) : start;
    if (memory_end > anonymous &&
        failed(system_call(SYS_mmap, (long)anonymous, (long)(memory_end - anonymous), prot,
                           MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0)))
        die("cannot map the dynamic loader's zeroed memory");
}

/* Maps the interpreter at PATH where the kernel's loader would put it: its
 * whole span taken at once, top-down, each segment in place, the holes
 * between them given back.  Returns its load address; *ENTRY gets its
 * entry point. */
static uint64_t map_interpreter(const char *path, uint64_t *entry)
{
    long fd = system_call(SYS_open, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0, 0);
    if (failed(fd))
        die("cannot open the dynamic loader");
    Elf64_Ehdr header;
    Elf64_Phdr segments[MAX_INTERPRETER_SEGMENTS];
    if (!read_at(fd, &header, sizeof header, 0) || header.e_ident[EI_MAG0] != ELFMAG0 ||
        header.e_ident[EI_MAG1] != ELFMAG1 || header.e_ident[EI_MAG2] != ELFMAG2 ||
        header.e_ident[EI_MAG3] != ELFMAG3 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
        header.e_type != ET_DYN || header.e_machine != EM_X86_64 ||
        header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum > MAX_INTERPRETER_SEGMENTS ||
        !read_at(fd, segments, header.e_phnum * sizeof(Elf64_Phdr), header.e_phoff))
        die("the dynamic loader is not an x86-64 ELF shared object");
    uint64_t low = ~(uint64_t)0, high = 0;
    for (unsigned i = 0; i < header.e_phnum; i++) {
        if (segments[i].p_type != PT_LOAD)
            continue;
        if (page_down(segments[i].p_vaddr) < low)
            low = page_down(segments[i].p_vaddr);
        if (page_up(segments[i].p_vaddr + segments[i].p_memsz) > high)
            high = page_up(segments[i].p_vaddr + segments[i].p_memsz);
    }
    if (high <= low)
        die("the dynamic loader has nothing to load");
    long span = system_call(SYS_mmap, 0, (long)(high - low), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (failed(span))
        die("no room for the dynamic loader");
    uint64_t base = (uint64_t)span - low;
    uint64_t covered = base + low;
    for (unsigned i = 0; i < header.e_phnum; i++) {
        if (segments[i].p_type != PT_LOAD)
            continue;
        uint64_t start = base + page_down(segments[i].p_vaddr);
        if (start > covered)
            system_call(SYS_munmap, (long)covered, (long)(start - covered), 0, 0, 0, 0);
        map_segment(fd, &segments[i], base);
        covered = page_up(base + segments[i].p_vaddr + segments[i].p_memsz);
    }
    system_call(SYS_close, fd, 0, 0, 0, 0, 0);
    *entry = base + header.e_entry;
    return base;
}

__attribute__((used, visibility("hidden"))) _Noreturn void pf_stub_main(uint64_t *stack, uint64_t finalizer);

_Noreturn void pf_stub_main(uint64_t *stack, uint64_t finalizer)
{
    long argc = (long)stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    char **end = envp;
    while (*end != 0)
        end++;
    Elf64_auxv_t *auxv = (Elf64_auxv_t *)(end + 1);
    Elf64_auxv_t *base = 0, *entry = 0, *count = 0;
    const Elf64_Phdr *headers = 0;
    const char *executed = 0;
    for (Elf64_auxv_t *item = auxv; item->a_type != AT_NULL; item++) {
        if (item->a_type == AT_BASE)
            base = item;
        else if (item->a_type == AT_ENTRY)
            entry = item;
        else if (item->a_type == AT_PHNUM)
            count = item;
        else if (item->a_type == AT_PHDR)
            headers = (const Elf64_Phdr *)item->a_un.a_val;
        else if (item->a_type == AT_EXECFN)
            executed = (const char *)item->a_un.a_val;
    }
    /* Started by a loader already (PT_INTERP not hidden): go on as usual. */
    if (base != 0 && base->a_un.a_val != 0)
        jump((uint64_t)_start, stack, finalizer);
    if (base == 0 || entry == 0 || count == 0 || headers == 0 || headers[count->a_un.a_val].p_type != PT_INTERP)
        die("its program headers name no dynamic loader");
    fix_layout(argv, envp, executed);
    const Elf64_Phdr *interpreter = &headers[count->a_un.a_val];
    uint64_t start;
    base->a_un.a_val = map_interpreter((const char *)interpreter->p_vaddr, &start);
    entry->a_un.a_val = (uint64_t)_start;
    count->a_un.a_val++;      /* ld.so reads PT_INTERP, as under the kernel */
    jump(start, stack, 0);
}
