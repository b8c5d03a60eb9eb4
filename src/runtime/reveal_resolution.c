#include "reveal_resolution.h"

#include "entry_slots.h"

enum resolution_argument { ENTRIES, REQUESTED, HIDDEN, FILE_LOADERS, DIRECTORY, ARGUMENT_COUNT };

/* What one check has worked out so far, shared by its modules. */
struct resolution {
    PyObject *const *args;
    PyObject *modules;          /* sys.modules, a dict */
    PyObject *path;             /* sys.path, a list */
    PyObject *package_paths;    /* package name -> its __path__ */
    PyObject *directories;      /* path entry -> DIRECTORY's answer */
};

/* The outcomes of one module's check, besides an exception (-1). */
enum outcome { RESOLVES, UNRESOLVED, UNDECIDED };

static struct pf_slot slot_module = {"module", NULL, 0};
static struct pf_slot slot_parent = {"parent", NULL, 0};
static struct pf_slot slot_loader = {"loader", NULL, 0};
static struct pf_slot slot_home = {"home", NULL, 0};
static struct pf_slot slot_tail = {"tail", NULL, 0};

int pf_reveal_resolution_prepare(PyTypeObject *entry_type)
{
    struct pf_slot *slots[] = {&slot_module, &slot_parent, &slot_loader, &slot_home, &slot_tail};
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
        if (pf_slot_prepare(slots[i], entry_type) < 0)
            return -1;
    }
    return 0;
}

/* The image's module NAME, hidden or not (lazy_modules.frozen_module),
 * borrowed; Py_None when there is none. */
static PyObject *frozen_module(struct resolution *r, PyObject *name)
{
    PyObject *entry = PyDict_GetItemWithError(r->args[HIDDEN], name);
    if (entry != NULL)
        return pf_slot_get(entry, &slot_module);
    if (PyErr_Occurred())
        return NULL;
    PyObject *module = PyDict_GetItemWithError(r->modules, name);
    return module != NULL || PyErr_Occurred() ? module : Py_None;
}

/* Package PARENT's __path__, borrowed; Py_None when PARENT is not a
 * package now; NULL with *UNDECIDED set when only getattr() can tell (a
 * module of another kind, or one without __path__ in its dict, whose
 * __getattr__ may answer). */
static PyObject *package_path(struct resolution *r, PyObject *parent, int *undecided)
{
    PyObject *path = PyDict_GetItemWithError(r->package_paths, parent);
    if (path != NULL || PyErr_Occurred())
        return path;
    PyObject *package = frozen_module(r, parent);
    if (package == NULL)
        return NULL;
    if (package == Py_None) {
        path = Py_None;
    } else if (PyModule_CheckExact(package)) {
        static PyObject *path_name;
        if (path_name == NULL && (path_name = PyUnicode_InternFromString("__path__")) == NULL)
            return NULL;
        path = PyDict_GetItemWithError(PyModule_GetDict(package), path_name);
    }
    if (path == NULL) {
        *undecided = !PyErr_Occurred();
        return NULL;
    }
    return PyDict_SetItem(r->package_paths, parent, path) < 0 ? NULL : path;
}

/* DIRECTORY's answer for the path entry ITEM, borrowed: asked once per
 * check, as _first_unresolved asks each directory once. */
static PyObject *directory_of(struct resolution *r, PyObject *item)
{
    PyObject *answer = PyDict_GetItemWithError(r->directories, item);
    if (answer != NULL || PyErr_Occurred())
        return answer;
    Py_INCREF(item);    /* the finder the call may make can change the path */
    answer = PyObject_CallOneArg(r->args[DIRECTORY], item);
    int rc = answer != NULL ? PyDict_SetItem(r->directories, item, answer) : -1;
    Py_DECREF(item);
    Py_XDECREF(answer);     /* the dict holds it */
    if (rc == 0 && answer != Py_None && answer != Py_False &&
        !(PyTuple_CheckExact(answer) && PyTuple_GET_SIZE(answer) == 3 &&
          PyUnicode_Check(PyTuple_GET_ITEM(answer, 0)) && PyAnySet_Check(PyTuple_GET_ITEM(answer, 1)) &&
          PyTuple_CheckExact(PyTuple_GET_ITEM(answer, 2)))) {
        PyErr_SetString(PyExc_TypeError, "first_unresolved(): directory() returned something else than "
                                         "None, False or (directory, listing, suffixes)");
        return NULL;
    }
    return rc == 0 ? answer : NULL;
}

/* Whether the listing LISTING has TAIL with one of SUFFIXES: a module
 * FileFinder would find there. */
static int lists_module(PyObject *listing, PyObject *tail, PyObject *suffixes)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(suffixes); i++) {
        PyObject *file = PyUnicode_Concat(tail, PyTuple_GET_ITEM(suffixes, i));
        int listed = file != NULL ? PySet_Contains(listing, file) : -1;
        Py_XDECREF(file);
        if (listed != 0)
            return listed;
    }
    return 0;
}

/* _found_first_in_frozen_directory: whether the search of PATH (a list)
 * for TAIL reaches HOME, the module's directory, before finding anything
 * of that name elsewhere.  -1 with an exception. */
static int found_first_in_home(struct resolution *r, PyObject *path, PyObject *home, PyObject *tail)
{
    if (!PyList_CheckExact(path))
        return UNDECIDED;       /* a namespace package's path, recomputed when read */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(path); i++) {
        PyObject *item = PyList_GET_ITEM(path, i);
        if (!PyUnicode_Check(item))
            continue;
        PyObject *answer = directory_of(r, item);
        if (answer == NULL)
            return -1;
        if (answer == Py_None)
            continue;
        if (answer == Py_False)
            return UNDECIDED;
        PyObject *listing = PyTuple_GET_ITEM(answer, 1);
        int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(answer, 0), home, Py_EQ);
        if (same != 0)
            return same < 0 ? -1 : RESOLVES;
        int listed = PySet_Contains(listing, tail);
        if (listed != 0)
            return listed < 0 ? -1 : UNDECIDED;     /* a package, or a namespace portion */
        listed = lists_module(listing, tail, PyTuple_GET_ITEM(answer, 2));
        if (listed != 0)
            return listed < 0 ? -1 : UNRESOLVED;
    }
    return UNRESOLVED;
}

/* One module's check; *WHY gets the reason of an UNRESOLVED. */
static int check_module(struct resolution *r, PyObject *name, PyObject *entry, PyObject **why)
{
    int present = PyDict_Contains(r->modules, name);
    if (present != 0) {
        *why = present > 0 ? PyUnicode_FromFormat("%U is in sys.modules already", name) : NULL;
        return *why != NULL ? UNRESOLVED : -1;
    }
    PyObject *parent = pf_slot_get(entry, &slot_parent);
    if (parent == NULL || !PyUnicode_Check(parent))
        return parent == NULL ? -1 : UNDECIDED;
    PyObject *path = r->path;
    if (PyUnicode_GET_LENGTH(parent) > 0) {
        int undecided = 0;
        path = package_path(r, parent, &undecided);
        if (path == NULL)
            return undecided ? UNDECIDED : -1;
        if (path == Py_None) {
            *why = PyUnicode_FromFormat("%U is not a package now", parent);
            return *why != NULL ? UNRESOLVED : -1;
        }
    }
    PyObject *loader = pf_slot_get(entry, &slot_loader);
    int from_file = loader != NULL ? PySet_Contains(r->args[FILE_LOADERS], loader) : -1;
    if (from_file <= 0)
        return from_file < 0 ? -1 : RESOLVES;
    PyObject *home = pf_slot_get(entry, &slot_home);
    PyObject *tail = home != NULL ? pf_slot_get(entry, &slot_tail) : NULL;
    if (tail == NULL)
        return -1;
    if (home == Py_None || !PyUnicode_Check(tail))
        return UNDECIDED;
    int outcome = found_first_in_home(r, path, home, tail);
    if (outcome == UNRESOLVED && (*why = PyUnicode_FromFormat("%U would now come from elsewhere", name)) == NULL)
        return -1;
    return outcome;
}

static PyObject *check_all(struct resolution *r)
{
    PyObject *name, *entry;
    Py_ssize_t position = 0;
    /* ENTRIES is the reveal's own dict: nothing the checks call reaches it. */
    while (PyDict_Next(r->args[ENTRIES], &position, &name, &entry)) {
        int requested = PyObject_RichCompareBool(name, r->args[REQUESTED], Py_EQ);
        if (requested != 0) {
            if (requested < 0)
                return NULL;
            continue;
        }
        PyObject *why = NULL;
        int outcome = check_module(r, name, entry, &why);
        if (outcome < 0)
            return NULL;
        if (outcome == UNRESOLVED)
            return why;
        if (outcome == UNDECIDED)
            Py_RETURN_NOTIMPLEMENTED;
    }
    Py_RETURN_NONE;
}

PyObject *pf_reveal_first_unresolved(PyObject *const *args, Py_ssize_t count)
{
    if (count != ARGUMENT_COUNT || !PyDict_Check(args[ENTRIES]) || !PyDict_Check(args[HIDDEN]) ||
        !PyAnySet_Check(args[FILE_LOADERS]) || !PyCallable_Check(args[DIRECTORY])) {
        PyErr_SetString(PyExc_TypeError, "first_unresolved() takes the plan's entries, the requested name, "
                                         "the hidden entries, a set of loaders and a function");
        return NULL;
    }
    struct resolution r = {.args = args};
    r.modules = PySys_GetObject("modules");
    r.path = PySys_GetObject("path");
    /* A program's own kind of sys.modules or sys.path: the Python check. */
    if (r.modules == NULL || !PyDict_CheckExact(r.modules) || r.path == NULL || !PyList_CheckExact(r.path))
        Py_RETURN_NOTIMPLEMENTED;
    Py_INCREF(r.modules);
    Py_INCREF(r.path);
    r.package_paths = PyDict_New();
    r.directories = PyDict_New();
    PyObject *result = r.package_paths != NULL && r.directories != NULL ? check_all(&r) : NULL;
    Py_XDECREF(r.directories);
    Py_XDECREF(r.package_paths);
    Py_DECREF(r.path);
    Py_DECREF(r.modules);
    return result;
}
