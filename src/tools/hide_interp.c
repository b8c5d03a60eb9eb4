/* hide_interp IN OUT: writes OUT, the runtime IN with its PT_INTERP program
 * header moved past e_phnum, where the kernel does not look and ld.so,
 * told the count by src/runtime/start_stub.c, still finds it.  A build
 * step: the kernel then starts the runtime at its stub, without loading
 * ld.so for an execution that only re-executes. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "hide_interp: %s: %s\n", path, what);
    return 1;
}

static unsigned char *read_whole(const char *path, size_t *size)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        return NULL;
    unsigned char *bytes = NULL;
    if (fseek(in, 0, SEEK_END) == 0) {
        long length = ftell(in);
        if (length > 0 && fseek(in, 0, SEEK_SET) == 0 && (bytes = malloc((size_t)length)) != NULL &&
            fread(bytes, 1, (size_t)length, in) != (size_t)length) {
            free(bytes);
            bytes = NULL;
        }
        *size = length > 0 ? (size_t)length : 0;
    }
    fclose(in);
    return bytes;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: hide_interp IN OUT\n", stderr);
        return 2;
    }
    size_t size = 0;
    unsigned char *bytes = read_whole(argv[1], &size);
    if (bytes == NULL)
        return fail(strerror(errno), argv[1]);
    Elf64_Ehdr *header = (Elf64_Ehdr *)bytes;
    if (size < sizeof *header || memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
        header->e_ident[EI_CLASS] != ELFCLASS64 || header->e_type != ET_EXEC ||
        header->e_phentsize != sizeof(Elf64_Phdr) || header->e_phnum < 2 ||
        header->e_phoff > size || (size - header->e_phoff) / sizeof(Elf64_Phdr) < header->e_phnum)
        return fail("not a 64-bit ELF executable with program headers", argv[1]);
    Elf64_Phdr *segments = (Elf64_Phdr *)(bytes + header->e_phoff);
    unsigned count = header->e_phnum, interp = count;
    for (unsigned i = 0; i < count; i++) {
        if (segments[i].p_type == PT_INTERP)
            interp = i;
    }
    if (interp == count)
        return fail("has no PT_INTERP to hide", argv[1]);
    Elf64_Phdr hidden = segments[interp];
    memmove(&segments[interp], &segments[interp + 1], (count - 1 - interp) * sizeof *segments);
    segments[count - 1] = hidden;
    header->e_phnum = (Elf64_Half)(count - 1);
    FILE *out = fopen(argv[2], "wb");
    if (out == NULL)
        return fail(strerror(errno), argv[2]);
    int bad = fwrite(bytes, 1, size, out) != size;
    if (fclose(out) != 0 || bad)
        return fail("cannot write it", argv[2]);
    free(bytes);
    return chmod(argv[2], 0755) == 0 ? 0 : fail(strerror(errno), argv[2]);
}
