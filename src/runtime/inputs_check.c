#include "inputs_check.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The verdict on one input. */
enum verdict {
    SAME,
    DIFFERS,
    UNDECIDED, /* a kind or a case left to import_inputs.py */
};

/* What a comparison of NOW (a new reference, or NULL: the value could not
 * be made here) with the recorded VALUE says; Python's `==`, as
 * import_inputs.first_difference compares. */
static enum verdict compare(PyObject *now, PyObject *value)
{
    if (now == NULL) {
        PyErr_Clear();
        return UNDECIDED;
    }
    int equal = PyObject_RichCompareBool(now, value, Py_EQ);
    Py_DECREF(now);
    if (equal < 0) {
        PyErr_Clear();
        return UNDECIDED;
    }
    return equal ? SAME : DIFFERS;
}

/* PATH as posix.stat() passes it to the C library, or NULL when it cannot
 * be (import_inputs.py says what such a path reads). */
static PyObject *path_bytes(PyObject *path)
{
    if (!PyUnicode_Check(path))
        return NULL;
    PyObject *bytes = PyUnicode_EncodeFSDefault(path);
    if (bytes != NULL && strlen(PyBytes_AS_STRING(bytes)) != (size_t)PyBytes_GET_SIZE(bytes))
        Py_CLEAR(bytes);   /* posix.stat's ValueError */
    return bytes;
}

static PyObject *nanoseconds(struct timespec time)
{
    return PyLong_FromLongLong((long long)time.tv_sec * 1000000000LL + time.tv_nsec);
}

/* import_inputs.type_of(_status(call, path)): the file type, or
 * ("error", errno). */
static PyObject *type_or_error(int rc, const struct stat *status, int error)
{
    if (rc < 0)
        return Py_BuildValue("(si)", "error", error);
    return PyLong_FromLong((long)(status->st_mode & S_IFMT));
}

/* import_inputs._file_value for a path that cannot name the image. */
static PyObject *file_value(const char *path)
{
    struct stat followed, link;
    int followed_rc = stat(path, &followed), followed_error = errno;
    int link_rc = lstat(path, &link), link_error = errno;
    PyObject *target;
    if (link_rc == 0 && S_ISLNK(link.st_mode)) {
        char buffer[PATH_MAX + 1];
        ssize_t length = readlink(path, buffer, sizeof buffer - 1);
        if (length < 0)
            target = Py_BuildValue("(si)", "error", errno);
        else
            target = PyUnicode_DecodeFSDefaultAndSize(buffer, length);
    } else {
        target = Py_NewRef(Py_None);
    }
    PyObject *first = type_or_error(followed_rc, &followed, followed_error);
    PyObject *second = type_or_error(link_rc, &link, link_error);
    PyObject *value = NULL;
    if (first != NULL && second != NULL && target != NULL) {
        if (followed_rc == 0 && S_ISREG(followed.st_mode))
            value = Py_BuildValue("(OOONN)", first, second, target, PyLong_FromLongLong((long long)followed.st_size),
                                  nanoseconds(followed.st_mtim));
        else
            value = PyTuple_Pack(3, first, second, target);
    }
    Py_XDECREF(first);
    Py_XDECREF(second);
    Py_XDECREF(target);
    return value;
}

/* import_inputs._contents_value, but for what may read differently each
 * time (the kernel's files, devices, pipes): NULL, left to Python. */
static PyObject *contents_value(const char *path)
{
    if (strncmp(path, "/proc/", 6) == 0 || strncmp(path, "/sys/", 5) == 0)
        return NULL;
    struct stat status;
    if (stat(path, &status) < 0)
        return Py_BuildValue("(si)", "error", errno);
    mode_t type = status.st_mode & S_IFMT;
    if ((type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK) &&
        strcmp(path, "/dev/null") != 0 && strcmp(path, "/dev/zero") != 0)
        return NULL;
    if (type == S_IFDIR)
        return Py_BuildValue("(l)", (long)S_IFDIR);
    return Py_BuildValue("(lLN)", (long)type, (long long)status.st_size, nanoseconds(status.st_mtim));
}

/* import_inputs._stamp_value */
static PyObject *stamp_value(const char *path)
{
    struct stat status;
    if (stat(path, &status) < 0)
        return Py_BuildValue("(si)", "error", errno);
    return Py_BuildValue("(KKNN)", (unsigned long long)status.st_dev, (unsigned long long)status.st_ino,
                         nanoseconds(status.st_mtim), nanoseconds(status.st_ctim));
}

/* The kinds that name a path: the value now, or NULL. */
static PyObject *path_value(const char *kind, PyObject *detail, PyObject *may_name_executable)
{
    PyObject *bytes = path_bytes(detail);
    if (bytes == NULL)
        return NULL;
    const char *path = PyBytes_AS_STRING(bytes);
    PyObject *value = NULL;
    if (strcmp(kind, "file") == 0) {
        /* The image itself counts as itself: Python knows its names. */
        PyObject *maybe = PyObject_CallOneArg(may_name_executable, detail);
        int named = maybe != NULL ? PyObject_IsTrue(maybe) : -1;
        Py_XDECREF(maybe);
        if (named == 0)
            value = file_value(path);
    } else if (strcmp(kind, "read") == 0 || strcmp(kind, "create") == 0) {
        value = contents_value(path);
    } else {
        value = stamp_value(path);
    }
    Py_DECREF(bytes);
    return value;
}

/* import_inputs._environ_value: hash(posix.environ[NAME]) or None. */
static PyObject *environ_value(PyObject *name)
{
    PyObject *module_name = PyUnicode_FromString("posix");
    PyObject *posix = module_name != NULL ? PyImport_GetModule(module_name) : NULL;
    PyObject *environ = posix != NULL ? PyObject_GetAttrString(posix, "environ") : NULL;
    Py_XDECREF(module_name);
    Py_XDECREF(posix);
    PyObject *key = environ != NULL && PyDict_CheckExact(environ) && PyUnicode_Check(name)
                        ? PyUnicode_AsEncodedString(name, "utf-8", "surrogateescape")
                        : NULL;
    PyObject *result = NULL;
    if (key != NULL) {
        PyObject *found = PyDict_GetItemWithError(environ, key);
        if (found == NULL && !PyErr_Occurred()) {
            result = Py_NewRef(Py_None);
        } else if (found != NULL) {
            Py_hash_t hash = PyObject_Hash(found);
            result = hash == -1 ? NULL : PyLong_FromSsize_t(hash);
        }
    }
    Py_XDECREF(key);
    Py_XDECREF(environ);
    return result;
}

/* import_inputs.plain, for what it keeps as is and the sequences it makes
 * tuples of; NULL for the rest (dicts, and what it would repr()). */
static PyObject *plain_value(PyObject *value)
{
    if (PyList_Check(value) || PyTuple_Check(value)) {
        Py_ssize_t size = PySequence_Size(value);
        PyObject *copy = size >= 0 ? PyTuple_New(size) : NULL;
        for (Py_ssize_t i = 0; copy != NULL && i < size; i++) {
            PyObject *item = PySequence_GetItem(value, i);
            PyObject *plain = item != NULL ? plain_value(item) : NULL;
            Py_XDECREF(item);
            if (plain == NULL)
                Py_CLEAR(copy);
            else
                PyTuple_SET_ITEM(copy, i, plain);
        }
        return copy;
    }
    if (PyUnicode_Check(value) || PyBytes_Check(value) || PyLong_Check(value) || PyFloat_Check(value) ||
        value == Py_None)
        return Py_NewRef(value);
    return NULL;
}

/* import_inputs.current("sys", DETAIL), but for argv items (NULL). */
static PyObject *sys_value(PyObject *detail)
{
    const char *name = PyUnicode_Check(detail) ? PyUnicode_AsUTF8(detail) : NULL;
    if (name == NULL || strncmp(name, "argv[", 5) == 0)
        return NULL;
    if (strncmp(name, "flags.", 6) == 0) {
        PyObject *flags = PySys_GetObject("flags");
        PyObject *flag = flags != NULL ? PyObject_GetAttrString(flags, name + 6) : NULL;
        if (flag == NULL && flags != NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            flag = Py_NewRef(Py_None);
        }
        return flag;
    }
    PyObject *value = PySys_GetObject(name);  /* borrowed; NULL when missing */
    return value != NULL ? plain_value(value) : NULL;
}

static PyObject *ids_value(void)
{
    return Py_BuildValue("(kkkk)", (unsigned long)getuid(), (unsigned long)geteuid(), (unsigned long)getgid(),
                         (unsigned long)getegid());
}

static PyObject *tty_value(PyObject *detail)
{
    PyObject *number = PyUnicode_Check(detail) ? PyLong_FromUnicodeObject(detail, 10) : NULL;
    int overflow = 0;
    long fd = number != NULL ? PyLong_AsLongAndOverflow(number, &overflow) : -1;
    Py_XDECREF(number);
    if (number == NULL || overflow != 0 || fd < 0 || fd > 1 << 30)
        return NULL;
    return PyBool_FromLong(isatty((int)fd));
}

static enum verdict check_one(PyObject *key, PyObject *value, PyObject *may_name_executable)
{
    if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(key, 0)))
        return UNDECIDED;
    const char *kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(key, 0));
    PyObject *detail = PyTuple_GET_ITEM(key, 1);
    if (kind == NULL) {
        PyErr_Clear();
        return UNDECIDED;
    }
    if (strcmp(kind, "file") == 0 || strcmp(kind, "read") == 0 || strcmp(kind, "create") == 0 ||
        strcmp(kind, "stamp") == 0)
        return compare(path_value(kind, detail, may_name_executable), value);
    if (strcmp(kind, "env") == 0)
        return compare(environ_value(detail), value);
    if (strcmp(kind, "sys") == 0)
        return compare(sys_value(detail), value);
    if (strcmp(kind, "ids") == 0)
        return compare(ids_value(), value);
    if (strcmp(kind, "tty") == 0 && PyBool_Check(value))
        return compare(tty_value(detail), value);
    return UNDECIDED;
}

PyObject *pf_inputs_hold(PyObject *inputs, PyObject *may_name_executable)
{
    if (!PyDict_Check(inputs) || !PyCallable_Check(may_name_executable)) {
        PyErr_SetString(PyExc_TypeError, "inputs_hold() takes a dict and a function");
        return NULL;
    }
    Py_ssize_t position = 0;
    PyObject *key, *value;
    int undecided = 0;
    while (PyDict_Next(inputs, &position, &key, &value)) {
        enum verdict verdict = check_one(key, value, may_name_executable);
        if (verdict == DIFFERS)
            Py_RETURN_FALSE;
        undecided |= verdict == UNDECIDED;
    }
    if (undecided)
        Py_RETURN_NONE;
    Py_RETURN_TRUE;
}
