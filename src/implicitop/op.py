"""The PyTensor Op that evaluates an implicit function and differentiates it."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pytensor
import pytensor.tensor as pt
import sympy as sp
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.scalar import upcast
from pytensor.tensor.extra_ops import broadcast_arrays
from pytensor.tensor.type import TensorType
from pytensor.tensor.variable import TensorVariable

from implicitop.codegen import lambdify, numeric_kernels, to_pytensor
from implicitop.options import ImplicitOptions
from implicitop.problem import Domain, ImplicitProblem
from implicitop.solve import ImplicitSolveError, SolveResult, SolveStatus, solve

__all__ = ["ImplicitOp", "make_implicit_op"]

_FLOAT_DTYPES = ("float16", "float32", "float64")


def _default_guess(domain: Domain) -> float:
    """A start inside ``domain``: its middle, or 1 step in from a single bound."""
    if domain.is_bounded_below and domain.is_bounded_above:
        if domain.lower > 0 and domain.upper > 4 * domain.lower:
            return float(np.sqrt(domain.lower) * np.sqrt(domain.upper))
        return domain.lower / 2 + domain.upper / 2
    if domain.is_bounded_below:
        return max(domain.lower + 1.0, 1.0) if domain.lower >= 0 else domain.lower + 1.0
    if domain.is_bounded_above:
        return min(domain.upper - 1.0, -1.0) if domain.upper <= 0 else domain.upper - 1.0
    return 0.0


@lru_cache(maxsize=256)
def _guess_function(params: tuple[sp.Symbol, ...], x0: sp.Expr):
    return lambdify(list(params), x0)


def _as_float_tensor(value: object, name: str) -> TensorVariable:
    """Convert one op input to a float tensor, or raise a ``TypeError`` naming it."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"parameter {name} got a boolean; pass a float")
    if isinstance(value, int | float):
        value = np.asarray(value, dtype=pytensor.config.floatX)
    try:
        tensor = pt.as_tensor_variable(value)
    except (TypeError, ValueError, NotImplementedError) as error:
        raise TypeError(
            f"parameter {name} must be a float tensor, number or array, got "
            f"{type(value).__name__}: {error}"
        ) from None
    if tensor.dtype not in _FLOAT_DTYPES:
        raise TypeError(
            f"parameter {name} has dtype {tensor.dtype}; implicit ops need float inputs "
            "(cast with pytensor.tensor.cast(x, 'float64') or pass floats)"
        )
    return tensor


class ImplicitOp(Op):
    """A PyTensor Op whose output ``mu`` solves ``R(mu, theta) = 0``.

    Build it with :func:`make_implicit_op`. Calling it with one input per parameter
    (tensors, numbers, arrays, shared variables, ``pm.Data``) returns ``mu``, of the
    inputs' broadcast shape; every element is an independent root problem. The
    gradient is the symbolic implicit derivative written as a PyTensor graph of the
    op's own output and inputs, so it can be differentiated again.

    Parameters
    ----------
    problem
        The validated symbolic problem.
    options
        How roots are found.
    """

    __props__ = ("problem", "options")

    def __init__(self, problem: ImplicitProblem, options: ImplicitOptions):
        self.problem = problem
        self.options = options
        # read off SymPy assumptions once, not on every call
        self._search_domain = options.search_domain(problem)
        self._param_domains = problem.param_domains
        self._settings = options.solver_settings(problem)

    # -- what users read ---------------------------------------------------------
    @property
    def residual(self) -> sp.Expr:
        """The residual ``R``."""
        return self.problem.residual

    @property
    def unknown(self) -> sp.Symbol:
        """The symbol solved for."""
        return self.problem.unknown

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        """The parameters, in the order the op takes its inputs."""
        return self.problem.params

    @property
    def derivative(self) -> sp.Expr | tuple[sp.Expr, ...]:
        """``dmu/dtheta``: one expression, or a tuple with one per parameter."""
        derivatives = self.problem.derivatives
        return derivatives[0] if len(derivatives) == 1 else derivatives

    def __str__(self) -> str:
        return f"ImplicitOp({self.unknown}: {self.residual} = 0)"

    # -- numbers -----------------------------------------------------------------
    def solve(self, *values: np.ndarray | float) -> SolveResult:
        """Solve for every element of the broadcast parameter values.

        Returns the :class:`~implicitop.solve.SolveResult` (roots and status codes),
        whatever the failure policy.
        """
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
        shape = arrays[0].shape
        flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
        result = solve(
            numeric_kernels(self.problem),
            flat,
            self._initial_guess(flat),
            self._search_domain,
            self._param_domains,
            self._settings,
        )
        return SolveResult(result.root.reshape(shape), result.status.reshape(shape))

    def _initial_guess(self, flat_params: Sequence[np.ndarray]) -> np.ndarray:
        domain = self._search_domain
        default = _default_guess(domain)
        x0 = self.options.x0
        if x0 is None:
            return np.full(flat_params[0].shape, default)
        if isinstance(x0, sp.Basic):
            with np.errstate(all="ignore"):
                guess = _guess_function(self.params, x0)(*flat_params)
            guess = np.broadcast_to(np.asarray(guess, dtype=np.float64), flat_params[0].shape)
            usable = np.isfinite(guess) & (guess >= domain.lower) & (guess <= domain.upper)
            return np.where(usable, guess, default)
        return np.full(flat_params[0].shape, float(x0))

    def _raise_for_failures(self, values: Sequence[np.ndarray], result: SolveResult) -> None:
        failed = np.flatnonzero(~result.converged.reshape(-1))
        if failed.size == 0:
            return
        flat = [np.broadcast_to(v, result.root.shape).reshape(-1) for v in values]
        failures = [
            (
                {p.name: float(v[i]) for p, v in zip(self.params, flat, strict=True)},
                SolveStatus(int(result.status.reshape(-1)[i])).reason,
            )
            for i in failed
        ]
        raise ImplicitSolveError.from_failures(failures, result.root.size)

    # -- the Op interface -------------------------------------------------------------
    def make_node(self, *inputs: object) -> Apply:
        if len(inputs) != len(self.params):
            names = ", ".join(p.name for p in self.params)
            raise TypeError(
                f"{self} takes {len(self.params)} input(s) ({names}), got {len(inputs)}"
            )
        tensors = [
            _as_float_tensor(value, p.name) for value, p in zip(inputs, self.params, strict=True)
        ]
        if len(tensors) > 1:
            tensors = broadcast_arrays(*tensors)
        dtype = upcast(*(t.dtype for t in tensors))
        output = TensorType(dtype=dtype, shape=tensors[0].type.shape)()
        return Apply(self, tensors, [output])

    def perform(self, node: Apply, inputs: list[np.ndarray], outputs: list[list]) -> None:
        result = self.solve(*inputs)
        if self.options.on_failure == "raise":
            self._raise_for_failures(inputs, result)
        outputs[0][0] = np.asarray(result.root, dtype=node.outputs[0].dtype)

    def do_constant_folding(self, fgraph, node: Apply) -> bool:
        # With on_failure="raise" the error belongs to the call, not to compilation.
        return self.options.on_failure != "raise"

    def infer_shape(self, fgraph, node: Apply, input_shapes: list) -> list:
        return [input_shapes[0]]

    def L_op(
        self, inputs: Sequence[Variable], outputs: Sequence[Variable], output_grads: Sequence
    ) -> list[Variable]:
        (grad_output,) = output_grads
        bindings = {self.unknown: outputs[0], **dict(zip(self.params, inputs, strict=True))}
        return [
            pt.cast(grad_output * to_pytensor(derivative, bindings), tensor.dtype)
            for derivative, tensor in zip(self.problem.derivatives, inputs, strict=True)
        ]


def make_implicit_op(
    residuals: sp.Expr | Sequence[sp.Expr],
    unknowns: sp.Symbol | Sequence[sp.Symbol],
    params: sp.Symbol | Sequence[sp.Symbol],
    **options: object,
) -> ImplicitOp:
    """Build a differentiable PyTensor Op for the root of ``R(mu, theta) = 0``.

    Parameters
    ----------
    residuals
        The residual ``R`` as a SymPy expression (or a one-element sequence).
    unknowns
        The symbol ``mu`` solved for (or a one-element sequence). Its SymPy
        assumptions set the search domain: ``positive=True`` keeps iterates > 0.
    params
        A symbol or a sequence of symbols: the op's inputs, in this order. Every
        free symbol of the residual must be the unknown or a parameter.
    **options
        ``x0``, ``bracket``, ``tol``, ``maxiter``, ``on_failure``; see
        :class:`~implicitop.options.ImplicitOptions`.

    Returns
    -------
    ImplicitOp
        Call it with one input per parameter; ``op.derivative`` holds ``dmu/dtheta``.

    Raises
    ------
    TypeError, ValueError
        For input that does not describe one well-posed implicit function.

    Examples
    --------
    >>> import sympy as sp
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> float(op(0.4).eval())  # doctest: +ELLIPSIS
    0.4546...
    """
    residual = _single(residuals, "residuals", sp.Basic)
    unknown = _single(unknowns, "unknowns", sp.Basic)
    problem = ImplicitProblem.build(residual, unknown, params)
    _check_gradient_printable(problem)
    return ImplicitOp(problem, ImplicitOptions.build(problem, **options))


def _single(value: object, role: str, kind: type) -> object:
    """The one item of ``value``; systems of equations are not supported yet."""
    if isinstance(value, kind) or isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        return value
    items = list(value)
    if len(items) != 1:
        raise NotImplementedError(
            f"{role} has {len(items)} entries: systems of equations are not supported yet; "
            "pass one residual and one unknown"
        )
    return items[0]


def _check_gradient_printable(problem: ImplicitProblem) -> None:
    """Fail at construction, not inside ``pm.sample``, if a derivative cannot be printed."""
    scalars = {s: pt.dscalar(s.name) for s in (problem.unknown, *problem.params)}
    for derivative in problem.derivatives:
        try:
            to_pytensor(derivative, scalars)
        except NotImplementedError as error:
            raise ValueError(
                f"the derivative {derivative} uses a function PyTensor cannot express: {error}"
            ) from None
