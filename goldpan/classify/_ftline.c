/* The padding and whitespace folding of goldpan.classify.text.fasttext_line, in one pass.

Why in C: `" ".join(s.translate(_PAD).split())` spent ~0.9 s of ~1.1 s on `str.translate`'s per-character
dict lookups over the ~4,500 documents of domain mining's pool (6,000 real pages), on the run process's
serial path; every quality and domain score in the workers pays the same per document.

pad_join(s) returns exactly `" ".join(s.translate(_PAD).split())` for the Python module's ranges: each
character of `ranges` becomes a token of its own, whitespace (Python's `str.isspace`, tested first,
since U+3000 is both whitespace and in the CJK punctuation range) separates tokens, and tokens are
joined by single spaces with none at either end. The ranges come from the Python module (configure),
so they have one definition; tests/unit/test_classify_text.py checks the identity on real text.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MAX_RANGES 64
static Py_UCS4 range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static int n_ranges = -1; /* -1: not configured */
static unsigned char ascii_padded[128];

/* ranges are sorted and disjoint (configure checks): the scan stops at the first range above c */
static inline int padded(Py_UCS4 c) {
    if (c < 128) return ascii_padded[c];
    for (int i = 0; i < n_ranges && c >= range_lo[i]; i++)
        if (c <= range_hi[i]) return 1;
    return 0;
}

static PyObject *configure(PyObject *Py_UNUSED(self), PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "configure() takes a sequence of (lo, hi) pairs");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_RANGES) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many ranges");
        return NULL;
    }
    Py_UCS4 lo_new[MAX_RANGES], hi_new[MAX_RANGES]; /* checked whole before any is used */
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long lo, hi;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "kk", &lo, &hi)) {
            Py_DECREF(seq);
            return NULL;
        }
        if (hi < lo || (i > 0 && lo <= hi_new[i - 1])) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "ranges must be sorted, disjoint (lo, hi) pairs");
            return NULL;
        }
        lo_new[i] = (Py_UCS4)lo;
        hi_new[i] = (Py_UCS4)hi;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        range_lo[i] = lo_new[i];
        range_hi[i] = hi_new[i];
    }
    n_ranges = (int)n;
    for (Py_UCS4 c = 0; c < 128; c++) {
        ascii_padded[c] = 0;
        for (int i = 0; i < n_ranges; i++)
            if (c >= range_lo[i] && c <= range_hi[i]) ascii_padded[c] = 1;
    }
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

static PyObject *pad_join(PyObject *Py_UNUSED(self), PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "pad_join() takes a str");
        return NULL;
    }
    if (n_ranges < 0) {
        PyErr_SetString(PyExc_RuntimeError, "pad_join() before configure()");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    const int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(arg);

    /* One walk into a UCS4 buffer (a space before every token but the first, so at most 2 characters per
       input character), then PyUnicode_FromKindAndData, which gives the result its narrowest kind: a
       string must use it (CPython compares kinds before characters), and dropped whitespace such as
       U+3000 may have been the widest character of the input. */
    Py_UCS4 *buf = PyMem_New(Py_UCS4, n > 0 ? 2 * n : 1);
    if (!buf) return PyErr_NoMemory();
    Py_ssize_t o = 0;
    int in_token = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(c)) {
            in_token = 0;
        } else if (padded(c)) { /* a token of its own */
            if (o) buf[o++] = ' ';
            buf[o++] = c;
            in_token = 0;
        } else {
            if (!in_token && o) buf[o++] = ' ';
            in_token = 1;
            buf[o++] = c;
        }
    }
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, o);
    PyMem_Free(buf);
    return out;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_O, "Set the padded character ranges: a sequence of (lo, hi) code points."},
    {"pad_join", pad_join, METH_O, "\" \".join(s.translate(pad).split()) for the configured ranges."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ftline", NULL, -1, methods};

PyMODINIT_FUNC PyInit__ftline(void) { return PyModule_Create(&module); }
