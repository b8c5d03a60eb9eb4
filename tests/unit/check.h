/* The unit tests' one assertion helper: CHECK(cond, fmt, ...) counts the
 * check, prints "file:line: check failed: cond: details" when it fails,
 * and evaluates to whether it passed, so loops can stop at the first
 * failure instead of printing thousands of lines.  Each test program
 * reports checks_run and checks_failed at the end. */
#ifndef PYFREEZE_TEST_CHECK_H
#define PYFREEZE_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static unsigned checks_run, checks_failed;

__attribute__((format(printf, 4, 5), unused))
static int check_at(int ok, const char *where, const char *expr, const char *format, ...)
{
    checks_run++;
    if (ok)
        return 1;
    checks_failed++;
    fprintf(stderr, "%s: check failed: %s: ", where, expr);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    return 0;
}

#define CHECK_STR2(x) #x
#define CHECK_STR(x) CHECK_STR2(x)
#define CHECK(cond, ...) check_at(!!(cond), __FILE__ ":" CHECK_STR(__LINE__), #cond, __VA_ARGS__)

#endif
