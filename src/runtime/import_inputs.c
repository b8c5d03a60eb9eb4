#define _GNU_SOURCE
/* These are the C library's own names: no fortified inline versions, and
 * no large-file renaming (stat and stat64 are both defined below). */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* After the C library's headers: Python.h asks for large-file names. */
#define PY_SSIZE_T_CLEAN
#include "cpython311.h"
#include "import_inputs.h"

extern char **environ;

/* --- the notes ----------------------------------------------------------- */

static int recording;
static char *notes;            /* "kind\ttext\n"..., on the dump's heap */
static size_t notes_used, notes_capacity;

void pf_inputs_record(int on)
{
    recording = on;
}

static void note_any(const char *kind, const char *text);

static void note(const char *kind, const char *text)
{
    if (!recording || pf_py_running_import_system())
        return;
    note_any(kind, text);
}

/* Notes even what the import system's frames cause: the recorder flushes
 * the standard streams from such a frame. */
static void note_any(const char *kind, const char *text)
{
    if (!recording)
        return;
    size_t needed = strlen(kind) + strlen(text) + 2;
    if (notes_used + needed + 1 > notes_capacity) {
        size_t capacity = (notes_capacity + needed + 1) * 2;
        char *grown = realloc(notes, capacity);
        if (grown == NULL)
            return;     /* the drain reports the loss */
        notes = grown;
        notes_capacity = capacity;
    }
    notes_used += (size_t)sprintf(notes + notes_used, "%s\t%s\n", kind, text);
}

static void note_number(const char *kind, long number)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", number);
    note(kind, text);
}

/* A path relative to the working directory is noted as it is: compared in
 * a run, it is looked up from that run's working directory, as the import
 * would look it up.  One relative to a directory descriptor cannot be
 * looked up again, so it never matches. */
static void note_path(const char *kind, int dirfd, const char *path)
{
    if (!recording || path == NULL)
        return;
    note(path[0] != '/' && dirfd != AT_FDCWD ? "dirfd" : kind, path);
}

PyObject *pf_inputs_drain(void)
{
    PyObject *list = PyList_New(0);
    for (size_t at = 0; list != NULL && at < notes_used;) {
        char *line = notes + at;
        char *end = memchr(line, '\n', notes_used - at);
        char *tab = memchr(line, '\t', (size_t)(end - line));
        PyObject *pair = Py_BuildValue("(s#s#)", line, (Py_ssize_t)(tab - line), tab + 1,
                                       (Py_ssize_t)(end - tab - 1));
        if (pair == NULL || PyList_Append(list, pair) < 0)
            Py_CLEAR(list);
        Py_XDECREF(pair);
        at = (size_t)(end - notes) + 1;
    }
    notes_used = 0;
    return list;
}

/* --- reaching the C library's own functions ----------------------------- */

/* The addresses are looked up once per process: the data segment, and with
 * it this table, is frozen into images that load the C library elsewhere,
 * so the table is valid only in the process that filled it, which the
 * kernel's random bytes for the process (AT_RANDOM) tell apart. */
enum real_function {
    REAL_GETCWD, REAL_ISATTY, REAL_GETHOSTNAME, REAL_UNAME, REAL_GETUID, REAL_GETEUID,
    REAL_GETGID, REAL_GETEGID, REAL_GETLOGIN, REAL_GETPWUID, REAL_GETPWNAM, REAL_GETPWUID_R,
    REAL_GETPWNAM_R, REAL_STAT, REAL_LSTAT, REAL_FSTATAT, REAL_ACCESS, REAL_FACCESSAT,
    REAL_OPENDIR, REAL_READLINK, REAL_OPEN, REAL_OPENAT, REAL_OPEN_2, REAL_MKDIR, REAL_MKDIRAT,
    REAL_UNLINK, REAL_UNLINKAT, REAL_RENAME, REAL_RENAMEAT, REAL_RMDIR, REAL_WRITE,
    REAL_CLOCK_GETTIME, REAL_GETTIMEOFDAY, REAL_TIME, REAL_GETRANDOM, REAL_GETENTROPY, REAL_SETLOCALE,
    REAL_UMASK, REAL_GETRLIMIT, REAL_WAITPID, REAL_WAIT4, REAL_WAITID, REAL_SYSTEM, REAL_SIGALTSTACK,
    REAL_COUNT
};

static const char *const real_names[REAL_COUNT] = {
    "getcwd", "isatty", "gethostname", "uname", "getuid", "geteuid",
    "getgid", "getegid", "getlogin", "getpwuid", "getpwnam", "getpwuid_r",
    "getpwnam_r", "stat64", "lstat64", "fstatat64", "access", "faccessat",
    "opendir", "readlink", "open64", "openat64", "__open64_2", "mkdir", "mkdirat",
    "unlink", "unlinkat", "rename", "renameat", "rmdir", "write",
    "clock_gettime", "gettimeofday", "time", "getrandom", "getentropy", "setlocale",
    "umask", "getrlimit64", "waitpid", "wait4", "waitid", "system", "sigaltstack",
};

typedef void (*any_function)(void);

static struct {
    unsigned char process[16];
    any_function functions[REAL_COUNT];
} real;

/* Whether this thread has compared the table's process with its own: a
 * thread-local starts at 0 in every process and thread, so the comparison
 * (a walk of the auxiliary vector) is made once, not at every call of the
 * clock or of stat. */
static __thread int process_checked;

static any_function real_function(enum real_function which)
{
    if (!process_checked) {
        const unsigned char *process = (const unsigned char *)getauxval(AT_RANDOM);
        if (process != NULL && memcmp(real.process, process, sizeof real.process) != 0) {
            memset(real.functions, 0, sizeof real.functions);
            memcpy(real.process, process, sizeof real.process);
        }
        process_checked = 1;
    }
    if (real.functions[which] == NULL) {
        /* dlsym() gives a function as an object pointer; ISO C converts
         * only between function pointer types, so the bits are copied. */
        void *address = dlsym(RTLD_NEXT, real_names[which]);
        memcpy(&real.functions[which], &address, sizeof address);
    }
    return real.functions[which];
}

#define REAL(which, type) ((type)real_function(which))

void pf_inputs_forget_process(void)
{
    memset(&real, 0, sizeof real);
    process_checked = 0;
}

/* --- the environment ----------------------------------------------------- */

/* Looked up here rather than passed on: ld.so runs library constructors
 * that call getenv before anything could be looked up. */
static char *find_variable(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || strchr(name, '=') != NULL)
        return NULL;
    for (char **entry = environ; entry != NULL && *entry != NULL; entry++) {
        if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=')
            return *entry + length + 1;
    }
    return NULL;
}

char *getenv(const char *name)
{
    note("env", name);
    return find_variable(name);
}

char *secure_getenv(const char *name)
{
    note("env", name);
    return getauxval(AT_SECURE) ? NULL : find_variable(name);
}

/* --- the process, the user, the machine ----------------------------------- */

char *getcwd(char *buffer, size_t size)
{
    note("cwd", "");
    return REAL(REAL_GETCWD, char *(*)(char *, size_t))(buffer, size);
}

int isatty(int fd)
{
    note_number("tty", fd);
    return REAL(REAL_ISATTY, int (*)(int))(fd);
}

int gethostname(char *name, size_t size)
{
    note("host", "");
    return REAL(REAL_GETHOSTNAME, int (*)(char *, size_t))(name, size);
}

int uname(struct utsname *names)
{
    note("host", "");
    return REAL(REAL_UNAME, int (*)(struct utsname *))(names);
}

#define ID_CALL(function, which, type)                  \
    type function(void)                                 \
    {                                                   \
        note("ids", "");                                \
        return REAL(which, type (*)(void))();           \
    }
ID_CALL(getuid, REAL_GETUID, uid_t)
ID_CALL(geteuid, REAL_GETEUID, uid_t)
ID_CALL(getgid, REAL_GETGID, gid_t)
ID_CALL(getegid, REAL_GETEGID, gid_t)
ID_CALL(getlogin, REAL_GETLOGIN, char *)

/* The file mode creation mask and the resource limits are the process's,
 * set by whoever starts it: mercurial keeps the umask at import (it reads
 * it by setting it and setting it back). */
mode_t umask(mode_t mask)
{
    note("umask", "");
    return REAL(REAL_UMASK, mode_t (*)(mode_t))(mask);
}

int getrlimit64(__rlimit_resource_t resource, struct rlimit64 *limits)
{
    note_number("rlimit", (long)resource);
    return REAL(REAL_GETRLIMIT, int (*)(__rlimit_resource_t, struct rlimit64 *))(resource, limits);
}

/* On x86-64 the plain name is the same function. */
int getrlimit(__rlimit_resource_t resource, struct rlimit *limits) __attribute__((alias("getrlimit64")));

struct passwd *getpwuid(uid_t uid)
{
    note_number("user", (long)uid);
    return REAL(REAL_GETPWUID, struct passwd *(*)(uid_t))(uid);
}

struct passwd *getpwnam(const char *name)
{
    note("user", name);
    return REAL(REAL_GETPWNAM, struct passwd *(*)(const char *))(name);
}

int getpwuid_r(uid_t uid, struct passwd *entry, char *buffer, size_t size, struct passwd **result)
{
    note_number("user", (long)uid);
    return REAL(REAL_GETPWUID_R, int (*)(uid_t, struct passwd *, char *, size_t, struct passwd **))(
        uid, entry, buffer, size, result);
}

int getpwnam_r(const char *name, struct passwd *entry, char *buffer, size_t size, struct passwd **result)
{
    note("user", name);
    return REAL(REAL_GETPWNAM_R,
                int (*)(const char *, struct passwd *, char *, size_t, struct passwd **))(
        name, entry, buffer, size, result);
}

/* --- files looked at --------------------------------------------------- */

/* The image's path (sys.executable at the freeze), where the image does
 * not exist yet, or an older one does.  While the dump records, an import
 * that looks at it is shown what every run will find there: a regular,
 * executable file (of size 0 and time 0: those it cannot be shown). */
static char *future_executable;

void pf_inputs_set_future_executable(const char *path)
{
    free(future_executable);
    future_executable = path != NULL ? strdup(path) : NULL;
}

static int is_future_executable(int dirfd, const char *path)
{
    return recording && future_executable != NULL && path != NULL && (path[0] == '/' || dirfd == AT_FDCWD) &&
           strcmp(path, future_executable) == 0;
}

static int future_executable_status(struct stat64 *status)
{
    memset(status, 0, sizeof *status);
    status->st_mode = S_IFREG | 0755;
    status->st_nlink = 1;
    status->st_uid = REAL(REAL_GETUID, uid_t (*)(void))();
    status->st_gid = REAL(REAL_GETGID, gid_t (*)(void))();
    status->st_blksize = 4096;
    return 0;
}

int stat64(const char *path, struct stat64 *status)
{
    note_path("file", AT_FDCWD, path);
    if (is_future_executable(AT_FDCWD, path))
        return future_executable_status(status);
    return REAL(REAL_STAT, int (*)(const char *, struct stat64 *))(path, status);
}

int lstat64(const char *path, struct stat64 *status)
{
    note_path("file", AT_FDCWD, path);
    if (is_future_executable(AT_FDCWD, path))
        return future_executable_status(status);
    return REAL(REAL_LSTAT, int (*)(const char *, struct stat64 *))(path, status);
}

int fstatat64(int dirfd, const char *path, struct stat64 *status, int flags)
{
    if (!(flags & AT_EMPTY_PATH) || path[0] != '\0') {
        note_path("file", dirfd, path);
        if (is_future_executable(dirfd, path))
            return future_executable_status(status);
    }
    return REAL(REAL_FSTATAT, int (*)(int, const char *, struct stat64 *, int))(dirfd, path, status, flags);
}

/* On x86-64 the plain names are the same functions. */
int stat(const char *path, struct stat *status) __attribute__((alias("stat64")));
int lstat(const char *path, struct stat *status) __attribute__((alias("lstat64")));
int fstatat(int dirfd, const char *path, struct stat *status, int flags) __attribute__((alias("fstatat64")));

int access(const char *path, int mode)
{
    note_path("file", AT_FDCWD, path);
    if (is_future_executable(AT_FDCWD, path))
        return 0;
    return REAL(REAL_ACCESS, int (*)(const char *, int))(path, mode);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
    note_path("file", dirfd, path);
    if (is_future_executable(dirfd, path))
        return 0;
    return REAL(REAL_FACCESSAT, int (*)(int, const char *, int, int))(dirfd, path, mode, flags);
}

DIR *opendir(const char *path)
{
    note_path("list", AT_FDCWD, path);
    return REAL(REAL_OPENDIR, DIR *(*)(const char *))(path);
}

ssize_t readlink(const char *path, char *buffer, size_t size)
{
    note_path("file", AT_FDCWD, path);
    if (is_future_executable(AT_FDCWD, path)) {
        errno = EINVAL;     /* not a symbolic link */
        return -1;
    }
    return REAL(REAL_READLINK, ssize_t (*)(const char *, char *, size_t))(path, buffer, size);
}

/* --- files opened, created, changed ------------------------------------ */

static int opened_for_writing(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_TMPFILE)) != 0;
}

/* A file an import creates (a cache written once) is an input as the
 * import left it; one it changes that existed before (a log appended to)
 * is changed again by every python3 run, so such an import never matches. */
static const char *open_kind(int dirfd, const char *path, int flags)
{
    if (!opened_for_writing(flags))
        return "read";
    if (!recording)
        return "write";
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return "create";
    struct stat64 status;
    if (REAL(REAL_FSTATAT, int (*)(int, const char *, struct stat64 *, int))(dirfd, path, &status, 0) < 0)
        return (flags & O_CREAT) ? "create" : "write";
    /* Writing to /dev/null and its kind changes no file. */
    return S_ISCHR(status.st_mode) ? "file" : "write";
}

static mode_t open_mode(int flags, va_list args)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(args, int) : 0;
}

int open64(const char *path, int flags, ...)
{
    va_list args;
    va_start(args, flags);
    mode_t mode = open_mode(flags, args);
    va_end(args);
    note_path(open_kind(AT_FDCWD, path, flags), AT_FDCWD, path);
    return REAL(REAL_OPEN, int (*)(const char *, int, ...))(path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list args;
    va_start(args, flags);
    mode_t mode = open_mode(flags, args);
    va_end(args);
    note_path(open_kind(dirfd, path, flags), dirfd, path);
    return REAL(REAL_OPENAT, int (*)(int, const char *, int, ...))(dirfd, path, flags, mode);
}

int __open64_2(const char *path, int flags)
{
    note_path(open_kind(AT_FDCWD, path, flags), AT_FDCWD, path);
    return REAL(REAL_OPEN_2, int (*)(const char *, int))(path, flags);
}

int open(const char *path, int flags, ...) __attribute__((alias("open64")));
int openat(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat64")));

int mkdir(const char *path, mode_t mode)
{
    note_path("create", AT_FDCWD, path);
    return REAL(REAL_MKDIR, int (*)(const char *, mode_t))(path, mode);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
    note_path("create", dirfd, path);
    return REAL(REAL_MKDIRAT, int (*)(int, const char *, mode_t))(dirfd, path, mode);
}

int unlink(const char *path)
{
    note_path("create", AT_FDCWD, path);
    return REAL(REAL_UNLINK, int (*)(const char *))(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
    note_path("create", dirfd, path);
    return REAL(REAL_UNLINKAT, int (*)(int, const char *, int))(dirfd, path, flags);
}

int rename(const char *from, const char *to)
{
    note_path("create", AT_FDCWD, from);
    note_path("create", AT_FDCWD, to);
    return REAL(REAL_RENAME, int (*)(const char *, const char *))(from, to);
}

int renameat(int from_dir, const char *from, int to_dir, const char *to)
{
    note_path("create", from_dir, from);
    note_path("create", to_dir, to);
    return REAL(REAL_RENAMEAT, int (*)(int, const char *, int, const char *))(from_dir, from, to_dir, to);
}

int rmdir(const char *path)
{
    note_path("create", AT_FDCWD, path);
    return REAL(REAL_RMDIR, int (*)(const char *))(path);
}

/* --- the clock and randomness ------------------------------------------- */

/* Every run reads another time and draws other bytes: a module whose
 * import kept either differs from python3's in every run, unless the
 * restore renews what it kept (python/import_inputs.py names those).
 * Only the time of day counts: CPython's locks read the monotonic clock
 * whenever they are taken, and a module that takes one keeps nothing.
 * The time read is noted with it: the recorder looks for it among what
 * the module kept. */
static int time_of_day(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI ||
           clock == CLOCK_REALTIME_ALARM;
}

static void note_time(long long seconds, long nanoseconds)
{
    if (!recording)
        return;
    char text[48];
    snprintf(text, sizeof text, "%lld.%09ld", seconds, nanoseconds);
    note("clock", text);
}

int clock_gettime(clockid_t clock, struct timespec *time)
{
    int rc = REAL(REAL_CLOCK_GETTIME, int (*)(clockid_t, struct timespec *))(clock, time);
    if (rc == 0 && time_of_day(clock))
        note_time((long long)time->tv_sec, time->tv_nsec);
    return rc;
}

int gettimeofday(struct timeval *restrict time, void *restrict zone)
{
    int rc = REAL(REAL_GETTIMEOFDAY, int (*)(struct timeval *restrict, void *restrict))(time, zone);
    if (rc == 0)
        note_time((long long)time->tv_sec, (long)time->tv_usec * 1000);
    return rc;
}

time_t time(time_t *result)
{
    time_t now = REAL(REAL_TIME, time_t (*)(time_t *))(result);
    if (now != (time_t)-1)
        note_time((long long)now, 0);
    return now;
}

/* tempfile's names come from a Random it makes on first use (its
 * _RandomNameSequence.rng), which restore.py forgets: the bytes drawn to
 * seed it are no module's input, whichever module made a temporary file. */
static void note_random(void)
{
    if (recording && !pf_py_running_function("/tempfile.py", "rng"))
        note("random", "");
}

ssize_t getrandom(void *buffer, size_t size, unsigned flags)
{
    note_random();
    return REAL(REAL_GETRANDOM, ssize_t (*)(void *, size_t, unsigned))(buffer, size, flags);
}

int getentropy(void *buffer, size_t size)
{
    note_random();
    return REAL(REAL_GETENTROPY, int (*)(void *, size_t))(buffer, size);
}

/* --- the C library's locale ------------------------------------------------ */

/* An import that sets the locale (locale.setlocale(locale.LC_ALL, "")) sets
 * it in every python3 run, from that run's environment, which the C library
 * reads itself; the process's locale is not in an image, so such a module
 * never matches.  Asking for the current locale (NULL) changes nothing. */
char *setlocale(int category, const char *locale)
{
    if (locale != NULL)
        note("locale", "");
    return REAL(REAL_SETLOCALE, char *(*)(int, const char *))(category, locale);
}

/* --- other programs ---------------------------------------------------- */

/* An import that ran another program and waited for it (a version from
 * git, ctypes.util.find_library's ldconfig, os.system) read what that
 * program did, which no note of this file describes: python3 runs it again
 * in every run, so such a module never matches.  A program started and
 * not waited for is refused at the checkpoint. */
pid_t waitpid(pid_t pid, int *status, int options)
{
    note("child", "");
    return REAL(REAL_WAITPID, pid_t (*)(pid_t, int *, int))(pid, status, options);
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
    note("child", "");
    return REAL(REAL_WAIT4, pid_t (*)(pid_t, int *, int, struct rusage *))(pid, status, options, usage);
}

int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    note("child", "");
    return REAL(REAL_WAITID, int (*)(idtype_t, id_t, siginfo_t *, int))(type, id, info, options);
}

int system(const char *command)
{
    note("child", "");
    return REAL(REAL_SYSTEM, int (*)(const char *))(command);
}

/* --- signal handling the kernel keeps ------------------------------------ */

/* faulthandler.enable() gives the thread an alternate signal stack and
 * handles SIGSEGV and the other fatal signals in C: the kernel keeps that
 * per process, and an image does not carry it.  A module that did so at
 * import never matches: python3 does it again in every run. */
int sigaltstack(const stack_t *restrict stack, stack_t *restrict old)
{
    if (stack != NULL)
        note("altstack", "");
    return REAL(REAL_SIGALTSTACK, int (*)(const stack_t *restrict, stack_t *restrict))(stack, old);
}

/* --- output ---------------------------------------------------------------- */

/* What an import prints is python3's output of every run that imports it;
 * the recorder flushes the standard streams at each checkpoint, so the
 * write is noted against the module that printed. */
ssize_t write(int fd, const void *bytes, size_t size)
{
    if (recording && (fd == STDOUT_FILENO || fd == STDERR_FILENO))
        note_any("output", fd == STDOUT_FILENO ? "1" : "2");
    return REAL(REAL_WRITE, ssize_t (*)(int, const void *, size_t))(fd, bytes, size);
}
