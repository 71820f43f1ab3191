"""The kernels that execute the docs' pages (conf.py points IPYTHONDIR here).

The build starts each page's kernel as Jupyter does by default, over TCP on
127.0.0.1, and ipykernel warns of that unencrypted transport at every start: eighteen
times in a build, about kernels that listen on this machine only, for the seconds a
page takes. The kernel application's own log shows errors only; what the cells write,
their warnings included, is the page's output as before.
"""

c = get_config()  # noqa: F821 (IPython's config loader defines it)
c.IPKernelApp.log_level = "ERROR"
