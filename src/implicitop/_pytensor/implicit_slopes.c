/* The C implementation of ImplicitSlopes' perform: an equation's implicit derivatives
 * dmu/dtheta_j at the roots, one output per parameter, from the problem's entry point
 * of them (implicitop._solvers.element_entry.equation_slopes, SLOPES_SIGNATURE there;
 * its address is the op's parameter), a block of IMPLICITOP_BLOCK lanes at a time: the
 * roots and parameters of a block are copied to its lanes (the last block's spare lanes
 * take its first element's), the entry point evaluates every lane in vector
 * instructions (implicitop._solvers.lockstep.slopes_block), and the lanes in use are
 * copied out. IMPLICITOP_BLOCK is defined before this file. */

typedef void (*implicitop_slopes_entry)(double *x, double *p, npy_intp count, npy_intp k,
                                        double *out);

/* Fill `outputs` (the roots' shape and type `typenum`) with the derivatives in the
 * parameters `wanted` (`wanted_count` of them, by position) from the roots and the k
 * parameters `inputs` (1 + k arrays of one shape). Returns 0, or -1 with a Python
 * error set. */
static int implicitop_slopes(PyArrayObject **inputs, int count, PyArrayObject ***outputs,
                             const int *wanted, int wanted_count, int typenum,
                             npy_int64 entry_address)
{
    implicitop_slopes_entry entry = (implicitop_slopes_entry)(size_t)entry_address;
    PyArrayObject *converted[NPY_MAXARGS];
    double *lanes = NULL, *columns = NULL, *results = NULL;
    const double *data[NPY_MAXARGS];
    npy_intp size = 0, start, i;
    int j, k = count - 1, status = -1;

    for (j = 0; j < count; j++) converted[j] = NULL;
    for (j = 0; j < count; j++) {
        converted[j] = (PyArrayObject *)PyArray_FROMANY(
            (PyObject *)inputs[j], NPY_FLOAT64, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
        if (converted[j] == NULL) goto done;
        data[j] = (const double *)PyArray_DATA(converted[j]);
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
    }
    lanes = (double *)PyMem_RawMalloc(sizeof(double) * IMPLICITOP_BLOCK * (1 + 2 * k));
    if (lanes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    columns = lanes + IMPLICITOP_BLOCK;
    results = columns + IMPLICITOP_BLOCK * k;
    Py_BEGIN_ALLOW_THREADS
    for (start = 0; start < size; start += IMPLICITOP_BLOCK) {
        npy_intp used = size - start < IMPLICITOP_BLOCK ? size - start : IMPLICITOP_BLOCK;
        for (j = 0; j < count; j++) {
            double *lane = j == 0 ? lanes : columns + (j - 1) * IMPLICITOP_BLOCK;
            memcpy(lane, data[j] + start, used * sizeof(double));
            for (i = used; i < IMPLICITOP_BLOCK; i++) lane[i] = data[j][start];
        }
        entry(lanes, columns, used, k, results);
        for (j = 0; j < wanted_count; j++) {
            const double *row = results + wanted[j] * IMPLICITOP_BLOCK;
            if (typenum == NPY_FLOAT32) {
                float *target = (float *)PyArray_DATA(*outputs[j]) + start;
                for (i = 0; i < used; i++) target[i] = (float)row[i];
            } else {
                memcpy((double *)PyArray_DATA(*outputs[j]) + start, row, used * sizeof(double));
            }
        }
    }
    Py_END_ALLOW_THREADS
    status = 0;
done:
    if (lanes != NULL) PyMem_RawFree(lanes);
    for (j = 0; j < count; j++) Py_XDECREF(converted[j]);
    return status;
}
