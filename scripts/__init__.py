"""Helper scripts for the file-transfer lab (reports, benchmarks, captures, network lab)."""
