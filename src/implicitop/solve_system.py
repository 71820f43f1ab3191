"""Batched damped Newton solver for systems of n equations in n unknowns.

All broadcast elements advance together: residuals and Jacobians are evaluated for
the whole batch, the Newton steps come from one batched ``numpy.linalg.solve``, and
a backtracking line search on ``|R|^2 / 2`` (Armijo rule) damps each element's step.
Unknowns with a bound (``positive=True``) approach it in log coordinates, so they
stay inside their domain. Each element stops
after ``maxiter`` iterations; a root is accepted only when every residual is zero to
rounding (see :func:`system_residual_error`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from implicitop.codegen import SystemKernels
from implicitop.numba_systems import ARMIJO, MAX_HALVINGS
from implicitop.problem import Domain
from implicitop.solve import SolveResult, SolverSettings, parameter_bounds, parameter_status
from implicitop.status import RESIDUAL_RTOL, ULPS_OF_X, SolveStatus

__all__ = ["compiled_system_arguments", "solve_system", "system_residual_error"]


def _columns(x: np.ndarray) -> list[np.ndarray]:
    return [x[:, j] for j in range(x.shape[1])]


def _evaluate(
    kernels: SystemKernels, x: np.ndarray, params: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    return kernels.residuals_and_jacobian(*_columns(x), *params)


def system_residual_error(
    kernels: SystemKernels, x: np.ndarray, params: Sequence[np.ndarray]
) -> np.ndarray:
    """The largest ``|R_i|`` over the rounding error it may carry, per element.

    The rounding of ``R_i`` is the larger of :data:`~implicitop.solve.RESIDUAL_RTOL`
    times the size of its terms and its change within a few ulps of ``x``.
    """
    values, jacobian = _evaluate(kernels, x, params)
    scales = kernels.scales(*_columns(x), *params)
    allowed = np.maximum(
        RESIDUAL_RTOL * scales, ULPS_OF_X * np.abs(jacobian * x[:, None, :]).sum(axis=2)
    )
    with np.errstate(all="ignore"):
        ratio = np.where(values == 0, 0.0, np.abs(values) / allowed)
    return ratio.max(axis=1)


def _move(
    x: np.ndarray, step: np.ndarray, alpha: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """``x`` moved by ``alpha * step`` without leaving ``[lower, upper]``.

    A move towards a finite bound is taken in log coordinates of the distance to it,
    ``lo + (x - lo) * exp(alpha * step / (x - lo))``, which agrees with the Newton step
    to first order and never reaches the bound; moves away from bounds are linear.
    """
    scaled = alpha[:, None] * step
    linear = x + scaled
    with np.errstate(all="ignore"):
        towards_lower = lower + (x - lower) * np.exp(scaled / (x - lower))
        towards_upper = upper - (upper - x) * np.exp(-scaled / (upper - x))
    moved = np.where(np.isfinite(lower) & (scaled < 0), towards_lower, linear)
    return np.where(np.isfinite(upper) & (scaled > 0), towards_upper, moved)


def _newton_steps(values: np.ndarray, jacobian: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched ``-J^-1 R`` and a mask of elements whose Jacobian is singular."""
    determinant = np.linalg.det(jacobian)
    singular = ~np.isfinite(determinant) | (determinant == 0)
    identity = np.broadcast_to(np.eye(jacobian.shape[-1]), jacobian.shape)
    safe = np.where(singular[:, None, None], identity, jacobian)
    step = -np.linalg.solve(safe, values[..., None])[..., 0]
    return step, singular | ~np.isfinite(step).all(axis=1)


def _line_search(
    kernels: SystemKernels,
    x: np.ndarray,
    step: np.ndarray,
    merit: np.ndarray,
    params: list[np.ndarray],
    bounds: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Halve the step fraction until ``|R|^2/2`` decreases enough (Armijo).

    Returns ``(accepted, x, values, jacobian)``, the last three at the accepted trial
    point (for elements whose search failed: ``x`` unchanged).
    """
    alpha = np.ones(x.shape[0])
    accepted = np.zeros(x.shape[0], dtype=bool)
    new_x = x.copy()
    new_values = np.full_like(x, np.nan)
    new_jacobian = np.full((*x.shape, x.shape[1]), np.nan)
    pending = np.arange(x.shape[0])
    for _ in range(MAX_HALVINGS):
        if pending.size == 0:
            break
        trial = _move(x[pending], step[pending], alpha[pending], *bounds)
        values, jacobian = _evaluate(kernels, trial, [p[pending] for p in params])
        trial_merit = 0.5 * (values**2).sum(axis=1)
        ok = np.isfinite(jacobian).all(axis=(1, 2)) & np.isfinite(trial_merit)
        ok &= trial_merit <= (1 - 2 * ARMIJO * alpha[pending]) * merit[pending]
        done = pending[ok]
        accepted[done] = True
        new_x[done], new_values[done], new_jacobian[done] = trial[ok], values[ok], jacobian[ok]
        alpha[pending[~ok]] /= 2
        pending = pending[~ok]
    return accepted, new_x, new_values, new_jacobian


def _damped_newton(
    kernels: SystemKernels,
    params: list[np.ndarray],
    x0: np.ndarray,
    domains: Sequence[Domain],
    settings: SolverSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Roots (NaN where none) and status codes; converged elements carry ``MAXITER``."""
    lower = np.array([d.lower for d in domains])
    upper = np.array([d.upper for d in domains])
    root = np.full_like(x0, np.nan)
    status = np.full(x0.shape[0], SolveStatus.MAXITER, dtype=np.int8)
    index = np.arange(x0.shape[0])
    x = x0.copy()
    values, jacobian = _evaluate(kernels, x, params)
    for _ in range(settings.maxiter):
        finite = np.isfinite(values).all(axis=1) & np.isfinite(jacobian).all(axis=(1, 2))
        merit = 0.5 * (values**2).sum(axis=1)
        step, singular = _newton_steps(
            np.where(finite[:, None], values, 0.0),
            np.where(finite[:, None, None], jacobian, np.eye(x.shape[1])),
        )
        step_is_small = (np.abs(step) <= settings.tol * np.abs(x)).all(axis=1)
        at_root = finite & ((merit == 0) | (~singular & step_is_small))
        searching = finite & ~singular & ~at_root
        accepted, new_x, new_values, new_jacobian = _line_search(
            kernels, x, np.where(searching[:, None], step, 0.0), merit, params, (lower, upper)
        )
        accepted &= searching
        small_move = (np.abs(new_x - x) <= settings.tol * np.abs(new_x)).all(axis=1)
        converged = at_root | (accepted & small_move)
        root[index[at_root]] = x[at_root]
        finished = accepted & small_move
        root[index[finished]] = new_x[finished]
        failed = ~converged & (~finite | singular | (searching & ~accepted))
        status[index[failed & ~finite]] = SolveStatus.NONFINITE_RESIDUAL
        status[index[failed & finite & singular]] = SolveStatus.SINGULAR_JACOBIAN
        status[index[failed & finite & ~singular]] = SolveStatus.NO_PROGRESS
        staying = ~(converged | failed)
        index = index[staying]
        if index.size == 0:
            break
        x, values, jacobian = new_x[staying], new_values[staying], new_jacobian[staying]
        params = [p[staying] for p in params]
    return root, status


def compiled_system_arguments(
    domains: Sequence[Domain], param_domains: Sequence[Domain], settings: SolverSettings
) -> tuple:
    """The arguments after the parameters of the compiled system ``solve`` kernel."""
    lower, upper = parameter_bounds(tuple(domains))
    return (lower, upper, settings.tol, settings.maxiter, *parameter_bounds(tuple(param_domains)))


def solve_system(
    kernels: SystemKernels,
    params: Sequence[np.ndarray],
    x0: np.ndarray,
    domains: Sequence[Domain],
    param_domains: Sequence[Domain],
    settings: SolverSettings,
) -> SolveResult:
    """Solve ``R(u, *params) = 0`` for every row of the flat parameter arrays.

    Parameters
    ----------
    kernels
        The system's numeric kernels.
    params
        One flat float64 array per parameter, all of length m.
    x0
        Initial guesses, shape (m, n).
    domains
        The domain of each unknown.
    param_domains
        The domains parameter values must lie in.
    settings
        Tolerance and iteration limit.

    Returns
    -------
    SolveResult
        Roots of shape (m, n) (NaN rows where no root was found) and statuses (m,).
    """
    if kernels.compiled is not None:
        root, status = kernels.compiled.solve(
            x0, *params, *compiled_system_arguments(domains, param_domains, settings)
        )
        return SolveResult(root, status)
    root = np.full_like(x0, np.nan)
    status = parameter_status(params, param_domains)
    todo = np.flatnonzero(status == SolveStatus.MAXITER)
    with np.errstate(all="ignore"):
        if todo.size:
            active = [p[todo] for p in params]
            root[todo], status[todo] = _damped_newton(kernels, active, x0[todo], domains, settings)
            candidates = todo[np.isfinite(root[todo]).all(axis=1)]
            error = system_residual_error(
                kernels, root[candidates], [p[candidates] for p in params]
            )
            status[candidates] = np.where(error <= 1, SolveStatus.CONVERGED, SolveStatus.NOT_A_ROOT)
    root[status != SolveStatus.CONVERGED] = np.nan
    return SolveResult(root, status)
