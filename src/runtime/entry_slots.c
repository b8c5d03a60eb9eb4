#include "entry_slots.h"

#include <structmember.h>

/* Where SLOT lies in TYPE's instances: from the member descriptor that
 * __slots__ made for it.  -1 with an exception when it is not one. */
static int locate(PyTypeObject *type, struct pf_slot *slot)
{
    PyObject *descriptor = PyObject_GetAttrString((PyObject *)type, slot->name);
    if (descriptor == NULL)
        return -1;
    int found = Py_IS_TYPE(descriptor, &PyMemberDescr_Type) &&
                ((PyMemberDescrObject *)descriptor)->d_member->type == T_OBJECT_EX;
    if (found) {
        slot->offset = ((PyMemberDescrObject *)descriptor)->d_member->offset;
        slot->owner = type;
    } else {
        PyErr_Format(PyExc_TypeError, "%.100s.%s is not an object slot", type->tp_name, slot->name);
    }
    Py_DECREF(descriptor);
    return found ? 0 : -1;
}

int pf_slot_prepare(struct pf_slot *slot, PyTypeObject *type)
{
    return slot->owner == type ? 0 : locate(type, slot);
}

PyObject *pf_slot_get(PyObject *object, struct pf_slot *slot)
{
    if (slot->owner != Py_TYPE(object) && locate(Py_TYPE(object), slot) < 0)
        return NULL;
    PyObject *value = *(PyObject **)((char *)object + slot->offset);
    if (value == NULL)
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'",
                     Py_TYPE(object)->tp_name, slot->name);
    return value;
}
