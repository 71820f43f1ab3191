"""The PyTensor Op that evaluates an implicit function and differentiates it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytensor
import pytensor.tensor as pt
import sympy as sp
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply, Variable
from pytensor.link.c.op import COp
from pytensor.scalar import upcast
from pytensor.tensor.extra_ops import broadcast_arrays
from pytensor.tensor.type import TensorType
from pytensor.tensor.variable import TensorVariable

from implicitop.options import ImplicitOptions
from implicitop.problem import ImplicitProblem
from implicitop.pytensor import c_implementation
from implicitop.pytensor.printing import printable_functions, to_pytensor
from implicitop.solvers import Solver, SolveResult

__all__ = ["ImplicitOp", "make_implicit_op"]

_FLOAT_DTYPES = ("float16", "float32", "float64")


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


class ImplicitOp(COp):
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
    params_type = c_implementation.PARAMS_TYPE

    def __init__(self, problem: ImplicitProblem, options: ImplicitOptions):
        self.problem = problem
        self.options = options
        self.solver = Solver(problem, options)

    # -- what users read ---------------------------------------------------------
    @property
    def residual(self) -> sp.Expr | tuple[sp.Expr, ...]:
        """The residual ``R`` (a tuple for systems)."""
        residuals = self.problem.residuals
        return residuals[0] if len(residuals) == 1 else residuals

    @property
    def unknown(self) -> sp.Symbol | tuple[sp.Symbol, ...]:
        """The symbol solved for (a tuple for systems)."""
        unknowns = self.problem.unknowns
        return unknowns[0] if len(unknowns) == 1 else unknowns

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        """The parameters, in the order the op takes its inputs."""
        return self.problem.params

    @property
    def jacobian(self) -> sp.Matrix:
        """``dR/du``, an n x n SymPy matrix."""
        return self.problem.jacobian

    @property
    def derivative(self) -> sp.Expr | tuple[sp.Expr, ...] | sp.Matrix:
        """``du/dtheta``.

        One equation: an expression, or a tuple with one per parameter. Systems: the
        n x k matrix ``-(dR/du)^-1 dR/dtheta``, derived when first asked for.
        """
        if self.problem.size > 1:
            return self.problem.derivative_matrix
        derivatives = self.problem.derivatives
        return derivatives[0] if len(derivatives) == 1 else derivatives

    def __str__(self) -> str:
        equations = ", ".join(f"{r} = 0" for r in self.problem.residuals)
        unknowns = ", ".join(u.name for u in self.problem.unknowns)
        return f"ImplicitOp({unknowns}: {equations})"

    def converged(self, *inputs: object) -> Variable:
        """Per-element convergence flags for these inputs, as a boolean tensor.

        Elements without a root give NaN outputs (``on_failure="nan"``), so this is
        the finiteness of every output; it adds no second solve to the graph when
        the op's outputs are used too.
        """
        outputs = self(*inputs)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        failed = pt.stack([pt.isnan(o) | pt.isinf(o) for o in outputs])
        return ~pt.any(failed, axis=0)

    # -- numbers -----------------------------------------------------------------
    def solve(self, *values: np.ndarray | float) -> SolveResult:
        """Solve for every element of the broadcast parameter values.

        Returns the :class:`~implicitop.solvers.SolveResult` whatever the failure
        policy: roots of the broadcast shape (with a trailing axis of length n for
        systems) and one status code per element.
        """
        return self.solver.solve(*values)

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
        shape = tensors[0].type.shape
        outputs = [TensorType(dtype=dtype, shape=shape)() for _ in self.problem.unknowns]
        return Apply(self, tensors, outputs)

    def get_params(self, node: Apply) -> object:
        return c_implementation.params(self.solver)

    def c_support_code(self, **kwargs: object) -> str:
        return c_implementation.support_code()

    def c_code(self, node: Apply, name: str, inputs, outputs, sub) -> str:
        raises = self.options.on_failure == "raise"
        return c_implementation.call_code(self.solver, raises, node, inputs, outputs, sub)

    def c_code_cache_version(self) -> tuple:
        return c_implementation.version()

    def perform(
        self, node: Apply, inputs: list[np.ndarray], outputs: list[list], params: object = None
    ) -> None:
        result = self.solver.solve(*inputs)
        if self.options.on_failure == "raise":
            self.solver.raise_for_failures(inputs, result.status)
        dtype = node.outputs[0].dtype
        if self.problem.size == 1:
            outputs[0][0] = np.asarray(result.root, dtype=dtype)
            return
        for index, storage in enumerate(outputs):
            storage[0] = np.array(result.root[..., index], dtype=dtype)

    def do_constant_folding(self, fgraph, node: Apply) -> bool:
        # With on_failure="raise" the error belongs to the call, not to compilation.
        return self.options.on_failure != "raise"

    def infer_shape(self, fgraph, node: Apply, input_shapes: list) -> list:
        return [input_shapes[0]] * self.problem.size

    def L_op(
        self, inputs: Sequence[Variable], outputs: Sequence[Variable], output_grads: Sequence
    ) -> list[Variable]:
        bindings = {
            **dict(zip(self.problem.unknowns, outputs, strict=True)),
            **dict(zip(self.params, inputs, strict=True)),
        }
        if self.problem.size == 1:
            (grad_output,) = output_grads
            grads = [
                grad_output * to_pytensor(derivative, bindings)
                for derivative in self.problem.derivatives
            ]
        else:
            grads = self._adjoint_gradients(bindings, outputs, output_grads)
        return [pt.cast(g, tensor.dtype) for g, tensor in zip(grads, inputs, strict=True)]

    def _adjoint_gradients(
        self, bindings: dict, outputs: Sequence[Variable], output_grads: Sequence
    ) -> list[Variable]:
        """``-J_theta^T lam`` with ``J_u^T lam = g``, batched over the broadcast shape."""
        cotangents = [
            pt.zeros_like(output) if isinstance(g.type, DisconnectedType) else g
            for g, output in zip(output_grads, outputs, strict=True)
        ]
        reference = outputs[0]

        def entry(expr: sp.Expr) -> Variable:
            return to_pytensor(expr, bindings) + pt.zeros_like(reference)

        jacobian = self.problem.jacobian
        n = self.problem.size
        transposed = pt.stack(
            [pt.stack([entry(jacobian[j, i]) for j in range(n)], axis=-1) for i in range(n)],
            axis=-2,
        )
        adjoint = pt.linalg.solve(transposed, pt.stack(cotangents, axis=-1)[..., None], b_ndim=2)
        adjoint = adjoint[..., 0]
        param_jacobian = self.problem.param_jacobian
        return [
            -pt.add(*(entry(param_jacobian[i, k]) * adjoint[..., i] for i in range(n)))
            for k in range(len(self.params))
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
    problem = ImplicitProblem.build(residuals, unknowns, params)
    _check_gradient_printable(problem)
    return ImplicitOp(problem, ImplicitOptions.build(problem, **options))


def _check_gradient_printable(problem: ImplicitProblem) -> None:
    """Fail at construction, not inside ``pm.sample``, if a derivative cannot be printed."""
    scalars = {s: pt.dscalar(s.name) for s in (*problem.unknowns, *problem.params)}
    if problem.size == 1:
        expressions = problem.derivatives
    else:
        expressions = (*problem.jacobian, *problem.param_jacobian)
    for expression in expressions:
        try:
            to_pytensor(expression, scalars)
        except NotImplementedError:
            missing = sorted(
                {type(call).__name__ for call in expression.atoms(sp.Function)}
                - set(printable_functions())
            )
            raise ValueError(
                f"the derivative {expression} uses {', '.join(missing) or 'a function'}, "
                "which PyTensor cannot express, so the gradient cannot be built. "
                "Rewrite the residual without it, or make its value another unknown of a "
                "system (w = LambertW(x) is the root of w*exp(w) - x)."
            ) from None
