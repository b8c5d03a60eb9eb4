#include "held_references.h"

#include <stdlib.h>

/* A native extension module may keep module objects in C statics and use
 * them without asking the import system (mypyc's CPyModule_* globals, then
 * a sys.modules lookup by name).  The dump scans such libraries' writable
 * segments for the addresses of modules, word by word, to learn which
 * modules a library holds this way. */

static int compare_words(const void *a, const void *b)
{
    uintptr_t left = *(const uintptr_t *)a, right = *(const uintptr_t *)b;
    return (left > right) - (left < right);
}

static uintptr_t *sorted_words(PyObject *candidates, Py_ssize_t *count)
{
    PyObject *list = PySequence_List(candidates);
    if (list == NULL)
        return NULL;
    *count = PyList_GET_SIZE(list);
    uintptr_t *words = PyMem_Calloc((size_t)(*count > 0 ? *count : 1), sizeof *words);
    if (words == NULL) {
        Py_DECREF(list);
        return (uintptr_t *)PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < *count; i++) {
        unsigned long long value = PyLong_AsUnsignedLongLong(PyList_GET_ITEM(list, i));
        if (value == (unsigned long long)-1 && PyErr_Occurred()) {
            PyMem_Free(words);
            Py_DECREF(list);
            return NULL;
        }
        words[i] = (uintptr_t)value;
    }
    Py_DECREF(list);
    qsort(words, (size_t)*count, sizeof *words, compare_words);
    return words;
}

static int add_word(PyObject *found, uintptr_t word)
{
    PyObject *number = PyLong_FromUnsignedLongLong(word);
    if (number == NULL)
        return -1;
    int status = PySet_Add(found, number);
    Py_DECREF(number);
    return status;
}

PyObject *pf_words_found(uintptr_t start, uintptr_t end, PyObject *candidates)
{
    Py_ssize_t count;
    uintptr_t *words = sorted_words(candidates, &count);
    if (words == NULL)
        return NULL;
    PyObject *found = PySet_New(NULL);
    uintptr_t first = (start + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    for (uintptr_t at = first; found != NULL && count > 0 && at < end && end - at >= sizeof(uintptr_t);
         at += sizeof(uintptr_t)) {
        uintptr_t word = *(const uintptr_t *)at;
        if (bsearch(&word, words, (size_t)count, sizeof *words, compare_words) != NULL &&
            add_word(found, word) < 0)
            Py_CLEAR(found);
    }
    PyMem_Free(words);
    return found;
}
