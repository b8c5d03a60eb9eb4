/* The path configuration of a warm start, memoized (python/getpath_memo.py
 * says why this is exact): the dump rehearses the computation a warm start
 * of the image makes and records what it read; a warm start whose reads
 * give the same values takes the recorded result instead of running
 * getpath.py. */
#ifndef PYFREEZE_GETPATH_MEMO_H
#define PYFREEZE_GETPATH_MEMO_H

/* At the end of the dump, after pf_py_keep_getpath_code(): rehearses the
 * config read of a warm start that runs the image as sys.executable (its
 * future path), and keeps the memo with the heap.  A rehearsal that cannot
 * be memoized leaves none.  -1 with an exception set if the machinery
 * itself failed. */
int pf_getpath_memo_make(void);

/* Whether the config reads that follow (a warm start's) may take the
 * memo when it holds. */
void pf_getpath_memo_use(int use);

/* Whether the last config read took the memo. */
int pf_getpath_memo_taken(void);

#endif
