#include "reveal_claim.h"

#include "entry_slots.h"

static struct pf_slot slot_module = {"module", NULL, 0};
static struct pf_slot slot_spec = {"spec", NULL, 0};

int pf_reveal_claim_prepare(PyTypeObject *entry_type)
{
    return pf_slot_prepare(&slot_module, entry_type) < 0 || pf_slot_prepare(&slot_spec, entry_type) < 0 ? -1 : 0;
}

static int dicts(PyObject *const *args, Py_ssize_t count, Py_ssize_t wanted, const char *usage)
{
    for (Py_ssize_t i = 0; i < wanted - 1 && count == wanted; i++) {
        if (!PyDict_CheckExact(args[i]))
            count = -1;
    }
    if (count == wanted)
        return 1;
    PyErr_SetString(PyExc_TypeError, usage);
    return 0;
}

PyObject *pf_reveal_claim_entries(PyObject *const *args, Py_ssize_t count)
{
    if (!dicts(args, count, 4, "claim_entries() takes three dicts and a claim"))
        return NULL;
    PyObject *entries = args[0], *hidden = args[1], *claims = args[2], *claim = args[3];
    PyObject *name, *entry;
    Py_ssize_t position = 0;
    while (PyDict_Next(entries, &position, &name, &entry)) {
        PyObject *now = PyDict_GetItemWithError(hidden, name);
        if (now != entry) {
            if (PyErr_Occurred())
                return NULL;
            Py_RETURN_FALSE;
        }
    }
    /* ENTRIES holds every entry, so none dies as HIDDEN lets it go. */
    position = 0;
    while (PyDict_Next(entries, &position, &name, &entry)) {
        if (PyDict_DelItem(hidden, name) < 0 || PyDict_SetItem(claims, name, claim) < 0)
            return NULL;
    }
    Py_RETURN_TRUE;
}

PyObject *pf_reveal_release_claims(PyObject *const *args, Py_ssize_t count)
{
    if (!dicts(args, count, 3, "release_claims() takes two dicts and a claim"))
        return NULL;
    PyObject *entries = args[0], *claims = args[1], *claim = args[2];
    PyObject *name, *entry;
    Py_ssize_t position = 0;
    while (PyDict_Next(entries, &position, &name, &entry)) {
        PyObject *holder = PyDict_GetItemWithError(claims, name);
        if (holder == NULL && PyErr_Occurred())
            return NULL;
        if (holder == claim && PyDict_DelItem(claims, name) < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

static int set_none(PyObject *entry, struct pf_slot *slot)
{
    if (pf_slot_get(entry, slot) == NULL)
        return -1;
    PyObject **place = (PyObject **)((char *)entry + slot->offset);
    PyObject *old = *place;
    *place = Py_NewRef(Py_None);
    Py_DECREF(old);
    return 0;
}

PyObject *pf_reveal_retire_entries(PyObject *entries)
{
    if (!PyDict_CheckExact(entries)) {
        PyErr_SetString(PyExc_TypeError, "retire_entries() takes a dict");
        return NULL;
    }
    PyObject *name, *entry;
    Py_ssize_t position = 0;
    while (PyDict_Next(entries, &position, &name, &entry)) {
        if (set_none(entry, &slot_module) < 0 || set_none(entry, &slot_spec) < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}
