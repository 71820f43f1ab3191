"""The PyTensor Op that evaluates an implicit function and differentiates it."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph
from pytensor.graph.basic import Apply, Variable
from pytensor.link.c.op import COp
from pytensor.tensor.extra_ops import broadcast_arrays

from implicitop._elementwise_solve import LinearSolve
from implicitop._problem import ImplicitProblem, argmin_residuals, fixed_point_residuals
from implicitop._pytensor import c_implementation
from implicitop._pytensor.printing import printable_functions, to_pytensor
from implicitop._pytensor.slopes import ImplicitSlopes
from implicitop._tensor_op import TensorImplicitOp

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

__all__ = ["ImplicitOp", "make_argmin_op", "make_fixed_point_op", "make_implicit_op"]


class ImplicitOp(TensorImplicitOp, COp):
    """A PyTensor Op whose output ``mu`` solves ``R(mu, theta) = 0``.

    Build it with :func:`make_implicit_op`. Calling it with one input per parameter
    (tensors, numbers, arrays, shared variables, ``pm.Data``) returns ``mu``, of the
    inputs' broadcast shape; every element is an independent root problem. The
    gradient is the symbolic implicit derivative written as a PyTensor graph of the
    op's own output and inputs, so it can be differentiated again. The same class
    serves :func:`make_argmin_op` and :func:`make_fixed_point_op`.

    Parameters
    ----------
    problem : ImplicitProblem
        The validated symbolic problem.
    options : ImplicitOptions
        How roots are found.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> import pytensor.tensor as pt
    >>> import sympy as sp
    >>> from implicitop import make_implicit_op
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> print(op)
    ImplicitOp(mu: mu*exp(mu*theta) + mu - 1 = 0)
    >>> thetas = pt.dvector("theta")
    >>> roots = op(thetas)
    >>> f = pytensor.function([thetas], [roots, pytensor.grad(roots.sum(), thetas)])
    >>> values, gradient = f(np.array([0.5, 1.0]))
    >>> values
    array([0.44464694, 0.40105814])
    """

    __props__ = ("problem", "options")
    __str__ = TensorImplicitOp.__str__
    __eq__ = TensorImplicitOp.__eq__
    __hash__ = TensorImplicitOp.__hash__
    params_type = c_implementation.PARAMS_TYPE
    library = "PyTensor"
    tensor = pt
    to_graphs = staticmethod(to_pytensor)
    printable_functions = staticmethod(printable_functions)

    def broadcast(self, tensors: list[Variable]) -> list[Variable]:
        return broadcast_arrays(*tensors)

    def get_params(self, node: Apply) -> object:
        return c_implementation.params(self.solver)

    def c_support_code(self, **kwargs: object) -> str:
        return c_implementation.support_code()

    def c_code(self, node: Apply, name: str, inputs, outputs, sub) -> str:
        raises = self.options.on_failure == "raise"
        return c_implementation.call_code(self.solver, raises, node, inputs, outputs, sub)

    def c_code_cache_version(self) -> tuple:
        return c_implementation.version()

    def graph_op(
        self, inputs: list, outputs: list, gradient: Callable, connection_pattern: list
    ) -> OpFromGraph:
        return OpFromGraph(
            inputs,
            outputs,
            lop_overrides=lambda variables, _, output_grads: gradient(variables, output_grads),
            connection_pattern=connection_pattern,
        )

    def implicit_slopes(self, bindings: dict, output: Variable) -> list:
        """From compiled code (:class:`~implicitop._pytensor.slopes.ImplicitSlopes`, in
        vector instructions) where the output may have :data:`SLOPES_FROM` elements or
        more, the solver is compiled and compiled code evaluates every partial
        derivative; else the graph (:meth:`graph_slopes`), which PyTensor fuses with
        the rest of the gradient's arithmetic."""
        shape = output.type.shape
        small = None not in shape and math.prod(shape) < SLOPES_FROM
        if small or not self._compiled_slopes():
            return self.graph_slopes(bindings, output)
        inputs = [bindings[theta] for theta in self.params]
        slopes = ImplicitSlopes(self)(output, *inputs)
        return slopes if isinstance(slopes, list) else [slopes]

    def _compiled_slopes(self) -> bool:
        from implicitop._codegen import compiled_slopes  # SymPy: not where ops are unpickled

        return self.solver.kernels.compiled and compiled_slopes(self.problem)

    def linear_solve(self, failed: Variable) -> LinearSolve | None:
        """Entry by entry (element-wise, compiled and fused) up to :data:`ENTRYWISE_MAX`
        unknowns; for more, PyTensor's batched solve, given the identity where ``failed``
        (LAPACK never sees NaN entries; the right-hand side is NaN there)."""
        return None if self.problem.size <= ENTRYWISE_MAX else partial(_batched_solve, failed)


#: The least number of elements whose implicit derivatives the gradient takes from
#: compiled code. Below it PyTensor's fused arithmetic is as fast or faster: the seed
#: model's logp+dlogp (one scalar root) took 8.1-8.4 us with the compiled slopes against
#: 7.4 without; a data model's logp+dlogp was 0.90-0.95 times as fast with them for 1-4
#: elements, 0.95-1.06 for 8-16, 1.25 for 64 and 1.5 for 1,024.
SLOPES_FROM = 16

#: Systems up to this size solve their gradient's linear system entry by entry, in
#: element-wise (compiled, fused) operations: PyTensor's batched solve loops over the
#: elements in Python (94% of logp+dlogp for 10,000 3 x 3 systems). Larger systems
#: use it, as the entry-by-entry graph grows with n^3.
ENTRYWISE_MAX = 4


def _batched_solve(
    failed: Variable, matrix: Sequence[Sequence[Variable | float]], rhs: Sequence[Variable]
) -> list[Variable]:
    """``x`` with ``matrix @ x = rhs`` by PyTensor's batched solve over the broadcast
    shape, the identity where ``failed``."""
    n = len(rhs)
    shape = pt.zeros_like(rhs[0])
    stacked = pt.stack(
        [pt.stack([entry + shape for entry in row], axis=-1) for row in matrix], axis=-2
    )
    stacked = pt.switch(failed[..., None, None], pt.eye(n), stacked)
    solved = pt.linalg.solve(
        stacked, pt.stack(rhs, axis=-1)[..., None], b_ndim=2, check_finite=False
    )
    return [solved[..., j, 0] for j in range(n)]


def make_implicit_op(
    residuals: sp.Expr | Sequence[sp.Expr],
    unknowns: sp.Symbol | Sequence[sp.Symbol],
    params: sp.Symbol | Sequence[sp.Symbol],
    **options: object,
) -> ImplicitOp:
    """Build a differentiable PyTensor Op for the root of ``R(mu, theta) = 0``.

    One equation or a system: n residuals in n unknowns, solved element by element over
    the broadcast inputs; the derivative ``dmu/dtheta = -(dR/dmu)^-1 dR/dtheta`` comes
    from the implicit function theorem, as a graph that can be differentiated again.

    Parameters
    ----------
    residuals
        ``R``: one SymPy expression, or a sequence of n for a system of n equations.
    unknowns
        The symbol ``mu`` solved for, or a sequence of n symbols for a system. Their
        SymPy assumptions set where roots are searched: ``positive=True`` keeps
        iterates above 0.
    params
        A symbol or a sequence of symbols: the op's inputs, in this order. Every free
        symbol of the residuals must be an unknown or a parameter. Symbols declared
        without assumptions are taken as real (``op.params`` holds them so).
    **options
        ``x0``, ``bracket``, ``expand_bracket``, ``tol``, ``maxiter``, ``on_failure``;
        see :class:`~implicitop.ImplicitOptions`.

    Returns
    -------
    ImplicitOp
        Call it with one input per parameter (tensors, numbers, arrays, shared
        variables, ``pm.Data``): one output per unknown, of the inputs' broadcast
        shape. ``op.derivative`` holds ``dmu/dtheta``.

    Raises
    ------
    TypeError, ValueError
        For input that does not describe one well-posed implicit function: a symbol
        that is neither unknown nor parameter, a system that is not square, a Jacobian
        ``dR/dmu`` that is singular everywhere, an unknown option.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop import make_implicit_op
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> op(0.4).eval()
    array(0.454659)

    A system: the intersection of a circle of radius ``r`` with the line ``y = a x``.

    >>> x, y = sp.symbols("x y", positive=True)
    >>> r, a = sp.symbols("r a", positive=True)
    >>> circle = make_implicit_op([x**2 + y**2 - r**2, y - a * x], [x, y], [r, a])
    >>> [output.eval() for output in circle(5.0, 0.75)]
    [array(4.), array(3.)]
    """
    return ImplicitOp.built(ImplicitProblem.build(residuals, unknowns, params), **options)


def make_fixed_point_op(
    maps: sp.Expr | Sequence[sp.Expr],
    unknowns: sp.Symbol | Sequence[sp.Symbol],
    params: sp.Symbol | Sequence[sp.Symbol],
    **options: object,
) -> ImplicitOp:
    """Build a differentiable PyTensor Op for the fixed point ``u = g(u, theta)`` of a map.

    The fixed point is the root of ``u - g(u, theta)``, found with the same safeguarded
    solver as :func:`make_implicit_op` (the map is not iterated, so it need not be a
    contraction), and its derivative is ``du/dtheta = (I - dg/du)^-1 dg/dtheta``.

    Parameters
    ----------
    maps
        ``g`` as a SymPy expression, or a sequence of n for n unknowns.
    unknowns
        The symbol(s) ``u``; their SymPy assumptions set the search domain.
    params
        A symbol or a sequence of symbols: the op's inputs, in this order.
    **options
        ``x0``, ``bracket``, ``expand_bracket``, ``tol``, ``maxiter``, ``on_failure``;
        see :class:`~implicitop.ImplicitOptions`.

    Returns
    -------
    ImplicitOp
        The op of the residuals ``u - g(u, theta)``: call it with one input per
        parameter.

    Raises
    ------
    TypeError, ValueError
        For input that does not describe one well-posed fixed point.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop import make_fixed_point_op
    >>> x, a = sp.symbols("x a", positive=True)
    >>> op = make_fixed_point_op(a * sp.cos(x), x, a)
    >>> float(op(1.0).eval())  # the Dottie number, x = cos(x)
    0.7390851332151607
    """
    return make_implicit_op(fixed_point_residuals(maps, unknowns), unknowns, params, **options)


def make_argmin_op(
    objective: sp.Expr,
    unknowns: sp.Symbol | Sequence[sp.Symbol],
    params: sp.Symbol | Sequence[sp.Symbol],
    **options: object,
) -> ImplicitOp:
    """Build a differentiable PyTensor Op for the minimum ``u*(theta) = argmin_u f(u, theta)``.

    The minimum is the root of the gradient ``df/du`` where the Hessian ``d2f/du2`` is
    positive definite: SymPy derives both, the root is found with the same safeguarded
    solver as :func:`make_implicit_op`, and a root where the Hessian is not positive
    definite (a maximum or a saddle point) fails with status ``NOT_A_MINIMUM``. The
    derivative is ``du*/dtheta = -H^-1 d2f/du dtheta``, a graph of the op's output, so
    it can be differentiated again. ``op.minimum_value(*inputs)`` gives ``f`` at the
    minimum (its gradient by the envelope theorem) and ``op.log_det_hessian(*inputs)``
    the log determinant of ``H`` there (for Laplace approximations).

    Parameters
    ----------
    objective
        ``f`` as one SymPy expression.
    unknowns
        The symbol(s) ``u`` minimised over; their SymPy assumptions set the search
        domain (``positive=True``: minimise over ``u > 0``).
    params
        A symbol or a sequence of symbols: the op's inputs, in this order.
    **options
        ``x0``, ``bracket``, ``expand_bracket``, ``tol``, ``maxiter``, ``on_failure``;
        see :class:`~implicitop.ImplicitOptions`.

    Returns
    -------
    ImplicitOp
        The op of the residuals ``df/du``: call it with one input per parameter.

    Raises
    ------
    TypeError, ValueError
        For input that does not describe one well-posed minimum (an objective that is
        not one expression, or is linear in the unknowns).

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop import make_argmin_op
    >>> x, t = sp.symbols("x t", positive=True)
    >>> op = make_argmin_op(x * sp.log(x) - t * x, x, t)  # minimum at x = exp(t - 1)
    >>> float(op(1.0).eval())
    1.0
    """
    residuals = argmin_residuals(objective, unknowns)
    problem = ImplicitProblem.build(residuals, unknowns, params, objective=objective)
    return ImplicitOp.built(problem, **options)
