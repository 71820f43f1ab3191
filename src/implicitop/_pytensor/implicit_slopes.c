/* The C implementation of ImplicitSlopes' perform: an equation's implicit derivatives
 * dmu/dtheta_j at the roots, one output per parameter, from the problem's entry point
 * of them (implicitop._solvers.element_entry.equation_slopes, SLOPES_SIGNATURE there;
 * its address is the op's parameter), a block of IMPLICITOP_BLOCK lanes at a time: the
 * roots and parameters of a block are copied to its lanes (the last block's spare lanes,
 * up to whole chunks of IMPLICITOP_LANES, take its first element's), the entry point
 * evaluates those lanes in vector instructions (implicitop._solvers.lockstep.slopes_block),
 * and the lanes in use are copied out. IMPLICITOP_BLOCK, IMPLICITOP_LANES and
 * IMPLICITOP_MAX_INPUTS (the most parameters a node has) are defined before this file. */

typedef void (*implicitop_slopes_entry)(double *x, double *p, npy_intp count, npy_intp k,
                                        double *out);

/* What a call evaluates: the entry point, the number k of parameters, the positions
 * of those whose derivatives are wanted and their outputs' data, of type `typenum`. */
struct implicitop_slopes_work {
    implicitop_slopes_entry entry;
    int k, wanted_count, typenum;
    const int *wanted;
    void *targets[IMPLICITOP_MAX_INPUTS];
};

/* Copy the value of the first lane to the lanes past the first `used`, up to whole
 * chunks of IMPLICITOP_LANES: the lanes the entry point's vector loops read. */
static void implicitop_pad(double *lane, npy_intp used)
{
    npy_intp i, end = (used + IMPLICITOP_LANES - 1) / IMPLICITOP_LANES * IMPLICITOP_LANES;

    for (i = used; i < end; i++) lane[i] = lane[0];
}

/* Evaluate the block of roots and parameters in `lanes` (IMPLICITOP_BLOCK * (1 + 2k)
 * doubles: the roots, the k parameters' lanes, room for the results; the first `used`
 * lanes in use, the others padded) into the outputs from their element `offset`. */
static void implicitop_slopes_block(const struct implicitop_slopes_work *work, double *lanes,
                                    npy_intp used, npy_intp offset)
{
    double *columns = lanes + IMPLICITOP_BLOCK;
    double *results = columns + IMPLICITOP_BLOCK * work->k;
    npy_intp i;
    int j;

    work->entry(lanes, columns, used, work->k, results);
    for (j = 0; j < work->wanted_count; j++) {
        const double *row = results + work->wanted[j] * IMPLICITOP_BLOCK;
        if (work->typenum == NPY_FLOAT32) {
            float *target = (float *)work->targets[j] + offset;
            for (i = 0; i < used; i++) target[i] = (float)row[i];
        } else {
            memcpy((double *)work->targets[j] + offset, row, used * sizeof(double));
        }
    }
}

/* Fill `outputs` (the roots' shape and type `typenum`) with the derivatives in the
 * parameters `wanted` (`wanted_count` of them, by position) from the roots and the k
 * parameters `inputs` (1 + k arrays of one shape). Returns 0, or -1 with a Python
 * error set. */
static int implicitop_slopes(PyArrayObject **inputs, int count, PyArrayObject ***outputs,
                             const int *wanted, int wanted_count, int typenum,
                             npy_int64 entry_address)
{
    struct implicitop_slopes_work work = {(implicitop_slopes_entry)(size_t)entry_address,
                                          count - 1, wanted_count, typenum, wanted};
    PyArrayObject *converted[IMPLICITOP_MAX_INPUTS + 1];
    const double *sources[IMPLICITOP_MAX_INPUTS + 1];
    double *lanes = NULL;
    npy_intp size = 0, start;
    int j, status = -1;

    for (j = 0; j < count; j++) converted[j] = NULL;
    for (j = 0; j < count; j++) {
        converted[j] = (PyArrayObject *)PyArray_FROMANY(
            (PyObject *)inputs[j], NPY_FLOAT64, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
        if (converted[j] == NULL) goto done;
        sources[j] = (const double *)PyArray_DATA(converted[j]);
    }
    size = PyArray_SIZE(converted[0]);
    for (j = 1; j < count; j++) {
        if (PyArray_SIZE(converted[j]) != size) {
            PyErr_SetString(PyExc_ValueError, "ImplicitSlopes: inputs of different sizes");
            goto done;
        }
    }
    for (j = 0; j < wanted_count; j++) {
        PyArrayObject *out = (PyArrayObject *)PyArray_EMPTY(
            PyArray_NDIM(converted[0]), PyArray_DIMS(converted[0]), typenum, 0);
        if (out == NULL) goto done;
        Py_XDECREF(*outputs[j]);
        *outputs[j] = out;
        work.targets[j] = PyArray_DATA(out);
    }
    lanes = (double *)PyMem_RawMalloc(sizeof(double) * IMPLICITOP_BLOCK * (1 + 2 * work.k));
    if (lanes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (start = 0; start < size; start += IMPLICITOP_BLOCK) {
        npy_intp used = size - start < IMPLICITOP_BLOCK ? size - start : IMPLICITOP_BLOCK;
        for (j = 0; j < count; j++) {
            double *lane = lanes + j * IMPLICITOP_BLOCK;
            memcpy(lane, sources[j] + start, used * sizeof(double));
            implicitop_pad(lane, used);
        }
        implicitop_slopes_block(&work, lanes, used, start);
    }
    Py_END_ALLOW_THREADS
    status = 0;
done:
    if (lanes != NULL) PyMem_RawFree(lanes);
    for (j = 0; j < count; j++) Py_XDECREF(converted[j]);
    return status;
}
