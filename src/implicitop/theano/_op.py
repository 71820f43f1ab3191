"""The Theano Op (Theano-PyMC 1.1, for PyMC3 3.11) for an implicit function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from typing import TYPE_CHECKING

import theano
import theano.tensor as tt
from theano.graph.basic import Variable
from theano.graph.op import Op

from implicitop._problem import ImplicitProblem, argmin_residuals, fixed_point_residuals
from implicitop._tensor_op import TensorImplicitOp
from implicitop.theano._printing import printable_functions, to_theano

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

__all__ = ["ImplicitOp", "make_argmin_op", "make_fixed_point_op", "make_implicit_op"]


class ImplicitOp(TensorImplicitOp, Op):
    """A Theano Op whose output ``mu`` solves ``R(mu, theta) = 0``.

    The Theano counterpart of :class:`implicitop.ImplicitOp`, with the same
    behaviour: build it with :func:`make_implicit_op`; call it with one input per
    parameter (tensors, numbers, arrays, ``theano.shared`` variables, ``pm.Data``) to
    get ``mu`` of the inputs' broadcast shape. The gradient is the symbolic implicit
    derivative printed as a Theano graph of the op's own output and inputs, so it can
    be differentiated again. What users read (``op.derivative``, ``op.solve``, ...)
    is documented on :class:`~implicitop._tensor_op.TensorImplicitOp`.

    Parameters
    ----------
    problem
        The validated symbolic problem.
    options
        How roots are found.
    """

    __props__ = ("problem", "options")
    __str__ = TensorImplicitOp.__str__
    __eq__ = TensorImplicitOp.__eq__
    __hash__ = TensorImplicitOp.__hash__
    library = "Theano"
    tensor = tt
    to_graphs = staticmethod(to_theano)
    printable_functions = staticmethod(printable_functions)

    def broadcast(self, tensors: list[Variable]) -> list[Variable]:
        # second(a, b): b's values broadcast against a (Theano's BroadcastTo breaks the
        # optimisations of scan, which theano.gradient.jacobian uses).
        shaped = reduce(tt.second, tensors)
        return [tt.second(shaped, t) for t in tensors]

    def graph_op(
        self, inputs: list, outputs: list, gradient: Callable, connection_pattern: list
    ) -> Callable[..., Variable]:
        # Theano's OpFromGraph differentiates an overridden gradient only once (a second
        # derivative meets a disconnected output it cannot take): the graph itself
        # instead, differentiated as usual. Its gradient then also carries df/du (zero
        # at the minimum, to rounding) through the minimum's derivative.
        (output,) = outputs
        return lambda *variables: theano.clone(
            output, replace=dict(zip(inputs, variables, strict=True))
        )


def make_implicit_op(
    residuals: sp.Expr | Sequence[sp.Expr],
    unknowns: sp.Symbol | Sequence[sp.Symbol],
    params: sp.Symbol | Sequence[sp.Symbol],
    **options: object,
) -> ImplicitOp:
    """Build a differentiable Theano Op for the root of ``R(mu, theta) = 0``.

    The same arguments, options and errors as
    :func:`implicitop.make_implicit_op`.

    Parameters
    ----------
    residuals
        The residual ``R`` as a SymPy expression, or a sequence of n for a system.
    unknowns
        The symbol(s) solved for; their SymPy assumptions set the search domain.
    params
        A symbol or a sequence of symbols: the op's inputs, in this order. Symbols
        declared without assumptions are taken as real (``op.params`` holds them so).
    **options
        ``x0``, ``bracket``, ``tol``, ``maxiter``, ``on_failure``; see
        :class:`~implicitop.ImplicitOptions`.

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
    >>> from implicitop.theano import make_implicit_op
    >>> mu, theta = sp.symbols("mu theta", positive=True)
    >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
    >>> op(0.4).eval()
    array(0.454659)
    """
    return ImplicitOp.built(ImplicitProblem.build(residuals, unknowns, params), **options)


def make_fixed_point_op(
    maps: sp.Expr | Sequence[sp.Expr],
    unknowns: sp.Symbol | Sequence[sp.Symbol],
    params: sp.Symbol | Sequence[sp.Symbol],
    **options: object,
) -> ImplicitOp:
    """Build a differentiable Theano Op for the fixed point ``u = g(u, theta)`` of a map.

    The same arguments, options, result and errors as
    :func:`implicitop.make_fixed_point_op`: the op of the residuals
    ``u - g(u, theta)``, from :func:`make_implicit_op`.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop.theano import make_fixed_point_op
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
    """Build a differentiable Theano Op for the minimum ``u*(theta) = argmin_u f(u, theta)``.

    The same arguments, options, result and errors as
    :func:`implicitop.make_argmin_op`: the op of the residuals ``df/du``,
    accepting only minima.

    Examples
    --------
    >>> import sympy as sp
    >>> from implicitop.theano import make_argmin_op
    >>> x, t = sp.symbols("x t", positive=True)
    >>> op = make_argmin_op(x * sp.log(x) - t * x, x, t)  # minimum at x = exp(t - 1)
    >>> float(op(1.0).eval())
    1.0
    """
    residuals = argmin_residuals(objective, unknowns)
    problem = ImplicitProblem.build(residuals, unknowns, params, objective=objective)
    return ImplicitOp.built(problem, **options)
