/* The line extractor's per-line features in one C pass (goldpan.extract.lines, source_context).
 *
 * Why C: a news page has ~30 first-pass lines, so the Python version's cost was numpy's per-call
 * overhead (~80 small array operations) and a per-line Python loop over the HTML source, ~0.7-1.0 ms
 * a page, as much as resiliparse's parse and main-content pass together. Here every column is
 * computed in one loop over the lines; the few rules that are word lists and regular expressions
 * (keywords, dates, separator pieces, bullet prefixes, class words) stay in Python and are called
 * from here for the lines that need them, so they have one definition.
 *
 * The Python functions remain the reference (goldpan.extract.lines.line_features_py): the tests
 * check that both give the same matrix on real pages, to float32 rounding.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- configuration, set once by goldpan.extract.lines through configure() ---- */

enum {
    C_LOG_CHARS, C_LOG_WORDS, C_CJK_SHARE, C_LINK_COV, C_END_PUNCT, C_ENDS_COLON, C_PUNCT_PER_WORD,
    C_DIGIT_SHARE, C_UPPER_SHARE, C_TITLE_WORDS, C_BULLET, C_REL_POS, C_CHARS_BEFORE, C_LOG_FROM_START,
    C_LOG_TO_END, C_BOILER_WORDS, C_LEGAL, C_DATE_LIKE, C_CODE_SHARE, C_INDENTED, C_TABS, C_SEPARATORS,
    C_REPEATED, C_IN_TITLE, C_BLANK_BEFORE, C_BLANK_AFTER,
    C_DOC_LOG_CHARS, C_DOC_LINK_SHARE, C_DOC_LOG_LINES,
    C_PREV_LOG_CHARS, C_PREV_LINK_COV, C_PREV_END_PUNCT, C_NEXT_LOG_CHARS, C_NEXT_LINK_COV, C_NEXT_END_PUNCT,
    C_WIN_LOG_CHARS, C_WIN_LINK_COV, C_WIN_END_PUNCT, C_WIN_CODE_SHARE,
    C_PROSE_BEFORE, C_PROSE_AFTER, C_WIDE_PROSE, C_WIDE_LINK_COV, C_REL_LOG_CHARS,
    C_SRC_LOCATED, C_SRC_GAP, C_SRC_INLINE, C_SRC_REL_POS,
    C_SRC_TAG_A, C_SRC_TAG_HEADING, C_SRC_TAG_LI, C_SRC_TAG_CAPTION, C_SRC_TAG_P,
    C_SRC_BOILER_CLASS, C_SRC_CONTENT_CLASS,
    C_WIN_SRC_GAP, C_WIN_SRC_TAG_A, C_WIN_SRC_INLINE, C_WIDE_SRC_BOILER_CLASS,
    C_BLOCK_PROSE_SHARE, C_BLOCK_IS_MAIN, C_BLOCK_DIST, C_BLOCK_AFTER_MAIN, C_BLOCK_BOILER_CLASS,
    N_COLS
};

static const char *COL_NAMES[N_COLS] = {
    "log_chars", "log_words", "cjk_share", "link_cov", "end_punct", "ends_colon", "punct_per_word",
    "digit_share", "upper_share", "title_words", "bullet", "rel_pos", "chars_before", "log_from_start",
    "log_to_end", "boiler_words", "legal", "date_like", "code_share", "indented", "tabs", "separators",
    "repeated", "in_title", "blank_before", "blank_after",
    "doc_log_chars", "doc_link_share", "doc_log_lines",
    "prev_log_chars", "prev_link_cov", "prev_end_punct", "next_log_chars", "next_link_cov", "next_end_punct",
    "win_log_chars", "win_link_cov", "win_end_punct", "win_code_share",
    "prose_before", "prose_after", "wide_prose", "wide_link_cov", "rel_log_chars",
    "src_located", "src_gap", "src_inline", "src_rel_pos",
    "src_tag_a", "src_tag_heading", "src_tag_li", "src_tag_caption", "src_tag_p",
    "src_boiler_class", "src_content_class",
    "win_src_gap", "win_src_tag_a", "win_src_inline", "wide_src_boiler_class",
    "block_prose_share", "block_is_main", "block_dist", "block_after_main", "block_boiler_class",
};

/* Character-class bits, as in goldpan.extract.lines. */
enum { B_DIGIT = 1, B_UPPER = 2, B_LETTER = 4, B_CJK = 8, B_PUNCT = 16, B_CODE = 32, B_SEP = 64, B_END = 128 };

static int COL[N_COLS];
static Py_ssize_t N_FEAT = 0;
static unsigned char CLASS[0x10000];
static unsigned char BULLET_FIRST[0x10000];
static int CONFIGURED = 0;
static unsigned char ASCII_WORD[128]; /* Python regex word characters among ASCII */
/* Python callables: bullet_core(line) -> (core, is_bullet); keywords(low, has_cjk, has_digit) ->
 * (hits, legal, date); separator_cov(core, anchors) -> float | None; value_words(values) -> (b, c). */
static PyObject *BULLET_CORE = NULL, *SEPARATOR_COV = NULL, *VALUE_WORDS = NULL;
/* The keyword rules of goldpan.extract.lines._keywords: word sets, pairs, CJK marks, date searches. */
static PyObject *KW_BOILER = NULL, *KW_PAIR_FIRSTS = NULL, *KW_PAIRS = NULL, *KW_CJK = NULL, *KW_LEGAL = NULL,
                *KW_DATE_NUMERIC = NULL, *KW_DATE_MONTH = NULL, *KW_LEGAL_MARKS = NULL;
/* Constants shared with the Python reference. */
static long WINDOW = 3, WIDE = 10, PROSE_MIN_WORDS = 8, BLOCK_GAP = 600;
static Py_ssize_t PROBE_SPAN = 48, NEAR = 16384, TAIL = 240;

static PyObject *
configure(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"columns", "n_features", "class_table", "bullet_first", "bullet_core", "keywords",
                             "separator_cov", "value_words", "window", "wide", "prose_min_words", "block_gap",
                             "probe_span", "near", "tail", NULL};
    PyObject *columns, *bc, *kwf, *sc, *vw;
    Py_buffer ct, bf;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!ny*y*OOOOllllnnn", kwlist, &PyDict_Type, &columns, &N_FEAT,
                                     &ct, &bf, &bc, &kwf, &sc, &vw, &WINDOW, &WIDE, &PROSE_MIN_WORDS,
                                     &BLOCK_GAP, &PROBE_SPAN, &NEAR, &TAIL))
        return NULL;
    int ok = ct.len == 0x10000 && bf.len == 0x10000;
    if (ok) {
        memcpy(CLASS, ct.buf, 0x10000);
        memcpy(BULLET_FIRST, bf.buf, 0x10000);
    }
    PyBuffer_Release(&ct);
    PyBuffer_Release(&bf);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "class_table and bullet_first must be 65536 bytes");
        return NULL;
    }
    for (int c = 0; c < N_COLS; c++) {
        PyObject *v = PyDict_GetItemString(columns, COL_NAMES[c]);
        if (v == NULL) {
            PyErr_Format(PyExc_KeyError, "feature column %s is not configured", COL_NAMES[c]);
            return NULL;
        }
        long k = PyLong_AsLong(v);
        if (k < 0 || k >= N_FEAT) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "column %s out of range", COL_NAMES[c]);
            return NULL;
        }
        COL[c] = (int)k;
    }
    Py_XSETREF(BULLET_CORE, Py_NewRef(bc));
    if (!PyTuple_Check(kwf) || PyTuple_GET_SIZE(kwf) != 8) {
        PyErr_SetString(PyExc_TypeError, "keywords must be (boiler words, pair firsts, pairs, CJK marks, legal words, "
                                         "legal marks, numeric date search, month date search)");
        return NULL;
    }
    Py_XSETREF(KW_BOILER, Py_NewRef(PyTuple_GET_ITEM(kwf, 0)));
    Py_XSETREF(KW_PAIR_FIRSTS, Py_NewRef(PyTuple_GET_ITEM(kwf, 1)));
    Py_XSETREF(KW_PAIRS, Py_NewRef(PyTuple_GET_ITEM(kwf, 2)));
    Py_XSETREF(KW_CJK, Py_NewRef(PyTuple_GET_ITEM(kwf, 3)));
    Py_XSETREF(KW_LEGAL, Py_NewRef(PyTuple_GET_ITEM(kwf, 4)));
    Py_XSETREF(KW_LEGAL_MARKS, Py_NewRef(PyTuple_GET_ITEM(kwf, 5)));
    Py_XSETREF(KW_DATE_NUMERIC, Py_NewRef(PyTuple_GET_ITEM(kwf, 6)));
    Py_XSETREF(KW_DATE_MONTH, Py_NewRef(PyTuple_GET_ITEM(kwf, 7)));
    for (int c = 0; c < 128; c++)
        ASCII_WORD[c] = c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    Py_XSETREF(SEPARATOR_COV, Py_NewRef(sc));
    Py_XSETREF(VALUE_WORDS, Py_NewRef(vw));
    CONFIGURED = 1;
    Py_RETURN_NONE;
}

/* ---- helpers ---- */

static inline unsigned char
cls(Py_UCS4 c)
{
    return CLASS[c > 0xFFFF ? 0xFFFF : c];
}

/* \w of Python's re for str patterns. */
static inline int
is_word(Py_UCS4 c)
{
    return c < 128 ? ASCII_WORD[c] : Py_UNICODE_ISALNUM(c);
}

/* " ".join(s.split()) of a str, as a new reference (the same object when nothing changes). */
static PyObject *
normalize_ws(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    /* Fast check: no leading/trailing whitespace, only single ' ' inside. */
    int clean = n > 0;
    Py_UCS4 prev = ' ';
    for (Py_ssize_t j = 0; j < n && clean; j++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, j);
        if (c == ' ') {
            if (prev == ' ')
                clean = 0;
        } else if (Py_UNICODE_ISSPACE(c)) {
            clean = 0;
        }
        prev = c;
    }
    if (clean && prev == ' ')
        clean = 0;
    if (clean)
        return Py_NewRef(s);
    Py_UCS4 *buf = PyMem_Malloc(sizeof(Py_UCS4) * (n + 1));
    if (buf == NULL)
        return PyErr_NoMemory();
    Py_ssize_t m = 0;
    int in_space = 1;
    for (Py_ssize_t j = 0; j < n; j++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, j);
        if (Py_UNICODE_ISSPACE(c)) {
            in_space = 1;
        } else {
            if (in_space && m > 0)
                buf[m++] = ' ';
            in_space = 0;
            buf[m++] = c;
        }
    }
    PyObject *r = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, m);
    PyMem_Free(buf);
    return r;
}

static inline float
f32_log1p(float x)
{
    return log1pf(x);
}

/* numpy's pairwise sum of float32 values (what ndarray.sum() does), so the document shares round
 * the same way as in the reference. */
static float
pairwise_sum(const float *a, Py_ssize_t n)
{
    if (n < 8) {
        float res = 0.f;
        for (Py_ssize_t i = 0; i < n; i++)
            res += a[i];
        return res;
    } else if (n <= 128) {
        float r[8];
        Py_ssize_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    } else {
        Py_ssize_t n2 = n / 2;
        n2 -= n2 % 8;
        return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
    }
}

/* ---- the markup around each line (goldpan.extract.source_context) ---- */

/* Maximal runs of \w of at least 4 characters in core[from:to]: (offset, length) of the longest,
 * the first one of that length. Returns 0 when there is none. */
static int
longest_probe(int kind, const void *d, Py_ssize_t from, Py_ssize_t to, Py_ssize_t *off, Py_ssize_t *len)
{
    Py_ssize_t best = 0, best_at = -1, j = from;
    while (j < to) {
        if (!is_word(PyUnicode_READ(kind, d, j))) {
            j++;
            continue;
        }
        Py_ssize_t k = j;
        while (k < to && is_word(PyUnicode_READ(kind, d, k)))
            k++;
        if (k - j >= 4 && k - j > best) {
            best = k - j;
            best_at = j;
        }
        j = k;
    }
    if (best_at < 0)
        return 0;
    *off = best_at;
    *len = best;
    return 1;
}

/* _tag_class of goldpan.extract.source_context for an ASCII tag name: column offset 0-4, -1 for
 * another container, -2 for an inline tag (not a container). */
static int
tag_class(int kind, const void *d, Py_ssize_t at, Py_ssize_t n)
{
    char t[12];
    if (n > 10) {
        /* Longer than any listed name: only the heading rule (h + a digit) can apply. */
        Py_UCS4 c0 = PyUnicode_READ(kind, d, at), c1 = PyUnicode_READ(kind, d, at + 1);
        return ((c0 == 'h' || c0 == 'H') && c1 >= '0' && c1 <= '9') ? 1 : -1;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        Py_UCS4 c = PyUnicode_READ(kind, d, at + j);
        t[j] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    t[n] = 0;
    static const char *inl[] = {"span", "strong", "b", "em", "i", "u", "font", "small", "abbr", "mark", "sup", "sub",
                                NULL};
    for (int k = 0; inl[k]; k++)
        if (strcmp(t, inl[k]) == 0)
            return -2;
    if (strcmp(t, "a") == 0)
        return 0;
    if (t[0] == 'h' && n >= 2 && t[1] >= '0' && t[1] <= '9')
        return 1;
    if (!strcmp(t, "li") || !strcmp(t, "dt") || !strcmp(t, "dd"))
        return 2;
    static const char *cap[] = {"figcaption", "caption", "cite", "small", "time", "label", "button", "address", NULL};
    for (int k = 0; cap[k]; k++)
        if (strcmp(t, cap[k]) == 0)
            return 3;
    if (strcmp(t, "p") == 0)
        return 4;
    return -1;
}

static inline int
is_ascii_alpha(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
is_ascii_alnum(Py_UCS4 c)
{
    return is_ascii_alpha(c) || (c >= '0' && c <= '9');
}

/* Next '<' in d[from:n] (memchr for one-byte strings), or n. */
static inline Py_ssize_t
next_lt(int kind, const void *d, Py_ssize_t from, Py_ssize_t n)
{
    if (from >= n)
        return n;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = memchr((const Py_UCS1 *)d + from, '<', (size_t)(n - from));
        return p ? p - (const Py_UCS1 *)d : n;
    }
#ifdef __SSE2__
    if (kind == PyUnicode_2BYTE_KIND) {
        /* Most news pages are two-byte strings (one curly quote is enough): 8 characters a compare. */
        const Py_UCS2 *u = (const Py_UCS2 *)d;
        const __m128i lt = _mm_set1_epi16('<');
        Py_ssize_t j = from;
        for (; j + 8 <= n; j += 8) {
            int mask = _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(u + j)), lt));
            if (mask)
                return j + (__builtin_ctz((unsigned)mask) >> 1);
        }
        for (; j < n; j++)
            if (u[j] == '<')
                return j;
        return n;
    }
#endif
    for (Py_ssize_t j = from; j < n; j++)
        if (PyUnicode_READ(kind, d, j) == '<')
            return j;
    return n;
}

/* Position of `<body` (any case, then a non-word character or the end) in html, or 0. */
static Py_ssize_t
find_body(int kind, const void *d, Py_ssize_t n)
{
    for (Py_ssize_t j = next_lt(kind, d, 0, n); j + 5 <= n; j = next_lt(kind, d, j + 1, n)) {
        static const char w[] = "body";
        int ok = 1;
        for (int k = 0; k < 4 && ok; k++) {
            Py_UCS4 c = PyUnicode_READ(kind, d, j + 1 + k);
            if (c != (Py_UCS4)w[k] && c != (Py_UCS4)(w[k] - 32))
                ok = 0;
        }
        if (ok && (j + 5 == n || !is_word(PyUnicode_READ(kind, d, j + 5))))
            return j;
    }
    return 0;
}

/* The class/id values (`(?:class|id)="([^"]*)"`) in html[from:to], joined with single spaces;
 * NULL with no error when there are none. */
static PyObject *
class_values(PyObject *html, int kind, const void *d, Py_ssize_t from, Py_ssize_t to)
{
    PyObject *parts = NULL;
    Py_ssize_t j = from;
    while (j < to) {
        Py_UCS4 c = PyUnicode_READ(kind, d, j);
        Py_ssize_t q = -1;
        if (c == 'c' && j + 7 <= to && PyUnicode_READ(kind, d, j + 1) == 'l' && PyUnicode_READ(kind, d, j + 2) == 'a' &&
            PyUnicode_READ(kind, d, j + 3) == 's' && PyUnicode_READ(kind, d, j + 4) == 's' &&
            PyUnicode_READ(kind, d, j + 5) == '=' && PyUnicode_READ(kind, d, j + 6) == '"')
            q = j + 7;
        else if (c == 'i' && j + 4 <= to && PyUnicode_READ(kind, d, j + 1) == 'd' && PyUnicode_READ(kind, d, j + 2) == '=' &&
                 PyUnicode_READ(kind, d, j + 3) == '"')
            q = j + 4;
        if (q < 0) {
            j++;
            continue;
        }
        Py_ssize_t e = q;
        while (e < to && PyUnicode_READ(kind, d, e) != '"')
            e++;
        if (e >= to) {
            j++;
            continue;
        }
        PyObject *v = PyUnicode_Substring(html, q, e);
        if (v == NULL)
            goto fail;
        if (parts == NULL && (parts = PyList_New(0)) == NULL) {
            Py_DECREF(v);
            goto fail;
        }
        int r = PyList_Append(parts, v);
        Py_DECREF(v);
        if (r < 0)
            goto fail;
        j = e + 1;
    }
    if (parts == NULL)
        return NULL;
    {
        PyObject *sep = PyUnicode_FromString(" ");
        if (sep == NULL)
            goto fail;
        PyObject *joined = PyUnicode_Join(sep, parts);
        Py_DECREF(sep);
        Py_DECREF(parts);
        return joined;
    }
fail:
    Py_XDECREF(parts);
    return NULL;
}

/* Python's str.find(sub, start, end) (end < 0: to the end of the string). */
static Py_ssize_t
find_in(PyObject *html, PyObject *sub, Py_ssize_t start, Py_ssize_t end, Py_ssize_t hlen)
{
    if (end < 0 || end > hlen)
        end = hlen;
    if (start > hlen)
        return -1;
    return PyUnicode_Find(html, sub, start, end, 1);
}

/* Fill the source columns of `out` (row-major float32, n x N_FEAT) for the lines `cores`. */
static int
source_columns(float *out, PyObject **cores, Py_ssize_t n, PyObject *html)
{
    Py_ssize_t hlen = PyUnicode_GET_LENGTH(html);
    if (n == 0 || hlen == 0)
        return 0;
    int hk = PyUnicode_KIND(html);
    const void *hd = PyUnicode_DATA(html);
    Py_ssize_t body = find_body(hk, hd, hlen);
    Py_ssize_t span = hlen - body > 1 ? hlen - body : 1;
    Py_ssize_t pos = body;
    int tag = -1;
    long boiler = 0, content = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *core = cores[i];
        Py_ssize_t clen = PyUnicode_GET_LENGTH(core);
        int ck = PyUnicode_KIND(core);
        const void *cd = PyUnicode_DATA(core);
        Py_ssize_t poff, plen;
        if (!longest_probe(ck, cd, 0, clen < PROBE_SPAN ? clen : PROBE_SPAN, &poff, &plen))
            continue;
        PyObject *first = PyUnicode_Substring(core, poff, poff + plen);
        if (first == NULL)
            return -1;
        /* core.find(first): the first occurrence, which may lie before the run it came from. */
        Py_ssize_t first_off = PyUnicode_Find(core, first, 0, clen, 1);
        Py_ssize_t at = find_in(html, first, pos, pos + NEAR, hlen);
        if (at == -2) {
            Py_DECREF(first);
            return -1;
        }
        if (at < 0) {
            Py_ssize_t from = pos + NEAR - plen + 1;
            at = find_in(html, first, from > pos ? from : pos, -1, hlen);
            if (at < 0) {
                Py_DECREF(first);
                if (at == -2)
                    return -1;
                continue;
            }
        }
        Py_DECREF(first);
        Py_ssize_t start_text = at - first_off;
        if (start_text < pos)
            start_text = pos;
        Py_ssize_t first_end = first_off + plen;
        Py_ssize_t end = at + plen;
        Py_ssize_t tail_from = clen - PROBE_SPAN;
        if (tail_from < first_end)
            tail_from = first_end;
        Py_ssize_t loff, llen;
        if (tail_from < clen && longest_probe(ck, cd, tail_from, clen, &loff, &llen)) {
            PyObject *last = PyUnicode_Substring(core, loff, loff + llen);
            if (last == NULL)
                return -1;
            Py_ssize_t last_off = PyUnicode_Find(core, last, tail_from, clen, 1);
            Py_ssize_t at_last = find_in(html, last, end, end + 6 * (last_off - first_off) + 300 + llen, hlen);
            Py_DECREF(last);
            if (at_last == -2)
                return -1;
            if (at_last >= 0)
                end = at_last + llen;
        }
        Py_ssize_t tail_start = start_text - TAIL;
        if (tail_start < pos)
            tail_start = pos;
        /* Open tag names in html[tail_start:at], innermost (last) container first. */
        Py_ssize_t name_at[256], name_len[256];
        int n_names = 0;
        for (Py_ssize_t j = tail_start; j + 1 < at; j++) {
            if (PyUnicode_READ(hk, hd, j) != '<' || !is_ascii_alpha(PyUnicode_READ(hk, hd, j + 1)))
                continue;
            Py_ssize_t k = j + 2;
            while (k < at && is_ascii_alnum(PyUnicode_READ(hk, hd, k)))
                k++;
            if (n_names == 256) { /* only the innermost names are read: keep the last half */
                memmove(name_at, name_at + 128, sizeof(Py_ssize_t) * 128);
                memmove(name_len, name_len + 128, sizeof(Py_ssize_t) * 128);
                n_names = 128;
            }
            name_at[n_names] = j + 1;
            name_len[n_names] = k - j - 1;
            n_names++;
            j = k - 1;
        }
        for (int q = n_names - 1; q >= 0; q--) {
            int k = tag_class(hk, hd, name_at[q], name_len[q]);
            if (k == -2)
                continue;
            tag = k;
            PyObject *values = class_values(html, hk, hd, tail_start, at);
            if (values == NULL) {
                if (PyErr_Occurred())
                    return -1;
                boiler = content = 0;
            } else {
                PyObject *bc = PyObject_CallOneArg(VALUE_WORDS, values);
                Py_DECREF(values);
                if (bc == NULL)
                    return -1;
                if (!PyTuple_Check(bc) || PyTuple_GET_SIZE(bc) != 2) {
                    Py_DECREF(bc);
                    PyErr_SetString(PyExc_TypeError, "value_words must return (boilerplate, content) counts");
                    return -1;
                }
                boiler = PyLong_AsLong(PyTuple_GET_ITEM(bc, 0));
                content = PyLong_AsLong(PyTuple_GET_ITEM(bc, 1));
                Py_DECREF(bc);
            }
            break;
        }
        float *row = out + i * N_FEAT;
        Py_ssize_t gap = start_text - pos;
        double inline_ = (double)(end - start_text) / (double)(clen ? clen : 1);
        row[COL[C_SRC_LOCATED]] = 1.0f;
        row[COL[C_SRC_GAP]] = (float)log1p((double)(gap > 0 ? gap : 0));
        row[COL[C_SRC_INLINE]] = (float)log1p(inline_ > 0 ? inline_ : 0.0);
        row[COL[C_SRC_REL_POS]] = (float)((double)(at - body) / (double)span);
        if (tag >= 0)
            row[COL[C_SRC_TAG_A + tag]] = 1.0f;
        row[COL[C_SRC_BOILER_CLASS]] = (float)log1p((double)boiler);
        row[COL[C_SRC_CONTENT_CLASS]] = (float)log1p((double)content);
        pos = end;
    }
    return 0;
}

/* ---- the keywords of a short line (goldpan.extract.lines._keywords) ---- */

/* (boilerplate hits, legal mark, date) of the lower-cased line `low`; -1 on error. */
static int
keywords(PyObject *low, int has_cjk, int has_digit, float *hits_out, float *legal_out, float *date_out)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(low);
    int kind = PyUnicode_KIND(low);
    const void *d = PyUnicode_DATA(low);
    long hits = 0;
    int legal = 0, r;
    /* prev: the previous word when it can start a pair (a pair's first word is always in KW_PAIR_FIRSTS,
     * so only those pairs are looked up, as the reference's pairwise() finds them). */
    PyObject *prev = NULL, *w = NULL;
    Py_ssize_t j = 0;
    while (j < n) {
        if (!is_word(PyUnicode_READ(kind, d, j))) {
            j++;
            continue;
        }
        Py_ssize_t k = j + 1;
        while (k < n && is_word(PyUnicode_READ(kind, d, k)))
            k++;
        w = PyUnicode_Substring(low, j, k);
        j = k;
        if (w == NULL)
            goto fail;
        if ((r = PySet_Contains(KW_BOILER, w)) < 0)
            goto fail;
        hits += r;
        if (!legal) {
            if ((r = PySet_Contains(KW_LEGAL, w)) < 0)
                goto fail;
            legal = r;
        }
        if (prev != NULL) {
            PyObject *pair = PyTuple_Pack(2, prev, w);
            if (pair == NULL)
                goto fail;
            r = PySet_Contains(KW_PAIRS, pair);
            Py_DECREF(pair);
            if (r < 0)
                goto fail;
            hits += r;
            Py_CLEAR(prev);
        }
        if ((r = PySet_Contains(KW_PAIR_FIRSTS, w)) < 0)
            goto fail;
        if (r)
            prev = w;
        else
            Py_DECREF(w);
        w = NULL;
    }
    Py_CLEAR(prev);
    if (has_cjk) {
        for (Py_ssize_t q = 0; q < PyTuple_GET_SIZE(KW_CJK); q++) {
            if ((r = PyUnicode_Contains(low, PyTuple_GET_ITEM(KW_CJK, q))) < 0)
                return -1;
            hits += r;
        }
    }
    for (Py_ssize_t q = 0; !legal && q < PyTuple_GET_SIZE(KW_LEGAL_MARKS); q++) {
        if ((r = PyUnicode_Contains(low, PyTuple_GET_ITEM(KW_LEGAL_MARKS, q))) < 0)
            return -1;
        legal = r;
    }
    int date = 0;
    if (has_digit) {
        PyObject *m = PyObject_CallOneArg(KW_DATE_NUMERIC, low);
        if (m == NULL)
            return -1;
        date = m != Py_None;
        Py_DECREF(m);
        if (!date) {
            if ((m = PyObject_CallOneArg(KW_DATE_MONTH, low)) == NULL)
                return -1;
            date = m != Py_None;
            Py_DECREF(m);
        }
    }
    *hits_out = (float)hits;
    *legal_out = (float)legal;
    *date_out = (float)date;
    return 0;
fail:
    Py_XDECREF(w);
    Py_XDECREF(prev);
    return -1;
}

/* ---- the features of one page's lines ---- */

typedef struct {
    int counts[8]; /* per class bit, in bit order 1, 2, ... 128 */
    int words, title_words;
    Py_ssize_t len;
    int bullet_first;
} LineStats;

static inline int
bit_index(int bit)
{
    int k = 0;
    while ((1 << k) != bit)
        k++;
    return k;
}

static void
window_means(const double *csum, Py_ssize_t n, Py_ssize_t k, Py_ssize_t col_in_csum, long radius, float *out,
             int col)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t lo = i - radius > 0 ? i - radius : 0;
        Py_ssize_t hi = i + radius + 1 < n ? i + radius + 1 : n;
        out[i * N_FEAT + col] =
            (float)((csum[hi * k + col_in_csum] - csum[lo * k + col_in_csum]) / (double)(hi - lo));
    }
}

static PyObject *
line_features(PyObject *self, PyObject *args)
{
    PyObject *lines, *blank_before, *blank_after, *anchors, *title_norm, *html;
    Py_buffer buf;
    if (!CONFIGURED) {
        PyErr_SetString(PyExc_RuntimeError, "goldpan.extract._fastlines is not configured");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!O!O!OUOw*", &PyList_Type, &lines, &PyList_Type, &blank_before, &PyList_Type,
                          &blank_after, &anchors, &title_norm, &html, &buf))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(lines);
    PyObject **cores = NULL;
    LineStats *st = NULL;
    double *csum = NULL;
    float *tmp = NULL;
    long *block = NULL;
    PyObject *seen = NULL;
    int failed = 1;
    if (n == 0) { /* no lines (split_lines then gives one blank_after flag all the same) */
        failed = 0;
        goto done;
    }
    if (buf.len != (Py_ssize_t)sizeof(float) * n * N_FEAT || PyList_GET_SIZE(blank_before) != n ||
        PyList_GET_SIZE(blank_after) != n) {
        PyErr_SetString(PyExc_ValueError, "out must be a zeroed float32 (n_lines, n_features) buffer");
        goto done;
    }
    if (html != Py_None && !PyUnicode_Check(html)) {
        PyErr_SetString(PyExc_TypeError, "html must be str or None");
        goto done;
    }
    float *out = (float *)buf.buf;
    cores = PyMem_Calloc(n, sizeof(PyObject *));
    st = PyMem_Calloc(n, sizeof(LineStats));
    if (cores == NULL || st == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int has_anchors = PyAnySet_Check(anchors) && PySet_GET_SIZE(anchors) > 0;
    Py_ssize_t tl = PyUnicode_GET_LENGTH(title_norm);
    Py_ssize_t total_len = 0, longest = 0;
    int any_dup = 0;
    seen = PyDict_New();
    if (seen == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i);
        if (!PyUnicode_Check(line)) {
            PyErr_SetString(PyExc_TypeError, "lines must be str");
            goto done;
        }
        float *row = out + i * N_FEAT;
        PyObject *core = normalize_ws(line);
        if (core == NULL)
            goto done;
        Py_ssize_t clen = PyUnicode_GET_LENGTH(core);
        Py_UCS4 first = clen ? PyUnicode_READ_CHAR(core, 0) : 0;
        st[i].bullet_first = clen > 0 && BULLET_FIRST[first > 0xFFFF ? 0xFFFF : first];
        if (st[i].bullet_first) {
            PyObject *r = PyObject_CallOneArg(BULLET_CORE, line);
            if (r == NULL) {
                Py_DECREF(core);
                goto done;
            }
            if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(r, 0))) {
                Py_DECREF(r);
                Py_DECREF(core);
                PyErr_SetString(PyExc_TypeError, "bullet_core must return (core, is_bullet)");
                goto done;
            }
            Py_SETREF(core, Py_NewRef(PyTuple_GET_ITEM(r, 0)));
            if (PyObject_IsTrue(PyTuple_GET_ITEM(r, 1)))
                row[COL[C_BULLET]] = 1.0f;
            Py_DECREF(r);
            clen = PyUnicode_GET_LENGTH(core);
        }
        cores[i] = core;
        /* Indented: a space or tab first, unless the core starts with a bullet-like character. */
        Py_UCS4 l0 = PyUnicode_GET_LENGTH(line) ? PyUnicode_READ_CHAR(line, 0) : 0;
        row[COL[C_INDENTED]] = (!st[i].bullet_first && (l0 == ' ' || l0 == '\t')) ? 1.0f : 0.0f;
        /* Tabs, counted on the line itself. */
        {
            int lk = PyUnicode_KIND(line);
            const void *ld = PyUnicode_DATA(line);
            Py_ssize_t ll = PyUnicode_GET_LENGTH(line), tabs = 0;
            for (Py_ssize_t j = 0; j < ll; j++)
                tabs += PyUnicode_READ(lk, ld, j) == '\t';
            if (tabs)
                row[COL[C_TABS]] = (float)(tabs < 10 ? tabs : 10) / 10.0f;
        }
        /* Character classes, words and capitalised words of the core. */
        int ck = PyUnicode_KIND(core);
        const void *cd = PyUnicode_DATA(core);
        LineStats *s = &st[i];
        s->len = clen;
        Py_UCS4 prev = '\n';
        for (Py_ssize_t j = 0; j < clen; j++) {
            Py_UCS4 c = PyUnicode_READ(ck, cd, j);
            unsigned char b = cls(c);
            for (int k = 0; k < 8; k++)
                s->counts[k] += (b >> k) & 1;
            if (c != ' ' && c != '\n' && (prev == ' ' || prev == '\n')) {
                s->words++;
                s->title_words += (b & B_UPPER) != 0;
            }
            prev = c;
        }
        total_len += clen;
        if (clen > longest)
            longest = clen;
        if (clen > 0) {
            Py_UCS4 last = PyUnicode_READ(ck, cd, clen - 1);
            row[COL[C_END_PUNCT]] = (cls(last) & B_END) ? 1.0f : 0.0f;
            row[COL[C_ENDS_COLON]] = last == ':' ? 1.0f : 0.0f;
        }
        /* Repeated lines (Counter of cores). */
        PyObject *cnt = PyDict_GetItemWithError(seen, core);
        if (cnt == NULL && PyErr_Occurred())
            goto done;
        if (cnt != NULL)
            any_dup = 1;
        PyObject *one = PyLong_FromLong(cnt == NULL ? 1 : PyLong_AsLong(cnt) + 1);
        if (one == NULL || PyDict_SetItem(seen, core, one) < 0) {
            Py_XDECREF(one);
            goto done;
        }
        Py_DECREF(one);
    }
    (void)longest;
    double total = (double)total_len;
    if (total == 0.0)
        total = 1.0;
    int iD = bit_index(B_DIGIT), iU = bit_index(B_UPPER), iL = bit_index(B_LETTER), iC = bit_index(B_CJK),
        iP = bit_index(B_PUNCT), iX = bit_index(B_CODE), iS = bit_index(B_SEP);
    float cum_len = 0.f;
    for (Py_ssize_t i = 0; i < n; i++) {
        float *row = out + i * N_FEAT;
        LineStats *s = &st[i];
        float lensf = (float)s->len, nw = (float)s->words;
        float safe_len = lensf > 1.f ? lensf : 1.f, safe_words = nw > 1.f ? nw : 1.f;
        row[COL[C_LOG_CHARS]] = f32_log1p(lensf);
        row[COL[C_LOG_WORDS]] = f32_log1p(nw);
        row[COL[C_CJK_SHARE]] = (float)s->counts[iC] / safe_len;
        row[COL[C_PUNCT_PER_WORD]] = (float)s->counts[iP] / safe_words;
        row[COL[C_DIGIT_SHARE]] = (float)s->counts[iD] / safe_len;
        float letters = (float)s->counts[iL];
        row[COL[C_UPPER_SHARE]] = (float)s->counts[iU] / (letters > 1.f ? letters : 1.f);
        row[COL[C_TITLE_WORDS]] = (float)s->title_words / safe_words;
        row[COL[C_CODE_SHARE]] = (float)s->counts[iX] / safe_len;
        float idx = (float)i;
        row[COL[C_REL_POS]] = n > 1 ? idx / (float)(n - 1) : 0.0f;
        cum_len += lensf;
        row[COL[C_CHARS_BEFORE]] = (cum_len - lensf) / (float)total;
        row[COL[C_LOG_FROM_START]] = f32_log1p(idx);
        row[COL[C_LOG_TO_END]] = f32_log1p((float)(n - 1) - idx);
        float seps = (float)s->counts[iS];
        row[COL[C_SEPARATORS]] = (seps < 10.f ? seps : 10.f) / 10.0f;
        if (any_dup) {
            PyObject *cnt = PyDict_GetItemWithError(seen, cores[i]);
            if (cnt != NULL && PyLong_AsLong(cnt) > 1)
                row[COL[C_REPEATED]] = 1.0f;
        }
        /* The page title and the keywords both read the lower-cased core: lowered once. */
        int title_range = tl && s->len >= 8 && s->len <= 3 * tl + 20;
        if (title_range || s->words <= 15) {
            PyObject *low = PyObject_CallMethod(cores[i], "lower", NULL);
            if (low == NULL)
                goto done;
            int r = 0;
            if (title_range) { /* the page title: a line inside it or holding it */
                int hit = PyUnicode_Contains(title_norm, low);
                if (hit == 0)
                    hit = PyUnicode_Contains(low, title_norm);
                if (hit > 0)
                    row[COL[C_IN_TITLE]] = 1.0f;
                r = hit < 0 ? -1 : 0;
            }
            if (r == 0 && s->words <= 15) /* keywords of short lines */
                r = keywords(low, s->counts[iC] > 0, s->counts[iD] > 0, &row[COL[C_BOILER_WORDS]],
                             &row[COL[C_LEGAL]], &row[COL[C_DATE_LIKE]]);
            Py_DECREF(low);
            if (r < 0)
                goto done;
        }
        /* Link coverage: the line is a link text, or its separator-split pieces are. */
        if (has_anchors) {
            int linked = PySet_Contains(anchors, cores[i]);
            if (linked < 0)
                goto done;
            if (linked) {
                row[COL[C_LINK_COV]] = 1.0f;
            } else if (s->counts[iS] > 0 && s->words <= 40) {
                PyObject *r = PyObject_CallFunctionObjArgs(SEPARATOR_COV, cores[i], anchors, NULL);
                if (r == NULL)
                    goto done;
                if (r != Py_None)
                    row[COL[C_LINK_COV]] = (float)PyFloat_AsDouble(r);
                Py_DECREF(r);
            }
        }
        int bb = PyObject_IsTrue(PyList_GET_ITEM(blank_before, i));
        int ba = PyObject_IsTrue(PyList_GET_ITEM(blank_after, i));
        if (bb < 0 || ba < 0)
            goto done;
        row[COL[C_BLANK_BEFORE]] = (float)bb;
        row[COL[C_BLANK_AFTER]] = (float)ba;
    }
    if (PyErr_Occurred())
        goto done;
    /* Document columns. */
    tmp = PyMem_Malloc(sizeof(float) * n * 2);
    if (tmp == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        tmp[i] = out[i * N_FEAT + COL[C_LINK_COV]] * (float)st[i].len;
    float link_share = pairwise_sum(tmp, n) / (float)total;
    for (Py_ssize_t i = 0; i < n; i++)
        tmp[i] = out[i * N_FEAT + COL[C_LOG_CHARS]];
    float mean_log_chars = pairwise_sum(tmp, n) / (float)n;
    float doc_log_chars = (float)log1p(total), doc_log_lines = (float)log1p((double)n);
    /* Neighbours, prose and the markup columns, then the window means. */
    float *prose = tmp + n;
    for (Py_ssize_t i = 0; i < n; i++) {
        float *row = out + i * N_FEAT;
        row[COL[C_DOC_LOG_CHARS]] = doc_log_chars;
        row[COL[C_DOC_LINK_SHARE]] = link_share;
        row[COL[C_DOC_LOG_LINES]] = doc_log_lines;
        if (i > 0) {
            float *up = row - N_FEAT;
            row[COL[C_PREV_LOG_CHARS]] = up[COL[C_LOG_CHARS]];
            row[COL[C_PREV_LINK_COV]] = up[COL[C_LINK_COV]];
            row[COL[C_PREV_END_PUNCT]] = up[COL[C_END_PUNCT]];
        }
        if (i + 1 < n) {
            float *dn = row + N_FEAT;
            row[COL[C_NEXT_LOG_CHARS]] = dn[COL[C_LOG_CHARS]];
            row[COL[C_NEXT_LINK_COV]] = dn[COL[C_LINK_COV]];
            row[COL[C_NEXT_END_PUNCT]] = dn[COL[C_END_PUNCT]];
        }
        prose[i] = (st[i].words >= PROSE_MIN_WORDS && row[COL[C_END_PUNCT]] > 0 && row[COL[C_LINK_COV]] < 0.5f)
                       ? 1.0f : 0.0f;
        row[COL[C_REL_LOG_CHARS]] = row[COL[C_LOG_CHARS]] - mean_log_chars;
    }
    {
        double cum = 0.0, last;
        for (Py_ssize_t i = 0; i < n; i++)
            cum += (double)(prose[i] * (float)st[i].len);
        last = cum;
        cum = 0.0;
        for (Py_ssize_t i = 0; i < n; i++) {
            float pc = prose[i] * (float)st[i].len;
            cum += (double)pc;
            out[i * N_FEAT + COL[C_PROSE_BEFORE]] = (float)log1p(cum - (double)pc);
            out[i * N_FEAT + COL[C_PROSE_AFTER]] = (float)log1p(last - cum);
        }
    }
    int with_html = html != Py_None && PyUnicode_GET_LENGTH(html) > 0;
    if (with_html && source_columns(out, cores, n, html) < 0)
        goto done;
    /* Window series: +-WINDOW over 4 (+3 with markup) columns, +-WIDE over prose and 1 (+1) columns. */
    {
        int win_in[7] = {COL[C_LOG_CHARS], COL[C_LINK_COV], COL[C_END_PUNCT], COL[C_CODE_SHARE],
                         COL[C_SRC_GAP], COL[C_SRC_TAG_A], COL[C_SRC_INLINE]};
        int win_out[7] = {COL[C_WIN_LOG_CHARS], COL[C_WIN_LINK_COV], COL[C_WIN_END_PUNCT], COL[C_WIN_CODE_SHARE],
                          COL[C_WIN_SRC_GAP], COL[C_WIN_SRC_TAG_A], COL[C_WIN_SRC_INLINE]};
        int wide_in[2] = {COL[C_LINK_COV], COL[C_SRC_BOILER_CLASS]};
        int wide_out[3] = {COL[C_WIDE_PROSE], COL[C_WIDE_LINK_COV], COL[C_WIDE_SRC_BOILER_CLASS]};
        int kw_ = with_html ? 7 : 4, kd = with_html ? 3 : 2;
        Py_ssize_t k = kw_ + kd;
        csum = PyMem_Calloc((n + 1) * k, sizeof(double));
        if (csum == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            float *row = out + i * N_FEAT;
            double *c0 = csum + i * k, *c1 = csum + (i + 1) * k;
            for (int c = 0; c < kw_; c++)
                c1[c] = c0[c] + (double)row[win_in[c]];
            c1[kw_] = c0[kw_] + (double)prose[i];
            for (int c = 1; c < kd; c++)
                c1[kw_ + c] = c0[kw_ + c] + (double)row[wide_in[c - 1]];
        }
        for (int c = 0; c < kw_; c++)
            window_means(csum, n, k, c, WINDOW, out, win_out[c]);
        for (int c = 0; c < kd; c++)
            window_means(csum, n, k, kw_ + c, WIDE, out, wide_out[c]);
    }
    /* Blocks split by long markup gaps, placed against the block with the most prose. */
    if (with_html) {
        block = PyMem_Malloc(sizeof(long) * n);
        double *prose_by_block = PyMem_Calloc(n, sizeof(double));
        float *most = PyMem_Calloc(n, sizeof(float));
        if (block == NULL || prose_by_block == NULL || most == NULL) {
            PyMem_Free(prose_by_block);
            PyMem_Free(most);
            PyErr_NoMemory();
            goto done;
        }
        long b = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            float *row = out + i * N_FEAT;
            if (i > 0 && expm1f(row[COL[C_SRC_GAP]]) > (float)BLOCK_GAP)
                b++;
            block[i] = b;
            prose_by_block[b] += (double)(prose[i] * (float)st[i].len);
            float bc = row[COL[C_SRC_BOILER_CLASS]];
            if (bc > most[b])
                most[b] = bc;
        }
        long main_block = 0;
        double prose_total = 0.0;
        for (long q = 0; q <= b; q++) {
            if (prose_by_block[q] > prose_by_block[main_block])
                main_block = q;
            prose_total += prose_by_block[q];
        }
        double denom = prose_total > 1.0 ? prose_total : 1.0;
        for (Py_ssize_t i = 0; i < n; i++) {
            float *row = out + i * N_FEAT;
            long q = block[i];
            row[COL[C_BLOCK_PROSE_SHARE]] = (float)(prose_by_block[q] / denom);
            row[COL[C_BLOCK_IS_MAIN]] = q == main_block ? 1.0f : 0.0f;
            row[COL[C_BLOCK_DIST]] = (float)log1p((double)labs(q - main_block));
            row[COL[C_BLOCK_AFTER_MAIN]] = q > main_block ? 1.0f : 0.0f;
            row[COL[C_BLOCK_BOILER_CLASS]] = most[q];
        }
        PyMem_Free(prose_by_block);
        PyMem_Free(most);
    }
    failed = 0;
done:
    if (cores != NULL) {
        for (Py_ssize_t i = 0; i < n; i++)
            Py_XDECREF(cores[i]);
        PyMem_Free(cores);
    }
    PyMem_Free(st);
    PyMem_Free(csum);
    PyMem_Free(tmp);
    PyMem_Free(block);
    Py_XDECREF(seen);
    PyBuffer_Release(&buf);
    if (failed)
        return NULL;
    Py_RETURN_NONE;
}


/* ---- the page scans of goldpan.extract.learned.lists_kept and goldpan.extract.lines.anchor_texts ---- */

/* The length, kind and data of a str argument; -1 with TypeError for anything else. */
static int
str_view(PyObject *o, const char *what, Py_ssize_t *n, int *kind, const void **d)
{
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be str", what);
        return -1;
    }
    *n = PyUnicode_GET_LENGTH(o);
    *kind = PyUnicode_KIND(o);
    *d = PyUnicode_DATA(o);
    return 0;
}

/* `<(/?)[uU][lL]\b` renamed `<\1ol`: the same length, so a copy with two characters changed per tag. */
static PyObject *
lists_kept(PyObject *self, PyObject *html)
{
    Py_ssize_t n;
    int kind;
    const void *d;
    if (str_view(html, "html", &n, &kind, &d) < 0)
        return NULL;
    PyObject *out = NULL;
    void *od = NULL;
    for (Py_ssize_t j = next_lt(kind, d, 0, n); j < n; j = next_lt(kind, d, j + 1, n)) {
        Py_ssize_t u = j + 1;
        if (u < n && PyUnicode_READ(kind, d, u) == '/')
            u++;
        if (u + 1 >= n)
            continue;
        Py_UCS4 c1 = PyUnicode_READ(kind, d, u), c2 = PyUnicode_READ(kind, d, u + 1);
        if ((c1 != 'u' && c1 != 'U') || (c2 != 'l' && c2 != 'L'))
            continue;
        if (u + 2 < n && is_word(PyUnicode_READ(kind, d, u + 2)))
            continue;
        if (out == NULL) {
            out = PyUnicode_New(n, PyUnicode_MAX_CHAR_VALUE(html));
            if (out == NULL)
                return NULL;
            od = PyUnicode_DATA(out);
            memcpy(od, d, (size_t)n * kind);
        }
        PyUnicode_WRITE(kind, od, u, 'o');
        PyUnicode_WRITE(kind, od, u + 1, 'l');
    }
    if (out == NULL)
        return Py_NewRef(html);
    return out;
}

/* One capture of `[^<]{1,300}<` from `start`: its length, or 0 when there is none (-1 when the
 * character at `start` is '<', where a shorter start may still match). */
static inline Py_ssize_t
anchor_capture(int kind, const void *d, Py_ssize_t start, Py_ssize_t n)
{
    Py_ssize_t e = start;
    while (e < n && e - start <= 300 && PyUnicode_READ(kind, d, e) != '<')
        e++;
    if (e == start)
        return e < n ? -1 : 0;
    if (e - start > 300 || e >= n)
        return 0;
    return e - start;
}

static const char *INNER_TAGS[] = {"span", "strong", "b", "em", "i", "h1", "h2", "h3", "h4", "h5", "h6", "div", NULL};

/* The distinct captures of goldpan.extract.lines._ANCHOR over html, as a set of raw strings (findall
 * semantics: after a match the scan goes on after its closing '<'). */
static PyObject *
anchor_captures(PyObject *self, PyObject *html)
{
    Py_ssize_t n;
    int kind;
    const void *d;
    if (str_view(html, "html", &n, &kind, &d) < 0)
        return NULL;
    PyObject *found = PySet_New(NULL);
    if (found == NULL)
        return NULL;
    Py_ssize_t p = next_lt(kind, d, 0, n);
    while (p < n) {
        Py_ssize_t cap_at = -1, cap_len = 0;
        if (p + 2 < n) {
            Py_UCS4 a = PyUnicode_READ(kind, d, p + 1);
            if ((a == 'a' || a == 'A') && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, d, p + 2))) {
                Py_ssize_t q = p + 3;
                while (q < n && PyUnicode_READ(kind, d, q) != '>')
                    q++;
                if (q < n) {
                    Py_ssize_t r = q + 1, s = r;
                    while (s < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, d, s)))
                        s++;
                    /* The optional inline wrapper first. */
                    if (s < n && PyUnicode_READ(kind, d, s) == '<') {
                        for (int k = 0; INNER_TAGS[k] && cap_at < 0; k++) {
                            const char *t = INNER_TAGS[k];
                            Py_ssize_t m = (Py_ssize_t)strlen(t), e = s + 1;
                            int ok = e + m <= n;
                            for (Py_ssize_t z = 0; ok && z < m; z++)
                                ok = PyUnicode_READ(kind, d, e + z) == (Py_UCS4)t[z];
                            if (!ok || (e + m < n && is_word(PyUnicode_READ(kind, d, e + m))))
                                continue;
                            Py_ssize_t tq = e + m;
                            while (tq < n && PyUnicode_READ(kind, d, tq) != '>')
                                tq++;
                            if (tq >= n)
                                break;
                            Py_ssize_t lo = tq + 1, u = lo;
                            while (u < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, d, u)))
                                u++;
                            Py_ssize_t c = anchor_capture(kind, d, u, n);
                            if (c > 0) {
                                cap_at = u, cap_len = c;
                            } else if (c < 0 && u > lo) {
                                cap_at = u - 1, cap_len = 1; /* one blank before the next tag */
                            }
                            break;
                        }
                    }
                    if (cap_at < 0) {
                        Py_ssize_t c = anchor_capture(kind, d, s, n);
                        if (c > 0) {
                            cap_at = s, cap_len = c;
                        } else if (c < 0 && s > r) {
                            cap_at = s - 1, cap_len = 1;
                        }
                    }
                }
            }
        }
        if (cap_at >= 0) {
            PyObject *t = PyUnicode_Substring(html, cap_at, cap_at + cap_len);
            if (t == NULL || PySet_Add(found, t) < 0) {
                Py_XDECREF(t);
                Py_DECREF(found);
                return NULL;
            }
            Py_DECREF(t);
            p = next_lt(kind, d, cap_at + cap_len + 1, n);
        } else {
            p = next_lt(kind, d, p + 1, n);
        }
    }
    return found;
}

/* goldpan.extract.lines.anchor_texts: the distinct captures, entities unescaped (by `unescape`, Python's
 * html.unescape, only for captures holding '&') and whitespace normalised; empty ones dropped. */
static PyObject *
anchor_texts(PyObject *self, PyObject *args)
{
    PyObject *html, *unescape;
    if (!PyArg_ParseTuple(args, "UO", &html, &unescape))
        return NULL;
    PyObject *caps = anchor_captures(self, html);
    if (caps == NULL)
        return NULL;
    PyObject *out = PySet_New(NULL), *it = NULL, *m;
    if (out == NULL || (it = PyObject_GetIter(caps)) == NULL)
        goto fail;
    while ((m = PyIter_Next(it)) != NULL) {
        PyObject *t = m;
        if (PyUnicode_FindChar(m, '&', 0, PyUnicode_GET_LENGTH(m), 1) >= 0) {
            t = PyObject_CallOneArg(unescape, m);
            Py_DECREF(m);
            if (t == NULL)
                goto fail;
        }
        PyObject *norm = normalize_ws(t);
        Py_DECREF(t);
        if (norm == NULL)
            goto fail;
        int r = PyUnicode_GET_LENGTH(norm) ? PySet_Add(out, norm) : 0;
        Py_DECREF(norm);
        if (r < 0)
            goto fail;
    }
    if (PyErr_Occurred())
        goto fail;
    Py_DECREF(it);
    Py_DECREF(caps);
    PyObject *frozen = PyFrozenSet_New(out);
    Py_DECREF(out);
    return frozen;
fail:
    Py_XDECREF(it);
    Py_XDECREF(out);
    Py_DECREF(caps);
    return NULL;
}

/* goldpan.extract.lines.split_lines: the non-blank lines of `text`, and whether each had a blank line
 * (or the start / end of the text) before and after it. */
static PyObject *
split_lines(PyObject *self, PyObject *text)
{
    Py_ssize_t n;
    int kind;
    const void *d;
    if (str_view(text, "text", &n, &kind, &d) < 0)
        return NULL;
    PyObject *lines = PyList_New(0), *before = PyList_New(0), *after = NULL;
    if (lines == NULL || before == NULL)
        goto fail;
    int prev_blank = 1;
    Py_ssize_t start = 0;
    while (start <= n) {
        Py_ssize_t end = PyUnicode_FindChar(text, '\n', start, n, 1);
        if (end == -2)
            goto fail;
        if (end < 0)
            end = n;
        int blank = 1; /* line.strip() is empty */
        for (Py_ssize_t j = start; j < end && blank; j++)
            blank = Py_UNICODE_ISSPACE(PyUnicode_READ(kind, d, j));
        if (blank) {
            prev_blank = 1;
        } else {
            PyObject *line = PyUnicode_Substring(text, start, end);
            if (line == NULL || PyList_Append(lines, line) < 0) {
                Py_XDECREF(line);
                goto fail;
            }
            Py_DECREF(line);
            if (PyList_Append(before, prev_blank ? Py_True : Py_False) < 0)
                goto fail;
            prev_blank = 0;
        }
        start = end + 1;
    }
    Py_ssize_t m = PyList_GET_SIZE(before);
    if ((after = PyList_New(m > 0 ? m : 1)) == NULL)
        goto fail;
    for (Py_ssize_t i = 1; i < m; i++)
        PyList_SET_ITEM(after, i - 1, Py_NewRef(PyList_GET_ITEM(before, i)));
    PyList_SET_ITEM(after, (m > 0 ? m : 1) - 1, Py_NewRef(Py_True));
    return Py_BuildValue("NNN", lines, before, after);
fail:
    Py_XDECREF(lines);
    Py_XDECREF(before);
    Py_XDECREF(after);
    return NULL;
}

/* goldpan.extract.line_model.LineModel.predict: P(content) of each row of x (float32, n x d) through
 * one ReLU layer (w1: float64 d x h with the standardisation folded in, b1: h; w2: h, b2), written into
 * probs (float64, n). Why here: numpy's matmul hands even a 30-row product to OpenBLAS, whose threads
 * then spin (their CPU counts against the page), and the page's ~10 small numpy calls cost more than
 * the arithmetic; the sums are the same up to the order of float64 additions. */
static PyObject *
mlp_predict(PyObject *self, PyObject *args)
{
    Py_buffer x, w1, b1, w2, pr;
    double b2;
    if (!PyArg_ParseTuple(args, "y*y*y*y*dw*", &x, &w1, &b1, &w2, &b2, &pr))
        return NULL;
    PyObject *ret = NULL;
    Py_ssize_t h = b1.len / (Py_ssize_t)sizeof(double);
    Py_ssize_t d = h ? w1.len / (Py_ssize_t)sizeof(double) / h : 0;
    Py_ssize_t n = pr.len / (Py_ssize_t)sizeof(double);
    if (h == 0 || d * h * (Py_ssize_t)sizeof(double) != w1.len || w2.len != h * (Py_ssize_t)sizeof(double) ||
        x.len != n * d * (Py_ssize_t)sizeof(float)) {
        PyErr_SetString(PyExc_ValueError, "mlp_predict: shapes do not agree");
        goto done;
    }
    double *acc = PyMem_Malloc(sizeof(double) * h);
    if (acc == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const float *xs = x.buf;
    const double *W = w1.buf, *B = b1.buf, *V = w2.buf;
    double *out = pr.buf;
    for (Py_ssize_t r = 0; r < n; r++) {
        const float *row = xs + r * d;
        for (Py_ssize_t j = 0; j < h; j++)
            acc[j] = 0.0;
        for (Py_ssize_t i = 0; i < d; i++) {
            double xi = (double)row[i];
            if (xi == 0.0)
                continue;
            const double *wi = W + i * h;
            for (Py_ssize_t j = 0; j < h; j++)
                acc[j] += xi * wi[j];
        }
        double z = b2;
        for (Py_ssize_t j = 0; j < h; j++) {
            double a = acc[j] + B[j];
            if (a > 0.0)
                z += a * V[j];
        }
        if (z > 30.0)
            z = 30.0;
        else if (z < -30.0)
            z = -30.0;
        out[r] = 1.0 / (1.0 + exp(-z));
    }
    PyMem_Free(acc);
    ret = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&x);
    PyBuffer_Release(&w1);
    PyBuffer_Release(&b1);
    PyBuffer_Release(&w2);
    PyBuffer_Release(&pr);
    return ret;
}

static PyMethodDef METHODS[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_VARARGS | METH_KEYWORDS,
     "Set the column layout, character tables, Python rule callables and constants (once per process)."},
    {"line_features", line_features, METH_VARARGS,
     "line_features(lines, blank_before, blank_after, anchors, title_norm, html, out): fill `out`, a zeroed "
     "float32 (n_lines, n_features) array, with goldpan.extract.lines' features."},
    {"lists_kept", lists_kept, METH_O, "goldpan.extract.learned.lists_kept: <ul> tags renamed <ol>."},
    {"anchor_captures", anchor_captures, METH_O,
     "The distinct raw captures of goldpan.extract.lines._ANCHOR over the page (a set of str)."},
    {"anchor_texts", anchor_texts, METH_VARARGS,
     "anchor_texts(html, unescape): goldpan.extract.lines.anchor_texts (a frozenset of str)."},
    {"split_lines", split_lines, METH_O, "goldpan.extract.lines.split_lines: (lines, blank before, blank after)."},
    {"mlp_predict", mlp_predict, METH_VARARGS,
     "mlp_predict(x, w1, b1, w2, b2, probs): goldpan.extract.line_model.LineModel.predict into probs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_fastlines",
                                    "goldpan's line features in C (see goldpan.extract.lines).", -1, METHODS};

PyMODINIT_FUNC
PyInit__fastlines(void)
{
    return PyModule_Create(&MODULE);
}
