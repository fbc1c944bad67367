"""Benchmarks (`make bench`, `python -m bench [deploy|scale|router|api ...]`): ours against the raw tool."""
