"""Outcomes of a solve and the thresholds that decide them."""

import enum

import numpy as np

__all__ = ["CONVERGED", "PENDING", "RESIDUAL_RTOL", "ULPS_OF_X", "SolveStatus"]

#: Relative size of |R| against the magnitude of its terms below which a point is
#: accepted as a root.
RESIDUAL_RTOL = 1e-8

#: Rounding of the unknown itself: a root is also accepted where |R| is within the
#: change of R over this many relative ulps of the unknown.
ULPS_OF_X = 8 * float(np.finfo(float).eps)


class SolveStatus(enum.IntEnum):
    """Outcome of the solve for one element."""

    CONVERGED = 0
    NONFINITE_PARAMETER = 1
    PARAMETER_OUTSIDE_DOMAIN = 2
    NO_SIGN_CHANGE = 3
    MAXITER = 4
    NOT_A_ROOT = 5
    SINGULAR_JACOBIAN = 6
    NO_PROGRESS = 7
    NONFINITE_RESIDUAL = 8

    @property
    def reason(self) -> str:
        """A sentence a user can read."""
        return _REASONS[self]


_REASONS = {
    SolveStatus.CONVERGED: "converged",
    SolveStatus.NONFINITE_PARAMETER: "a parameter is NaN or infinite",
    SolveStatus.PARAMETER_OUTSIDE_DOMAIN: "a parameter violates its SymPy assumptions",
    SolveStatus.NO_SIGN_CHANGE: "no sign change of the residual was found in the search domain",
    SolveStatus.MAXITER: "maxiter iterations were reached without convergence",
    SolveStatus.NOT_A_ROOT: "the iteration settled where the residual is not zero "
    "(a pole or a jump of the residual)",
    SolveStatus.SINGULAR_JACOBIAN: "the Jacobian dR/du is singular at an iterate",
    SolveStatus.NO_PROGRESS: "damped Newton could not reduce |R| "
    "(a local minimum of |R| that is not a root, or no root)",
    SolveStatus.NONFINITE_RESIDUAL: "the residual or its Jacobian is not finite at an iterate",
}


#: Plain-int codes for hot paths, where enum look-ups are slow.
PENDING = int(SolveStatus.MAXITER)  # not settled (yet): to be solved, or gave up
CONVERGED = int(SolveStatus.CONVERGED)
