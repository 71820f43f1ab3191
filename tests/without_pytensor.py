"""Run a core scenario with PyTensor, PyMC and sympytensor made uninstalled.

``python without_pytensor.py solve`` solves the seed problem with
:func:`implicitop.solve`; ``python without_pytensor.py jax`` builds a plain
JAX root function on the core with SymPy's JAX printer and differentiates it. Each
prints ``solved`` after checking against Brent's method and the seed page's
derivative, and that no hidden package was imported.
"""

import sys

HIDDEN = {"pytensor", "pymc", "sympytensor"}


class Hidden:
    """A meta-path finder that makes the hidden packages uninstalled."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden)", name=name)


sys.meta_path.insert(0, Hidden())

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402
from scipy import optimize  # noqa: E402

import implicitop._problem  # noqa: E402
import implicitop._solvers  # noqa: E402


def seed_root(theta: float) -> float:
    """Brent's method on the seed's log-form residual."""

    def log_residual(mu: float) -> float:
        return np.log(mu) + np.logaddexp(0.0, theta * mu)

    return optimize.brentq(log_residual, 1e-300, 1.0, xtol=1e-300, rtol=8.9e-16)


def seed_derivative(theta: float) -> float:
    """The seed page's dmu/dtheta = -mu**2 / (1 + theta*mu + exp(-theta*mu))."""
    mu = seed_root(theta)
    return -(mu**2) / (1 + theta * mu + np.exp(-theta * mu))


def seed_problem() -> implicitop._problem.ImplicitProblem:
    mu, theta = sp.symbols("mu theta", positive=True)
    return implicitop._problem.ImplicitProblem.build(mu + mu * sp.exp(theta * mu) - 1, mu, theta)


def solve() -> None:
    thetas = np.array([1e-5, 0.4, 1e5, -1.0])
    result = implicitop._solvers.solve(seed_problem(), thetas)
    expected = [seed_root(t) for t in thetas[:3]]
    np.testing.assert_allclose(result.root[:3], expected, rtol=1e-13)
    outside = implicitop._solvers.SolveStatus.PARAMETER_OUTSIDE_DOMAIN
    assert list(result.status) == [0, 0, 0, outside]


def jax() -> None:
    import jax

    from implicitop._jax import root_function
    from implicitop._options import ImplicitOptions

    jax.config.update("jax_enable_x64", True)
    problem = seed_problem()
    solver = implicitop._solvers.Solver(problem, ImplicitOptions.build(problem))
    roots = root_function(solver, lambda exprs, symbols: sp.lambdify(symbols, exprs, "jax"))
    thetas = np.array([0.2, 3.0])
    values = jax.jit(roots)(thetas)[:, 0]
    np.testing.assert_allclose(values, [seed_root(t) for t in thetas], rtol=1e-13)
    gradient = jax.jit(jax.grad(lambda t: roots(t).sum()))(thetas)
    np.testing.assert_allclose(gradient, [seed_derivative(t) for t in thetas], rtol=1e-12)


if __name__ == "__main__":
    {"solve": solve, "jax": jax}[sys.argv[1]]()
    assert not HIDDEN & {name.split(".")[0] for name in sys.modules}, "a hidden package loaded"
    print("solved")
