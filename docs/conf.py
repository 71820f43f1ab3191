"""Sphinx configuration: pydata-sphinx-theme, numpydoc API pages, MyST-NB tutorials
executed at build time (``make docs``, warnings are errors)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
os.environ.setdefault("PYTENSOR_FLAGS", "")

project = "implicitop"
author = "the implicitop developers"
copyright = "2026, the implicitop developers"
release = "0.1.0"

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
]
html_theme = "pydata_sphinx_theme"
html_title = "implicitop"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
exclude_patterns = ["_build", "jupyter_execute"]

# Notebooks: MyST markdown pages with code cells, executed on every build.
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]

# API pages from the numpydoc docstrings.
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's public names are its __all__
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "exclude-members": "set",  # matplotlib writes one per Figure subclass (ShownFigure)
}
# PyTensor's and Theano's base-class docstrings are not numpydoc; ours are.
autodoc_inherit_docstrings = False
# implicitop.theano documents itself here without Theano, which lives in the legacy
# environment only.
autodoc_mock_imports = ["theano"]
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()
