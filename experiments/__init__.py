"""Experiments: sweeps and replications on a local process pool or Dask, the results store,
statistics and reports (their own issue)."""

__all__: list[str] = []
