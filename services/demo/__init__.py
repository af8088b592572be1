"""The demo: a whole target cycle on the real data, driven through REST (`python -m services.demo`).

`run_scenario(system, data_dir, out_dir, ...)` is the driver shared by the demo (embedded mode) and
the e2e test (distributed mode); it returns the summary as a dict.
"""

from services.demo.driver import run_scenario

__all__ = ["run_scenario"]
