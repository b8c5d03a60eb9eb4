#ifndef PYFREEZE_DUMP_H
#define PYFREEZE_DUMP_H

/* Builds the interpreter an image will hold and stops at the checkpoint.
 * Never returns: the tracer reads the stopped process and kills it. */
_Noreturn int pf_dump_main(int argc, char **argv);

#endif
