"""Sphinx configuration: pydata-sphinx-theme, numpydoc API pages, MyST-NB tutorials
executed at build time (``make docs``, warnings are errors)."""

import os
import sys
from pathlib import Path

import implicitop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
os.environ.setdefault("PYTENSOR_FLAGS", "")
# Executed cells print no progress bars, and tqdm's import does not warn that the
# notebook widget (ipywidgets) is missing. ArviZ (imported with PyMC) warns of its
# coming refactor at its first import of each day on a machine: on whichever page
# imports it first, with the path of its install.
os.environ.setdefault("TQDM_DISABLE", "1")
QUIET = ["ignore:IProgress not found", "ignore::FutureWarning:arviz"]
os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), *QUIET]))
# The kernels' IPython profile: PyMC's INFO log of each sampling step is left out of
# the pages (docs/_ipython/profile_default/startup), and the kernel application logs
# its errors only (ipython_kernel_config.py there).
os.environ["IPYTHONDIR"] = str(ROOT / "docs" / "_ipython")
# A page's kernel ends seconds after its last cell: a full solver compiled in the
# background (4-8 s of CPU each, five in a fresh build) would not be ready before
# then, and its numbers are the shared solver's, bit for bit. It would only take
# the CPU from the other pages and, in `make test`, from the test suites.
os.environ.setdefault("IMPLICITOP_BACKGROUND_COMPILE", "0")

project = "implicitop"
author = "the implicitop developers"
copyright = "2026, the implicitop developers"
release = version = implicitop.__version__

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax served from the site itself (_static/mathjax), so equations render offline.
    "sphinx-mathjax-offline",
]
html_theme = "pydata_sphinx_theme"
html_title = f"implicitop {version}"
html_static_path = ["_static"]
html_css_files = ["implicitop.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "navbar_align": "left",
    "footer_start": ["copyright", "sphinx-version"],
}
html_context = {"default_mode": "light"}
# Pages without siblings in their section have no left navigation to show.
html_sidebars = {"getting_started": [], "index": []}
exclude_patterns = ["_build", "jupyter_execute", "_ipython"]
# Every cross-reference must resolve. Names of other libraries (NumPy, SymPy, PyTensor,
# matplotlib, ...) are left as plain text: their inventories would need the network.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(np|numpy|sp|sympy|pt|pytensor|theano|tt|jax|jnp|da|dask|st|hypothesis)\..*"),
    (r"py:.*", r"(matplotlib|mpl_toolkits|arviz|pymc|pm|scipy|collections|typing)\..*"),
    (r"py:.*", r"(Figure|Axes|Apply|Variable|TensorVariable|Op|Expr|Symbol|Basic|Matrix)"),
    (r"py:.*", r"(ndarray|ArrayLike|Callable|Sequence|Mapping|Iterable|Collection|Any)"),
    (r"py:.*", r"(optional|array_like|array-like|callable|sequence|mapping|default.*)"),
    (r"py:.*", r"(float|int|str|bool|dict|list|tuple|object|None|type|bytes)"),
    # Internal types that appear in public signatures show as text.
    (r"py:.*", r"(implicitop\.(\w+\.)?_.*|Ranges|ProblemKernels)"),
]

# Notebooks: MyST markdown pages with code cells, executed on every build.
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]

# API pages from the numpydoc docstrings.
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's public names are its __all__
# The reference pages name the members they document, one directive each.
# PyTensor's and Theano's base-class docstrings are not numpydoc; ours are.
autodoc_inherit_docstrings = False
# implicitop.theano documents itself here without Theano, which lives in the legacy
# environment only.
autodoc_mock_imports = ["theano"]
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
python_use_unqualified_type_names = True
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()
