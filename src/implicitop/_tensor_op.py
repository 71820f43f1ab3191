"""What the PyTensor and the Theano op share: everything but the library.

PyTensor continues Theano with the same ``Op`` interface and nearly the same tensor
functions, so one class holds what users read (the residual, ``op.derivative``), the
numbers (the solve, ``perform``), ``make_node`` and the inputs' checks, and the
implicit gradient of one equation; each library's op adds how inputs broadcast in
its graphs, the gradient of systems and its backends. This module imports neither
library: a subclass names its ``tensor`` module and its printer.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from functools import cached_property, reduce
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from implicitop._display import html_summary, latex_summary
from implicitop._elementwise_solve import (
    LinearSolve,
    cholesky_diagonal_entrywise,
    solve_equilibrated,
)
from implicitop._options import ImplicitOptions
from implicitop._problem import ImplicitProblem
from implicitop._ranges import Ranges
from implicitop._solvers import Solver, SolveResult

if TYPE_CHECKING:
    import sympy as sp
else:
    from implicitop._lazy import sympy as sp

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["TensorImplicitOp", "without_test_values"]

_FLOAT_DTYPES = ("float16", "float32", "float64")
_INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _library(tensor: ModuleType) -> ModuleType:
    """``pytensor`` for ``pytensor.tensor``, ``theano`` for ``theano.tensor``."""
    return import_module(tensor.__name__.split(".")[0])


def without_test_values(tensor: ModuleType) -> ContextManager:
    """A context in which new variables need no test values: inside a PyMC3 model
    Theano computes them for every new node and fails on variables without one."""
    return _library(tensor).config.change_flags(compute_test_value="off")


def _read_back(cls: type[TensorImplicitOp], identity: str, pickled_solver: bytes) -> object:
    """An op unpickled: its identity now, its solver when first used."""
    op = cls.__new__(cls)
    vars(op).update(identity=identity, _pickled_solver=pickled_solver)
    return op


class TensorImplicitOp:
    """The library-neutral part of an op whose output ``mu`` solves ``R(mu, theta) = 0``.

    Parameters
    ----------
    problem
        The validated symbolic problem.
    options
        How roots are found.
    """

    # A subclass that is an Op sets ``__props__ = ("problem", "options")`` (the
    # libraries' metaclass reads it from the class body, and then writes a __str__ of
    # its own there unless the body has one: ``__str__ = TensorImplicitOp.__str__``).

    #: The library's name as users write it: ``"PyTensor"`` or ``"Theano"``.
    library: ClassVar[str]
    #: ``pytensor.tensor`` or ``theano.tensor``.
    tensor: ClassVar[ModuleType]
    #: ``(exprs, {symbol: variable}) -> graphs``: the library's bound SymPy printer.
    to_graphs: ClassVar[Callable[[Sequence[sp.Expr], Mapping[sp.Symbol, object]], list]]
    #: The names of the SymPy functions ``to_graphs`` prints.
    printable_functions: ClassVar[Callable[[], list[str]]]

    def __init__(self, problem: ImplicitProblem, options: ImplicitOptions):
        self._solver = Solver(problem, options)

    if TYPE_CHECKING:  # the library's Op base class makes the op callable

        def __call__(self, *inputs: object) -> Any: ...

    # -- identity and pickling -----------------------------------------------------
    # PyTensor unpickles the key of every op in its compile folder and compares them
    # with the ops it compiles, at every compile of any graph. So an op pickles as its
    # identity and its solver's pickle, and an op read back restores the solver (and
    # imports SymPy) only when it is used; ops are equal when their identities are.
    # (A subclass that is an Op sets ``__eq__`` and ``__hash__`` to these in its body,
    # or the libraries' metaclass writes its own from ``__props__``.)
    @cached_property
    def identity(self) -> str:
        """A digest of the problem and the options, equal for equal ops in any process."""
        from implicitop._identity import digest

        return digest(self.problem, self.options)

    @property
    def solver(self) -> Solver:
        """The numeric solve of the problem with the options."""
        try:
            return self._solver
        except AttributeError:  # read back from a pickle, used now
            self._solver = pickle.loads(self._pickled_solver)
            return self._solver

    @property
    def problem(self) -> ImplicitProblem:
        """The validated symbolic problem: residuals, unknowns, parameters, domains and
        the derivatives (:class:`~implicitop.ImplicitProblem`).

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_implicit_op
        >>> mu, theta = sp.symbols("mu theta", positive=True)
        >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
        >>> op.problem.residuals, op.problem.unknown_domains
        ((mu*exp(mu*theta) + mu - 1,), (Domain(lower=2.2250738585072014e-308, upper=inf),))
        """
        return self.solver.problem

    @property
    def options(self) -> ImplicitOptions:
        """How roots are found: ``x0``, ``bracket``, ``tol``, ``maxiter``, ``on_failure``
        (:class:`~implicitop.ImplicitOptions`).

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_implicit_op
        >>> mu, theta = sp.symbols("mu theta", positive=True)
        >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta, x0=0.5)
        >>> op.options.x0, op.options.on_failure
        (0.5, 'nan')
        """
        return self.solver.options

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.identity == other.identity

    def __hash__(self) -> int:
        return hash((type(self), self.identity))

    def __reduce__(self) -> tuple:
        pickled_solver = pickle.dumps(self.solver, protocol=pickle.HIGHEST_PROTOCOL)
        return (_read_back, (type(self), self.identity, pickled_solver))

    @property
    def framework(self) -> ModuleType:
        """The library: ``pytensor`` or ``theano``."""
        return _library(self.tensor)

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
        """``dR/du``, the residuals' Jacobian in the unknowns, an n x n SymPy matrix.

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_implicit_op
        >>> mu, theta = sp.symbols("mu theta", positive=True)
        >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
        >>> op.jacobian
        Matrix([[mu*theta*exp(mu*theta) + exp(mu*theta) + 1]])
        """
        return self.problem.jacobian

    @property
    def derivative(self) -> sp.Expr | tuple[sp.Expr, ...] | sp.Matrix:
        """``du/dtheta`` by the implicit function theorem, as SymPy expressions.

        One equation: ``-(dR/dtheta) / (dR/du)``, an expression, or a tuple with one per
        parameter. Systems: the n x k matrix ``-(dR/du)^-1 dR/dtheta``, derived when
        first asked for. The op's gradient is built from the same partial derivatives.

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_implicit_op
        >>> mu, theta = sp.symbols("mu theta", positive=True)
        >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
        >>> op.derivative
        -mu**2*exp(mu*theta)/(mu*theta*exp(mu*theta) + exp(mu*theta) + 1)
        """
        if self.problem.size > 1:
            return self.problem.derivative_matrix
        derivatives = self.problem.derivatives
        return derivatives[0] if len(derivatives) == 1 else derivatives

    def __str__(self) -> str:
        unknowns = ", ".join(u.name for u in self.problem.unknowns)
        if self.problem.objective is not None:
            return f"ImplicitOp({unknowns}: argmin {self.problem.objective})"
        equations = ", ".join(f"{r} = 0" for r in self.problem.residuals)
        return f"ImplicitOp({unknowns}: {equations})"

    def _repr_latex_(self) -> str:
        return latex_summary(self.problem)

    def _repr_html_(self) -> str:
        title = f"{type(self).__name__} for {self.library}"
        return html_summary(title, self.problem, self.options, self.solver.search_domains)

    def plot(
        self,
        ranges: Ranges | None = None,
        *,
        vary: sp.Symbol | str | None = None,
        at: Mapping[sp.Symbol | str, float] | None = None,
        points: int = 200,
    ) -> Figure:
        """Draw the root and its derivative over a parameter's range, failures marked.

        Look at this before sampling: the values in the range where the solver finds no
        root are marked on the axis, with the reason (:class:`~implicitop.SolveStatus`)
        in the legend.

        Parameters
        ----------
        ranges
            ``{parameter: (low, high)}``, by symbol or name; parameters not given take
            defaults from their assumptions (``positive=True``: 1e-3 to 1e3, log
            scaled). A range that spans more than two decades of one sign is drawn on
            a log scale.
        vary
            The parameter along the horizontal axis (default: the first).
        at
            Values of the other parameters (default: the geometric or arithmetic
            middle of their ranges).
        points
            How many values of the varied parameter.

        Returns
        -------
        matplotlib.figure.Figure
            One row per unknown: the root, then its derivative. Jupyter shows it as a
            cell's value; ``figure.savefig(path)`` writes it.

        Raises
        ------
        ValueError
            For a parameter name the op does not have, or a range outside a domain.
        ImportError
            Without matplotlib (``pip install "implicitop[plot]"``).

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_implicit_op
        >>> mu, theta = sp.symbols("mu theta", positive=True)
        >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
        >>> figure = op.plot({"theta": (1e-3, 1e3)})
        >>> len(figure.axes)  # the root and its derivative
        2
        """
        from implicitop import _plotting as plotting  # matplotlib only when a picture is asked for

        return plotting.plot(self, ranges, vary=vary, at=at, points=points)

    def converged(self, *inputs: object) -> object:
        """Per-element convergence flags for these inputs, as a boolean tensor.

        Elements without a root give NaN outputs (``on_failure="nan"``), so this is
        the finiteness of every output; it adds no second solve to the graph when
        the op's outputs are used too. Use it in a model to count failures, for
        example as a ``pm.Deterministic``.

        Parameters
        ----------
        *inputs
            One tensor, number or array per parameter, as for calling the op.

        Returns
        -------
        TensorVariable
            Booleans of the inputs' broadcast shape.

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_implicit_op
        >>> mu, theta = sp.symbols("mu theta", positive=True)
        >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
        >>> import numpy as np
        >>> op.converged(np.array([1.0, np.nan])).eval()
        array([ True, False])
        """
        tensor = self.tensor
        outputs = self(*inputs)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        failed = tensor.stack([tensor.isnan(o) | tensor.isinf(o) for o in outputs])
        return ~tensor.any(failed, axis=0)

    # -- minima: ops built by make_argmin_op -----------------------------------------
    def minimum_value(self, *inputs: object) -> object:
        """The objective at its minimum, ``f(u*(theta), theta)``, for these inputs.

        Its gradient is ``df/dtheta`` at the minimum (the envelope theorem: ``df/du = 0``
        there), in PyTensor with no derivative of the minimum in it (Theano
        differentiates the graph as it is: the same values); differentiated again, it
        includes how the minimum moves, so Hessians are right. NaN where there is no
        minimum.

        Parameters
        ----------
        *inputs
            One tensor, number or array per parameter, as for calling the op.

        Returns
        -------
        TensorVariable
            The minimum's value, of the inputs' broadcast shape.

        Raises
        ------
        TypeError
            If the op is not a minimum's (see :func:`~implicitop.make_argmin_op`), or for
            inputs the op does not take.

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_argmin_op
        >>> x, t = sp.symbols("x t", positive=True)
        >>> op = make_argmin_op(sp.exp(x) - t * x, x, t)  # minimum at x = log(t)
        >>> op.minimum_value(2.0).eval()  # t - t log t
        array(0.61370564)
        """
        tensors, minima = self._minimum_graph(inputs)
        problem = self.problem
        inner = [variable.type() for variable in (*minima, *tensors)]
        shape = self.tensor.zeros_like(inner[0])
        (value,) = self.to_graphs([problem.objective], self.bindings(inner))
        partials = [problem.objective.diff(theta) for theta in problem.params]
        disconnected = self.framework.gradient.DisconnectedType

        def gradient(variables: list, output_grads: list) -> list:
            (grad,) = output_grads
            slopes = self.to_graphs(partials, self.bindings(variables))
            outer = variables[len(minima) :]
            return [
                *(disconnected()() for _ in minima),
                *(self.tensor.cast(grad * s, x.dtype) for s, x in zip(slopes, outer, strict=True)),
            ]

        connected = [[False]] * len(minima) + [[True]] * len(tensors)
        graph_op = self.graph_op(inner, [value + shape], gradient, connected)
        return graph_op(*minima, *tensors)

    def log_det_hessian(self, *inputs: object) -> object:
        """``log det H`` at the minimum for these inputs, ``H = d2f/du2`` (the Laplace
        approximation's term), from the Cholesky factor of ``H``; NaN where there is no
        minimum. Differentiable like any graph of the op's output.

        Parameters
        ----------
        *inputs
            One tensor, number or array per parameter, as for calling the op.

        Returns
        -------
        TensorVariable
            ``log det H``, of the inputs' broadcast shape.

        Raises
        ------
        TypeError
            If the op is not a minimum's (see :func:`~implicitop.make_argmin_op`), or for
            inputs the op does not take.

        Examples
        --------
        >>> import sympy as sp
        >>> from implicitop import make_argmin_op
        >>> x, t = sp.symbols("x t", positive=True)
        >>> op = make_argmin_op(sp.exp(x) - t * x, x, t)  # minimum at x = log(t)
        >>> op.log_det_hessian(2.0).eval()  # H = exp(x*) = t
        array(0.69314718)
        """
        tensors, minima = self._minimum_graph(inputs)
        problem, n, tensor = self.problem, self.problem.size, self.tensor
        bindings = self.bindings([*minima, *tensors])
        shape = tensor.zeros_like(minima[0])
        entries = [entry + shape for entry in self.to_graphs(list(problem.jacobian), bindings)]
        rows = [entries[i * n : (i + 1) * n] for i in range(n)]
        diagonal = cholesky_diagonal_entrywise(rows, tensor.sqrt)
        return 2.0 * sum((tensor.log(d) for d in diagonal[1:]), tensor.log(diagonal[0]))

    def bindings(self, variables: Sequence[object]) -> dict:
        """The unknowns, then the parameters, bound to ``variables`` in that order."""
        symbols = (*self.problem.unknowns, *self.problem.params)
        return dict(zip(symbols, variables, strict=True))

    def _minimum_graph(self, inputs: Sequence[object]) -> tuple[list, list]:
        """The inputs as tensors broadcast against each other, and the minima."""
        if self.problem.objective is None:
            raise TypeError(f"{self} is not the op of a minimum; build one with make_argmin_op")
        tensors = self.input_tensors(inputs)
        if len(tensors) > 1:
            tensors = self.broadcast(tensors)
        minima = self(*tensors)
        return tensors, minima if isinstance(minima, list) else [minima]

    def graph_op(
        self, inputs: list, outputs: list, gradient: Callable, connection_pattern: list
    ) -> object:
        """The library's op of the graph ``inputs -> outputs`` whose gradient is
        ``gradient(inputs, output_grads)``."""
        raise NotImplementedError

    # -- numbers -----------------------------------------------------------------
    def solve(self, *values: np.ndarray | float) -> SolveResult:
        """Solve for every element of the broadcast parameter values, in NumPy.

        Unlike calling the op, this never raises for elements without a root, whatever
        ``on_failure`` says: it reports them.

        Parameters
        ----------
        *values
            One number or array per parameter, broadcast against each other.

        Returns
        -------
        SolveResult
            Roots of the broadcast shape (with a trailing axis of length n for
            systems), NaN where there is none, and one :class:`~implicitop.SolveStatus`
            code per element.

        Examples
        --------
        >>> import numpy as np
        >>> import sympy as sp
        >>> from implicitop import make_implicit_op
        >>> mu, theta = sp.symbols("mu theta", positive=True)
        >>> op = make_implicit_op(mu + mu * sp.exp(theta * mu) - 1, mu, theta)
        >>> result = op.solve(np.array([0.5, 1.0, -1.0]))
        >>> result.root
        array([0.44464694, 0.40105814,        nan])
        >>> result.status_names
        array(['CONVERGED', 'CONVERGED', 'PARAMETER_OUTSIDE_DOMAIN'], dtype='<U24')
        """
        return self.solver.solve(*values)

    # -- the Op interface, shared ------------------------------------------------------
    def make_node(self, *inputs: object) -> object:
        tensors = self.input_tensors(inputs)
        if len(tensors) > 1:
            tensors = self.broadcast(tensors)
        dtype = self.framework.scalar.upcast(*(t.dtype for t in tensors))
        outputs = [tensors[0].type.clone(dtype=dtype)() for _ in self.problem.unknowns]
        return self.framework.graph.basic.Apply(self, tensors, outputs)

    def broadcast(self, tensors: list) -> list:
        """The inputs broadcast against each other in the graph (so that their
        gradients are summed back to their shapes)."""
        raise NotImplementedError

    def input_tensors(self, inputs: Sequence[object]) -> list:
        """The op's inputs as float tensors; a ``TypeError`` naming the parameter for a
        wrong number of inputs or an input that is neither a float nor an integer
        tensor. Integer inputs (data such as counts) are cast to the float type the
        inputs' arithmetic gives (``float32`` beside ``float32`` and ``int8``,
        ``float64`` beside ``int64``), or, where every input is an integer, their
        arithmetic with ``floatX`` (``int64`` gives ``float64`` either way)."""
        if len(inputs) != len(self.params):
            names = ", ".join(p.name for p in self.params)
            raise TypeError(
                f"{self} takes {len(self.params)} input(s) ({names}), got {len(inputs)}"
            )
        tensors = [self._number_tensor(v, p.name) for v, p in zip(inputs, self.params, strict=True)]
        dtypes = [t.dtype for t in tensors]
        if not any(dtype in _FLOAT_DTYPES for dtype in dtypes):
            dtypes.append(self.framework.config.floatX)
        floating = self.framework.scalar.upcast(*dtypes)
        return [t if t.dtype in _FLOAT_DTYPES else self.tensor.cast(t, floating) for t in tensors]

    def _number_tensor(self, value: object, name: str) -> object:
        if isinstance(value, bool | np.bool_):
            raise TypeError(f"parameter {name} got a boolean; pass a float")
        if isinstance(value, int | float):
            value = np.asarray(value, dtype=self.framework.config.floatX)
        try:
            tensor = self.tensor.as_tensor_variable(value)
        except (TypeError, ValueError, NotImplementedError) as error:
            raise TypeError(
                f"parameter {name} must be a tensor, number or array, got "
                f"{type(value).__name__}: {error}"
            ) from None
        if tensor.dtype in _FLOAT_DTYPES or tensor.dtype in _INTEGER_DTYPES:
            return tensor
        raise TypeError(
            f"parameter {name} has dtype {tensor.dtype}; implicit ops take float or integer inputs"
        )

    def perform(self, node, inputs: list[np.ndarray], outputs: list[list], params=None) -> None:
        result = self.solver.solve(*inputs)
        if self.options.on_failure == "raise":
            self.solver.raise_for_failures(inputs, result.status)
        dtype = node.outputs[0].dtype
        if self.problem.size == 1:
            outputs[0][0] = np.asarray(result.root, dtype=dtype)
            return
        for index, storage in enumerate(outputs):
            storage[0] = np.array(result.root[..., index], dtype=dtype)

    def do_constant_folding(self, fgraph, node) -> bool:
        # With on_failure="raise" the error belongs to the call, not to compilation.
        return self.options.on_failure != "raise"

    def infer_shape(self, fgraph, node, input_shapes: list) -> list:
        return [input_shapes[0]] * self.problem.size

    def L_op(self, inputs: Sequence, outputs: Sequence, output_grads: Sequence) -> list:
        bindings = {
            **dict(zip(self.problem.unknowns, outputs, strict=True)),
            **dict(zip(self.params, inputs, strict=True)),
        }
        if self.problem.size == 1:
            grads = self.equation_gradients(bindings, outputs[0], output_grads[0])
        else:
            grads = self.system_gradients(bindings, outputs, output_grads)
        return [self.tensor.cast(g, x.dtype) for g, x in zip(grads, inputs, strict=True)]

    def equation_gradients(self, bindings: dict, output: object, output_grad: object) -> list:
        """One equation: ``g du/dtheta`` for every parameter (:meth:`implicit_slopes`)."""
        return [output_grad * slope for slope in self.implicit_slopes(bindings, output)]

    def implicit_slopes(self, bindings: dict, output: object) -> list:
        """One equation's ``du/dtheta = -R_theta / R_u`` at the op's ``output`` for every
        parameter, as the library's op computes them best: here
        :meth:`graph_slopes`."""
        return self.graph_slopes(bindings, output)

    def graph_slopes(self, bindings: dict, output: object) -> list:
        """:meth:`implicit_slopes` as a graph, from the partials as printed (a
        simplified quotient of them can overflow where they do not: Black and Scholes'
        ``dsigma/dC`` did). NaN where the solve failed or ``R_u = 0``."""
        tensor = self.tensor
        slope, *partials = self.to_graphs(
            [self.problem.jacobian[0, 0], *self.problem.param_jacobian], bindings
        )
        undefined = tensor.or_(tensor.isnan(output), tensor.eq(slope, 0))
        slope = tensor.switch(undefined, np.nan, slope)
        return [-partial / slope for partial in partials]

    def system_gradients(self, bindings: dict, outputs: Sequence, output_grads: Sequence) -> list:
        """A system's gradient: ``-J_theta^T lam`` with ``J_u^T lam = g``, batched over the
        broadcast shape, from the partials as printed; NaN for every parameter where the
        solve failed. The adjoint system is solved scaled
        (:func:`~implicitop._elementwise_solve.solve_equilibrated`) by
        :meth:`linear_solve`, with the entries of ``dR/du`` that are 0 for every element
        left out."""
        tensor = self.tensor
        disconnected = self.framework.gradient.DisconnectedType
        failed = reduce(tensor.or_, [tensor.isnan(output) for output in outputs])
        cotangents = [
            tensor.zeros_like(output) if isinstance(g.type, disconnected) else g
            for g, output in zip(output_grads, outputs, strict=True)
        ]
        cotangents = [tensor.switch(failed, np.nan, g) for g in cotangents]
        n, k = self.problem.size, len(self.params)
        jacobian, param_jacobian = self.problem.jacobian, self.problem.param_jacobian
        printed = self.to_graphs([*jacobian, *param_jacobian], bindings)
        shape = tensor.zeros_like(outputs[0])
        entries = [entry + shape for entry in printed]
        transposed = [
            [0.0 if jacobian[j, i] == 0 else entries[j * n + i] for j in range(n)] for i in range(n)
        ]
        adjoint = solve_equilibrated(transposed, cotangents, tensor, self.linear_solve(failed))
        partials = entries[n * n :]  # row-major n x k
        return [
            -tensor.add(*(partials[i * k + col] * adjoint[i] for i in range(n))) for col in range(k)
        ]

    def linear_solve(self, failed: object) -> LinearSolve | None:
        """How :meth:`system_gradients` solves its scaled adjoint system, NaN where
        ``failed``: ``None`` for :func:`~implicitop._elementwise_solve.solve_entrywise`,
        entry by entry in element-wise operations (Theano has no batched solve)."""
        return None

    @classmethod
    def built(cls, problem: ImplicitProblem, **options: object) -> TensorImplicitOp:
        """The op of a validated problem with these options (validated here), once its
        gradient is known to print (:meth:`check_gradient_printable`)."""
        cls.check_gradient_printable(problem)
        return cls(problem, ImplicitOptions.build(problem, **options))

    @classmethod
    def check_gradient_printable(cls, problem: ImplicitProblem) -> None:
        """Fail at construction, not inside a sampler, if a partial derivative of the
        residuals (what the gradient is built from) cannot be printed.

        Raises
        ------
        ValueError
            Naming the function the library cannot express.
        """
        symbols = (*problem.unknowns, *problem.params)
        scalars = {s: cls.tensor.dscalar(s.name) for s in symbols}
        with without_test_values(cls.tensor):
            for expression in (*problem.jacobian, *problem.param_jacobian):
                try:
                    cls.to_graphs([expression], scalars)
                except NotImplementedError:
                    missing = sorted(
                        {type(call).__name__ for call in expression.atoms(sp.Function)}
                        - set(cls.printable_functions())
                    )
                    raise ValueError(
                        f"the partial derivative {expression} of the residual uses "
                        f"{', '.join(missing) or 'a function'}, which {cls.library} cannot "
                        "express, so the gradient cannot be built. Rewrite the residual "
                        "without it, or make its value another unknown of a system "
                        "(w = LambertW(x) is the root of w*exp(w) - x)."
                    ) from None
