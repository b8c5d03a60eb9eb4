/* The runtime's first instructions, before the dynamic loader.
 *
 * An image holding native libraries runs with address randomisation off,
 * so it re-executes itself once when started with it on
 * (native_libraries.c).  When the kernel starts the loader for the first
 * execution, that execution pays ld.so mapping and relocating the runtime's
 * libraries, libc's start-up and the page faults of both, only to throw them
 * away: about 0.6 ms of an image's 5 ms start on the machines measured.
 *
 * So the runtime's program header table hides its PT_INTERP from the kernel
 * (src/tools/hide_interp.c moves it past e_phnum at build time) and its
 * entry point is pf_start_stub: the kernel starts it as a static program.
 * The stub re-executes at once when the image needs the layout fixed and
 * randomisation is on, as the runtime's main would; otherwise it does what
 * the kernel does for an interpreter (maps ld.so, tells it where it is and
 * where the program starts, and counts the hidden PT_INTERP back in the
 * program headers it passes) and jumps to it.  The dump process runs the
 * same stub, so ld.so and the libraries after it land where an image's
 * will.
 *
 * The stub runs before libc exists: no libc calls, no stack protector (no
 * thread pointer yet), system calls made directly.  Anything it cannot do
 * ends the process with a message on standard error; a re-execution it
 * cannot make is left to main, which steps aside to a cold start. */
#ifndef PYFREEZE_START_STUB_H
#define PYFREEZE_START_STUB_H

/* The entry point the runtime is linked with (-e pf_start_stub). */
void pf_start_stub(void);

#endif
