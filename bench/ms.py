#!/usr/bin/env python3
"""Converts a wrk latency ("250.00us", "1.23ms", "1.02s") to milliseconds."""
import sys

value = sys.argv[1]
for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
    if value.endswith(unit):
        print(f"{float(value[: -len(unit)]) * factor:.2f}")
        break
else:
    print(value)
