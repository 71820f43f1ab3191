/* The C implementation of ImplicitRootsAndSlopes' perform: ImplicitOp's (implicit_op.c)
 * with the implicit derivatives of its one equation (implicit_slopes.c) evaluated on
 * each part of the batch by the thread that solved its roots, as soon as they are
 * solved, while they are in its cache. Both files come before this one. */

/* implicitop_after_part for the derivatives: `data` is the address of the call's
 * struct implicitop_slopes_work; the part's roots and parameter rows are its task's,
 * copied a block at a time to the lanes (the parameters from rows to columns). */
static void implicitop_part_slopes(npy_int64 data, const npy_int64 *task, npy_int64 start)
{
    const struct implicitop_slopes_work *work =
        (const struct implicitop_slopes_work *)(size_t)data;
    const double *rows = (const double *)(size_t)task[IMPLICITOP_JOB_ROWS];
    const double *root = (const double *)(size_t)task[IMPLICITOP_JOB_ROOT];
    npy_intp count = task[IMPLICITOP_JOB_SIZE], block, i;
    double lanes[IMPLICITOP_BLOCK * (1 + 2 * IMPLICITOP_MAX_INPUTS)];
    double *columns = lanes + IMPLICITOP_BLOCK;
    int j, k = work->k;

    for (block = 0; block < count; block += IMPLICITOP_BLOCK) {
        npy_intp used = count - block < IMPLICITOP_BLOCK ? count - block : IMPLICITOP_BLOCK;
        const double *row = rows + block * k;
        memcpy(lanes, root + block, used * sizeof(double));
        implicitop_pad(lanes, used);
        for (j = 0; j < k; j++) {
            double *lane = columns + j * IMPLICITOP_BLOCK;
            for (i = 0; i < used; i++) lane[i] = row[i * k + j];
            implicitop_pad(lane, used);
        }
        implicitop_slopes_block(work, lanes, used, start + block);
    }
}

/* The roots of one equation (float64) from its k inputs, all of one shape, into
 * outputs[0], and the derivatives in the parameters `wanted` (`wanted_count` of them,
 * by position) into the outputs after it, from the entry point at `slopes_entry`.
 * Returns 0, or -1 with a Python error set. */
static int implicitop_roots_and_slopes(PyArrayObject **inputs, int k, PyArrayObject ***outputs,
                                       const int *wanted, int wanted_count, PyObject *share,
                                       npy_int64 threaded_from, npy_int64 entry_cell,
                                       npy_int64 settings, npy_int64 settings_size,
                                       npy_int64 slopes_entry)
{
    struct implicitop_slopes_work work = {(implicitop_slopes_entry)(size_t)slopes_entry, k,
                                          wanted_count, NPY_FLOAT64, wanted};
    int j;

    for (j = 1; j < k; j++) {
        if (PyArray_SIZE(inputs[j]) != PyArray_SIZE(inputs[0])) {
            PyErr_SetString(PyExc_ValueError, "ImplicitRootsAndSlopes: inputs of different sizes");
            return -1;
        }
    }
    for (j = 0; j < wanted_count; j++) {
        PyArrayObject *out = (PyArrayObject *)PyArray_EMPTY(
            PyArray_NDIM(inputs[0]), PyArray_DIMS(inputs[0]), NPY_FLOAT64, 0);
        if (out == NULL) return -1;
        Py_XDECREF(*outputs[1 + j]);
        *outputs[1 + j] = out;
        work.targets[j] = PyArray_DATA(out);
    }
    return implicitop_solve_then(inputs, k, outputs, 1, NPY_FLOAT64, share, threaded_from,
                                 entry_cell, settings, settings_size, implicitop_part_slopes,
                                 (npy_int64)(size_t)&work);
}
