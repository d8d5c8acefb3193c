#!/usr/bin/env python3
"""The cold scenario: N clients ask URL at once; prints the time until all are answered and
the count of errors. usage: cold.py URL N"""
import sys
import threading
import time
import urllib.request

url, n = sys.argv[1], int(sys.argv[2])
barrier = threading.Barrier(n + 1)
errors = []
lock = threading.Lock()


def client():
    barrier.wait()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
    except Exception as e:  # noqa: BLE001 - every failure counts as an error
        with lock:
            errors.append(str(e))


threads = [threading.Thread(target=client) for _ in range(n)]
for t in threads:
    t.start()
barrier.wait()
start = time.monotonic()
for t in threads:
    t.join()
elapsed = (time.monotonic() - start) * 1000
print(f"all {n} answered in {elapsed:.0f} ms, {len(errors)} errors")
