/* The C implementation of ImplicitOp's perform: broadcast the inputs into rows of
 * parameters, call the problem's compiled solver by the address held in `entry_cell`
 * (read at every call: the faster tier takes over when it is ready; see
 * implicitop._solvers.compiled, C_SIGNATURE in implicitop._solvers.batch) with the
 * solver's settings record (implicitop._solvers.settings), and write
 * each unknown's roots into an output array of the node's dtype. Failed elements are
 * NaN, as in the Python perform. Batches of `threaded_from` rows or more are shared
 * with helper threads (implicitop_solve_shared). */

typedef void (*implicitop_kernel)(npy_intp size, double *params, double *settings,
                                  npy_intp settings_size, double *root, npy_int8 *code);
typedef void (*implicitop_job_function)(npy_int64 *job);

/* Solve the rows (size, k) into root (size, n) and code with helper threads: build the
 * job (its words: IMPLICITOP_JOB_*, defined before this file from
 * implicitop._solvers.threads), have `share` (threads.share_job) name its helpers in
 * it, which returns the addresses of the functions that post it to them and claim its
 * rows, and that wait for their rows and take it back from them; call both without
 * the GIL. Returns 0, or -1 with a Python error set. */
static int implicitop_solve_shared(PyArrayObject *rows_array, int k, PyArrayObject *root_array,
                                   PyArrayObject *code_array, int n, PyObject *share,
                                   npy_int64 entry_cell, npy_int64 settings,
                                   npy_int64 settings_size)
{
    npy_intp count = IMPLICITOP_JOB_WORDS;
    PyArrayObject *job_array = (PyArrayObject *)PyArray_ZEROS(1, &count, NPY_INT64, 0);
    PyObject *shared = NULL;
    long long post, release;
    npy_int64 *job;
    int status = -1;

    if (job_array == NULL) return -1;
    job = (npy_int64 *)PyArray_DATA(job_array);
    job[IMPLICITOP_JOB_CELL] = entry_cell;
    job[IMPLICITOP_JOB_SIZE] = PyArray_DIM(rows_array, 0);
    job[IMPLICITOP_JOB_ROWS] = (npy_int64)(size_t)PyArray_DATA(rows_array);
    job[IMPLICITOP_JOB_RECORD] = settings;
    job[IMPLICITOP_JOB_LENGTH] = settings_size;
    job[IMPLICITOP_JOB_ROOT] = (npy_int64)(size_t)PyArray_DATA(root_array);
    job[IMPLICITOP_JOB_CODE] = (npy_int64)(size_t)PyArray_DATA(code_array);
    job[IMPLICITOP_JOB_N] = n;
    job[IMPLICITOP_JOB_K] = k;
    shared = PyObject_CallOneArg(share, (PyObject *)job_array);
    if (shared == NULL || !PyArg_ParseTuple(shared, "LL", &post, &release)) goto done;
    Py_BEGIN_ALLOW_THREADS
    ((implicitop_job_function)(size_t)post)(job);
    ((implicitop_job_function)(size_t)release)(job);
    Py_END_ALLOW_THREADS
    status = 0;
done:
    Py_XDECREF(shared);
    Py_DECREF(job_array);
    return status;
}

/* Fill the rows (size, k) from the inputs where each is one value (broadcast) or
 * C-contiguous with `size` elements (then its shape is the broadcast shape): a strided
 * copy per parameter, a tenth of the broadcasting iterator's time. Returns 0, having
 * written nothing, where some input is neither. */
static int implicitop_fill_rows_directly(PyArrayObject **inputs, int k, npy_intp size,
                                         double *rows)
{
    npy_intp i;
    int j;

    for (j = 0; j < k; j++) {
        npy_intp count = PyArray_SIZE(inputs[j]);
        if (count != 1 && !(count == size && PyArray_IS_C_CONTIGUOUS(inputs[j]))) return 0;
    }
    for (j = 0; j < k; j++) {
        const double *source = (const double *)PyArray_DATA(inputs[j]);
        npy_intp step = PyArray_SIZE(inputs[j]) == 1 ? 0 : 1;
        for (i = 0; i < size; i++) rows[i * k + j] = source[i * step];
    }
    return 1;
}

static int implicitop_solve(PyArrayObject **inputs, int k, PyArrayObject ***outputs,
                            int n, int typenum, PyObject *share, npy_int64 threaded_from, npy_int64 entry_cell,
                            npy_int64 settings, npy_int64 settings_size)
{
    PyArrayObject *converted[NPY_MAXARGS];
    PyArrayMultiIterObject *iterator = NULL;
    PyArrayObject *rows_array = NULL, *root_array = NULL, *code_array = NULL;
    double *rows, *root;
    npy_intp size, i, shape[2];
    int j, direct, status = -1;

    for (j = 0; j < k; j++) converted[j] = NULL;
    for (j = 0; j < k; j++) {
        converted[j] = (PyArrayObject *)PyArray_FROMANY(
            (PyObject *)inputs[j], NPY_FLOAT64, 0, 0, NPY_ARRAY_ALIGNED);
        if (converted[j] == NULL) goto done;
    }
    iterator = (PyArrayMultiIterObject *)PyArray_MultiIterFromObjects(
        (PyObject **)converted, k, 0);
    if (iterator == NULL) goto done;
    size = PyArray_MultiIter_SIZE(iterator);
    shape[0] = size;
    shape[1] = k;
    rows_array = (PyArrayObject *)PyArray_SimpleNew(2, shape, NPY_FLOAT64);
    if (rows_array == NULL) goto done;
    rows = (double *)PyArray_DATA(rows_array);
    if (!implicitop_fill_rows_directly(converted, k, size, rows)) {
        for (i = 0; i < size; i++) {
            for (j = 0; j < k; j++) rows[i * k + j] = *(double *)PyArray_MultiIter_DATA(iterator, j);
            PyArray_MultiIter_NEXT(iterator);
        }
    }
    shape[1] = n;
    /* one float64 unknown: the roots (size, 1) are laid out as the output, which they become */
    direct = n == 1 && typenum == NPY_FLOAT64;
    root_array = direct ? (PyArrayObject *)PyArray_EMPTY(PyArray_MultiIter_NDIM(iterator),
                                                         PyArray_MultiIter_DIMS(iterator),
                                                         NPY_FLOAT64, 0)
                        : (PyArrayObject *)PyArray_SimpleNew(2, shape, NPY_FLOAT64);
    code_array = (PyArrayObject *)PyArray_SimpleNew(1, shape, NPY_INT8);
    if (root_array == NULL || code_array == NULL) goto done;
    if (size >= threaded_from) {
        if (implicitop_solve_shared(rows_array, k, root_array, code_array, n, share,
                                    entry_cell, settings, settings_size) != 0) goto done;
    } else {
        implicitop_kernel kernel =
            (implicitop_kernel)(size_t)(*(volatile npy_int64 *)(size_t)entry_cell);
        Py_BEGIN_ALLOW_THREADS
        kernel(
            size, rows, (double *)(size_t)settings, (npy_intp)settings_size,
            (double *)PyArray_DATA(root_array), (npy_int8 *)PyArray_DATA(code_array));
        Py_END_ALLOW_THREADS
    }
    root = (double *)PyArray_DATA(root_array);
    if (direct) {
        Py_XDECREF(*outputs[0]);
        Py_INCREF(root_array);
        *outputs[0] = root_array;
    }
    for (j = 0; j < n && !direct; j++) {
        PyArrayObject *out = (PyArrayObject *)PyArray_EMPTY(
            PyArray_MultiIter_NDIM(iterator), PyArray_MultiIter_DIMS(iterator), typenum, 0);
        if (out == NULL) goto done;
        if (typenum == NPY_FLOAT32) {
            float *data = (float *)PyArray_DATA(out);
            for (i = 0; i < size; i++) data[i] = (float)root[i * n + j];
        } else {
            double *data = (double *)PyArray_DATA(out);
            for (i = 0; i < size; i++) data[i] = root[i * n + j];
        }
        Py_XDECREF(*outputs[j]);
        *outputs[j] = out;
    }
    status = 0;
done:
    Py_XDECREF(rows_array);
    Py_XDECREF(root_array);
    Py_XDECREF(code_array);
    Py_XDECREF(iterator);
    for (j = 0; j < k; j++) Py_XDECREF(converted[j]);
    return status;
}
