/* main() for a fuzz target built without libFuzzer: replays inputs.
 *
 *   fuzz_X_replay [--crashes] FILE-OR-DIRECTORY...
 *
 * Runs LLVMFuzzerTestOneInput once on the contents of every FILE and of
 * every regular file directly inside every DIRECTORY (in name order, dot
 * files left out), then prints how many inputs it ran and exits 0.  A target
 * that finds a problem abort()s, and this names the input it was running.
 *
 * Files called crash-* inside a directory are inputs that once crashed a
 * target and are kept as a record of a known bug: they are skipped unless
 * --crashes is given.  Naming one directly always runs it, which is how a
 * crash is reproduced:  fuzz_image_replay tests/fuzz/corpus/image/crash-x */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *current_input;

static void on_crash(int signal_number)
{
    static const char prefix[] = "replay: crashed on input ";
    if (current_input != NULL) {
        ssize_t ignored = write(STDERR_FILENO, prefix, sizeof prefix - 1);
        ignored = write(STDERR_FILENO, current_input, strlen(current_input));
        ignored = write(STDERR_FILENO, "\n", 1);
        (void)ignored;
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static int read_all(const char *path, uint8_t **data, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return -1;
    size_t capacity = 4096, used = 0;
    uint8_t *buffer = malloc(capacity);
    while (buffer != NULL) {
        if (used == capacity) {
            uint8_t *bigger = realloc(buffer, capacity * 2);
            if (bigger == NULL) {
                free(buffer);
                buffer = NULL;
                break;
            }
            buffer = bigger;
            capacity *= 2;
        }
        size_t got = fread(buffer + used, 1, capacity - used, file);
        used += got;
        if (got == 0) {
            if (ferror(file)) {
                free(buffer);
                buffer = NULL;
            }
            break;
        }
    }
    int saved = errno;
    fclose(file);
    if (buffer == NULL) {
        errno = saved ? saved : ENOMEM;
        return -1;
    }
    *data = buffer;
    *size = used;
    return 0;
}

static int run_file(const char *path)
{
    uint8_t *data;
    size_t size;
    if (read_all(path, &data, &size) < 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    current_input = path;
    LLVMFuzzerTestOneInput(data, size);
    current_input = NULL;
    free(data);
    return 0;
}

static int skip_entry(const struct dirent *entry)
{
    return entry->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    int crashes = 0, failed = 0;
    unsigned long ran = 0, skipped = 0;
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--crashes") == 0) {
            crashes = 1;
            continue;
        }
        struct stat status;
        if (stat(argv[i], &status) < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
            continue;
        }
        if (!S_ISDIR(status.st_mode)) {
            if (run_file(argv[i]) < 0)
                failed = 1;
            else
                ran++;
            continue;
        }
        struct dirent **entries;
        int count = scandir(argv[i], &entries, skip_entry, alphasort);
        if (count < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
            continue;
        }
        for (int j = 0; j < count; j++) {
            size_t length = strlen(argv[i]) + strlen(entries[j]->d_name) + 2;
            char *path = malloc(length);
            if (path == NULL) {
                fprintf(stderr, "replay: out of memory\n");
                return 1;
            }
            snprintf(path, length, "%s/%s", argv[i], entries[j]->d_name);
            if (stat(path, &status) == 0 && S_ISREG(status.st_mode)) {
                if (!crashes && strncmp(entries[j]->d_name, "crash-", 6) == 0)
                    skipped++;
                else if (run_file(path) < 0)
                    failed = 1;
                else
                    ran++;
            }
            free(path);
            free(entries[j]);
        }
        free(entries);
    }
    printf("replayed %lu inputs", ran);
    if (skipped > 0)
        printf(" (%lu known-crash inputs skipped; --crashes runs them)", skipped);
    printf("\n");
    return failed ? 1 : 0;
}
