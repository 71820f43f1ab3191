"""Run by every kernel that executes the docs' pages (conf.py points IPYTHONDIR here).

PyMC logs each step of sampling at INFO ("Sequential sampling (2 chains in 1 job)",
"NUTS: [theta]", "Sampling 2 chains for ... took 3 seconds"): in a notebook that is
progress, on a page it is noise. With a handler on the root logger, PyMC keeps
Python's default level (WARNING) instead of setting its own INFO; the handler passes
warnings only, from any library: PyMC's (divergences, r-hat, effective sample size)
still show.
"""

import logging

handler = logging.StreamHandler()
handler.setLevel(logging.WARNING)
handler.setFormatter(logging.Formatter("%(message)s"))
logging.root.addHandler(handler)
