"""Benchmarks (`make bench`, `python -m bench [deploy|scale|router|api|host ...]`): ours against the raw tool."""
