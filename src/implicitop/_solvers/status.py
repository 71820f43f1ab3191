"""Outcomes of a solve, the thresholds that decide them, and the error that reports them.

Every solver (compiled, plain Python and traced JAX) takes its acceptance thresholds
and status codes from here.
"""

import enum
from collections.abc import Sequence

import numpy as np

__all__ = [
    "CONVERGED",
    "MAXITER",
    "NONFINITE_PARAMETER",
    "NONFINITE_RESIDUAL",
    "NOT_A_MINIMUM",
    "NOT_A_ROOT",
    "NO_BRACKET_FOUND",
    "NO_PROGRESS",
    "NO_SIGN_CHANGE",
    "PARAMETER_OUTSIDE_DOMAIN",
    "RESIDUAL_FLOOR",
    "RESIDUAL_RTOL",
    "SINGULAR_JACOBIAN",
    "SMALLEST_NORMAL",
    "ULPS_OF_X",
    "ImplicitSolveError",
    "SolveStatus",
]

#: Relative size of ``|R|`` against the magnitude of its terms below which a point is
#: accepted as a root: 1e5 times the rounding of a sum of terms, room for the error of
#: the functions in them. At 1e-8, a gradient of 4e-5 from terms of 2.5e5 (rounding
#: 3e-11) passed: the argmin of Powell's badly scaled least squares, started at ten
#: times its start, was called a minimum on a valley that falls on to infinity.
RESIDUAL_RTOL = 1e-11

#: Rounding of the unknown itself: a root is also accepted where ``|R|`` is within the
#: change of R over this many relative ulps of the unknown.
ULPS_OF_X = 8 * float(np.finfo(float).eps)

#: The finest a residual can be rounded to: near a subnormal root both allowances
#: above underflow to zero, but ``|R|`` cannot be resolved below one subnormal step.
RESIDUAL_FLOOR = float(np.finfo(float).smallest_subnormal)

#: The smallest normal number: bisection treats a bracket's end at 0 as this.
SMALLEST_NORMAL = float(np.finfo(float).tiny)

# Plain-int codes, for compiled code and hot paths, where enum look-ups are slow.
CONVERGED = 0
NONFINITE_PARAMETER = 1
PARAMETER_OUTSIDE_DOMAIN = 2
NO_SIGN_CHANGE = 3
MAXITER = 4  # also "not settled yet" while an element is being solved
NOT_A_ROOT = 5
SINGULAR_JACOBIAN = 6
NO_PROGRESS = 7
NONFINITE_RESIDUAL = 8
NO_BRACKET_FOUND = 9
NOT_A_MINIMUM = 10


class SolveStatus(enum.IntEnum):
    """Outcome of the solve for one element.

    ``op.solve`` and :func:`~implicitop.solve` return one code per element in
    ``SolveResult.status``; every code but
    ``CONVERGED`` comes with NaN for that element. The :doc:`statuses page
    </reference/statuses>` says what each means and what to do about it.

    Examples
    --------
    >>> from implicitop import SolveStatus
    >>> SolveStatus(5).name
    'NOT_A_ROOT'
    >>> SolveStatus.NO_SIGN_CHANGE.reason[:51]
    'no sign change of the residual was found in the sea'
    >>> [status.name for status in SolveStatus][:3]
    ['CONVERGED', 'NONFINITE_PARAMETER', 'PARAMETER_OUTSIDE_DOMAIN']
    """

    CONVERGED = CONVERGED
    NONFINITE_PARAMETER = NONFINITE_PARAMETER
    PARAMETER_OUTSIDE_DOMAIN = PARAMETER_OUTSIDE_DOMAIN
    NO_SIGN_CHANGE = NO_SIGN_CHANGE
    MAXITER = MAXITER
    NOT_A_ROOT = NOT_A_ROOT
    SINGULAR_JACOBIAN = SINGULAR_JACOBIAN
    NO_PROGRESS = NO_PROGRESS
    NONFINITE_RESIDUAL = NONFINITE_RESIDUAL
    NO_BRACKET_FOUND = NO_BRACKET_FOUND
    NOT_A_MINIMUM = NOT_A_MINIMUM

    @property
    def reason(self) -> str:
        """A sentence a user can read."""
        return _REASONS[self]


_REASONS = {
    SolveStatus.CONVERGED: "converged",
    SolveStatus.NONFINITE_PARAMETER: "a parameter is NaN or infinite",
    SolveStatus.PARAMETER_OUTSIDE_DOMAIN: "a parameter violates its SymPy assumptions",
    SolveStatus.NO_SIGN_CHANGE: "no sign change of the residual was found in the search domain "
    "(for a minimum: the derivative of the objective rises through zero nowhere in it)",
    SolveStatus.MAXITER: "maxiter iterations were reached without convergence",
    SolveStatus.NOT_A_ROOT: "the iteration settled where the residual is not zero "
    "(a pole or a jump of the residual), where it is zero over a whole interval "
    "(every term underflowed, a flat branch, or values below the smallest normal number "
    "flushed to zero, as XLA does on the CPU), or where it does not change sign "
    "(a near miss, or the open end of the domain)",
    SolveStatus.SINGULAR_JACOBIAN: "the Jacobian dR/du is singular at an iterate",
    SolveStatus.NO_PROGRESS: "damped Newton could not reduce |R| "
    "(a local minimum of |R| that is not a root, or no root); for a minimum, could not "
    "lower the objective (which may fall without bound)",
    SolveStatus.NONFINITE_RESIDUAL: "the residual or its Jacobian is not finite at an iterate",
    SolveStatus.NO_BRACKET_FOUND: "no sign change was found inside the bracket, nor by "
    "growing it outward (expand_bracket) to the domain's bounds or the step limit",
    SolveStatus.NOT_A_MINIMUM: "the gradient of the objective is zero there, but its Hessian "
    "is not positive definite (a maximum or a saddle point)",
}


class ImplicitSolveError(ArithmeticError):
    """Raised with ``on_failure="raise"`` when some elements have no root.

    The message lists the offending parameter values and the reason for each.

    Attributes
    ----------
    failures : list of tuple
        One ``(parameter values, reason)`` pair per failed element (empty when the
        error was re-raised by PyTensor with its node details appended).

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor.tensor as pt
    >>> import sympy as sp
    >>> from implicitop import ImplicitSolveError, make_implicit_op
    >>> u, t = sp.symbols("u t")
    >>> op = make_implicit_op(u**2 - t, u, t, on_failure="raise")
    >>> try:
    ...     op(pt.as_tensor(np.array([4.0, -1.0]))).eval()
    ... except ImplicitSolveError as error:
    ...     print(str(error).splitlines()[0])
    the root could not be found for 1 of 2 element(s):
    """

    def __init__(self, message: str, failures: Sequence[tuple[dict[str, float], str]] = ()):
        super().__init__(message)
        self.failures = list(failures)

    @classmethod
    def from_failures(
        cls, failures: Sequence[tuple[dict[str, float], str]], total: int
    ) -> "ImplicitSolveError":
        """The error for ``failures`` out of ``total`` elements."""
        shown = "\n".join(
            f"  {', '.join(f'{k}={v!r}' for k, v in values.items())}: {reason}"
            for values, reason in failures[:10]
        )
        more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
        message = (
            f"the root could not be found for {len(failures)} of {total} element(s):\n{shown}{more}"
        )
        return cls(message, failures)
