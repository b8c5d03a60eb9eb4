/* Linked into pyfreeze only by a -Dsanitize=true build.  The end-to-end
 * tests run pyfreeze with a clean environment, so ASAN_OPTIONS cannot reach
 * it: its defaults are set here.  Memory errors and undefined behaviour are
 * all fatal; leaks are not reported, because LeakSanitizer cannot run while
 * pyfreeze is traced (test_ptrace_denied_when_traced runs it under strace)
 * and because freeze.c leaks its child's argument vectors at exit (a
 * known finding, left to freeze.c's owner).  The unit tests and the fuzz
 * replays do check for leaks. */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
