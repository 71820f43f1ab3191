/* The C implementation of ImplicitOp's perform: broadcast the inputs into rows of
 * parameters, call the problem's compiled solver by the address held in `entry_cell`
 * (read at every call: the faster tier takes over when it is ready; see
 * implicitop._solvers.compiled, C_SIGNATURE in implicitop._solvers.batch) with the
 * solver's settings record (implicitop._solvers.settings), and write
 * each unknown's roots into an output array of the node's dtype. Failed elements are
 * NaN, as in the Python perform. Batches of `threaded_from` rows or more are shared
 * with helper threads (implicitop_solve_shared). A caller may have a function run on
 * each part of the batch as soon as its roots are solved, by the thread that solved
 * them (implicitop_after_part; the implicit derivatives, implicit_fused.c). */

typedef void (*implicitop_kernel)(npy_intp size, double *params, double *settings,
                                  npy_intp settings_size, double *root, npy_int8 *code);
typedef void (*implicitop_job_function)(npy_int64 *job);
/* What runs on each part of a batch once its roots are solved: called with `data`, the
 * part's task (IMPLICITOP_TASK_WORDS words, laid out as a job's first: its size, the
 * addresses of its parameter rows and roots, ...) and the index of its first element. */
typedef void (*implicitop_after_part)(npy_int64 data, const npy_int64 *task, npy_int64 start);

/* Write the task of solving all the rows (size, k) into root and code (the first
 * IMPLICITOP_TASK_WORDS words of `words`, laid out as a job's). */
static void implicitop_task(npy_int64 *words, PyArrayObject *rows_array,
                            PyArrayObject *root_array, PyArrayObject *code_array,
                            npy_int64 entry_cell, npy_int64 settings, npy_int64 settings_size)
{
    words[IMPLICITOP_JOB_CELL] = entry_cell;
    words[IMPLICITOP_JOB_SIZE] = PyArray_DIM(rows_array, 0);
    words[IMPLICITOP_JOB_ROWS] = (npy_int64)(size_t)PyArray_DATA(rows_array);
    words[IMPLICITOP_JOB_RECORD] = settings;
    words[IMPLICITOP_JOB_LENGTH] = settings_size;
    words[IMPLICITOP_JOB_ROOT] = (npy_int64)(size_t)PyArray_DATA(root_array);
    words[IMPLICITOP_JOB_CODE] = (npy_int64)(size_t)PyArray_DATA(code_array);
}

/* Solve the rows (size, k) into root (size, n) and code with helper threads: build the
 * job (its words: IMPLICITOP_JOB_*, defined before this file from
 * implicitop._solvers.threads), have `share` (threads.share_job) name its helpers in
 * it, which returns the addresses of the functions that post it to them and claim its
 * rows, and that wait for their rows and take it back from them; call both without
 * the GIL. Each thread calls `after` (unless NULL) on each part it solved. Returns 0,
 * or -1 with a Python error set. */
static int implicitop_solve_shared(PyArrayObject *rows_array, int k, PyArrayObject *root_array,
                                   PyArrayObject *code_array, int n, PyObject *share,
                                   npy_int64 entry_cell, npy_int64 settings,
                                   npy_int64 settings_size, implicitop_after_part after,
                                   npy_int64 after_data)
{
    npy_intp count = IMPLICITOP_JOB_WORDS;
    PyArrayObject *job_array = (PyArrayObject *)PyArray_ZEROS(1, &count, NPY_INT64, 0);
    PyObject *shared = NULL;
    long long post, release;
    npy_int64 *job;
    int status = -1;

    if (job_array == NULL) return -1;
    job = (npy_int64 *)PyArray_DATA(job_array);
    implicitop_task(job, rows_array, root_array, code_array, entry_cell, settings, settings_size);
    job[IMPLICITOP_JOB_N] = n;
    job[IMPLICITOP_JOB_K] = k;
    job[IMPLICITOP_JOB_AFTER] = (npy_int64)(size_t)after;
    job[IMPLICITOP_JOB_AFTER_DATA] = after_data;
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

/* Broadcast the k inputs into a new array of rows (size, k), with the iterator that
 * gives the broadcast shape; `converted` receives the inputs as float64 arrays (the
 * caller releases them, whatever this returns). Returns 0, or -1 with a Python error
 * set. */
static int implicitop_rows(PyArrayObject **inputs, int k, PyArrayObject **converted,
                           PyArrayMultiIterObject **iterator, PyArrayObject **rows_array)
{
    double *rows;
    npy_intp size, i, shape[2];
    int j;

    for (j = 0; j < k; j++) {
        converted[j] = (PyArrayObject *)PyArray_FROMANY(
            (PyObject *)inputs[j], NPY_FLOAT64, 0, 0, NPY_ARRAY_ALIGNED);
        if (converted[j] == NULL) return -1;
    }
    *iterator = (PyArrayMultiIterObject *)PyArray_MultiIterFromObjects(
        (PyObject **)converted, k, 0);
    if (*iterator == NULL) return -1;
    size = PyArray_MultiIter_SIZE(*iterator);
    shape[0] = size;
    shape[1] = k;
    *rows_array = (PyArrayObject *)PyArray_SimpleNew(2, shape, NPY_FLOAT64);
    if (*rows_array == NULL) return -1;
    rows = (double *)PyArray_DATA(*rows_array);
    if (!implicitop_fill_rows_directly(converted, k, size, rows)) {
        for (i = 0; i < size; i++) {
            for (j = 0; j < k; j++) rows[i * k + j] = *(double *)PyArray_MultiIter_DATA(*iterator, j);
            PyArray_MultiIter_NEXT(*iterator);
        }
    }
    return 0;
}

/* Solve the rows (size, k) into root (size, n) and code: shared with helper threads
 * from `threaded_from` rows, else in this thread without the GIL; then `after` (unless
 * NULL) on every part. Returns 0, or -1 with a Python error set. */
static int implicitop_run(PyArrayObject *rows_array, int k, PyArrayObject *root_array,
                          PyArrayObject *code_array, int n, PyObject *share,
                          npy_int64 threaded_from, npy_int64 entry_cell, npy_int64 settings,
                          npy_int64 settings_size, implicitop_after_part after,
                          npy_int64 after_data)
{
    npy_intp size = PyArray_DIM(rows_array, 0);
    npy_int64 task[IMPLICITOP_TASK_WORDS];
    implicitop_kernel kernel;

    if (size >= threaded_from) {
        return implicitop_solve_shared(rows_array, k, root_array, code_array, n, share,
                                       entry_cell, settings, settings_size, after, after_data);
    }
    kernel = (implicitop_kernel)(size_t)(*(volatile npy_int64 *)(size_t)entry_cell);
    implicitop_task(task, rows_array, root_array, code_array, entry_cell, settings, settings_size);
    Py_BEGIN_ALLOW_THREADS
    kernel(size, (double *)PyArray_DATA(rows_array), (double *)(size_t)settings,
           (npy_intp)settings_size, (double *)PyArray_DATA(root_array),
           (npy_int8 *)PyArray_DATA(code_array));
    if (after != NULL) after(after_data, task, 0);
    Py_END_ALLOW_THREADS
    return 0;
}

/* Whether the roots of n unknowns, written as outputs of type `typenum`, are laid out
 * as the output they become (one float64 unknown): then they are allocated in the
 * broadcast shape. */
#define IMPLICITOP_DIRECT(n, typenum) ((n) == 1 && (typenum) == NPY_FLOAT64)

/* The roots (size, n) as the node's n outputs of the broadcast shape and type
 * `typenum` (one float64 unknown's array becomes the output). Returns 0, or -1 with a
 * Python error set. */
static int implicitop_root_outputs(PyArrayObject *root_array, PyArrayMultiIterObject *iterator,
                                   int n, int typenum, PyArrayObject ***outputs)
{
    const double *root = (const double *)PyArray_DATA(root_array);
    npy_intp size = PyArray_MultiIter_SIZE(iterator), i;
    int j;

    if (IMPLICITOP_DIRECT(n, typenum)) {
        Py_XDECREF(*outputs[0]);
        Py_INCREF(root_array);
        *outputs[0] = root_array;
        return 0;
    }
    for (j = 0; j < n; j++) {
        PyArrayObject *out = (PyArrayObject *)PyArray_EMPTY(
            PyArray_MultiIter_NDIM(iterator), PyArray_MultiIter_DIMS(iterator), typenum, 0);
        if (out == NULL) return -1;
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
    return 0;
}

/* Solve the k inputs' broadcast rows into the node's n outputs, running `after` (unless
 * NULL) on every part of the batch once its roots are solved. Returns 0, or -1 with a
 * Python error set. */
static int implicitop_solve_then(PyArrayObject **inputs, int k, PyArrayObject ***outputs,
                                 int n, int typenum, PyObject *share, npy_int64 threaded_from,
                                 npy_int64 entry_cell, npy_int64 settings,
                                 npy_int64 settings_size, implicitop_after_part after,
                                 npy_int64 after_data)
{
    PyArrayObject *converted[NPY_MAXARGS];
    PyArrayMultiIterObject *iterator = NULL;
    PyArrayObject *rows_array = NULL, *root_array = NULL, *code_array = NULL;
    npy_intp shape[2];
    int j, status = -1;

    for (j = 0; j < k; j++) converted[j] = NULL;
    if (implicitop_rows(inputs, k, converted, &iterator, &rows_array) != 0) goto done;
    shape[0] = PyArray_DIM(rows_array, 0);
    shape[1] = n;
    root_array = IMPLICITOP_DIRECT(n, typenum)
                     ? (PyArrayObject *)PyArray_EMPTY(PyArray_MultiIter_NDIM(iterator),
                                                      PyArray_MultiIter_DIMS(iterator),
                                                      NPY_FLOAT64, 0)
                     : (PyArrayObject *)PyArray_SimpleNew(2, shape, NPY_FLOAT64);
    code_array = (PyArrayObject *)PyArray_SimpleNew(1, shape, NPY_INT8);
    if (root_array == NULL || code_array == NULL) goto done;
    if (implicitop_run(rows_array, k, root_array, code_array, n, share, threaded_from,
                       entry_cell, settings, settings_size, after, after_data) != 0) goto done;
    status = implicitop_root_outputs(root_array, iterator, n, typenum, outputs);
done:
    Py_XDECREF(rows_array);
    Py_XDECREF(root_array);
    Py_XDECREF(code_array);
    Py_XDECREF(iterator);
    for (j = 0; j < k; j++) Py_XDECREF(converted[j]);
    return status;
}

static int implicitop_solve(PyArrayObject **inputs, int k, PyArrayObject ***outputs,
                            int n, int typenum, PyObject *share, npy_int64 threaded_from,
                            npy_int64 entry_cell, npy_int64 settings, npy_int64 settings_size)
{
    return implicitop_solve_then(inputs, k, outputs, n, typenum, share, threaded_from,
                                 entry_cell, settings, settings_size, NULL, 0);
}
