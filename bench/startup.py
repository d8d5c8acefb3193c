#!/usr/bin/env python3
"""Start-up time: runs COMMAND, polls URL every millisecond, prints the milliseconds from exec
to the first 200, then stops the process. usage: startup.py URL -- COMMAND..."""
import subprocess
import sys
import time
import urllib.request

url = sys.argv[1]
command = sys.argv[sys.argv.index("--") + 1 :]
start = time.monotonic()
process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = start + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    print(f"{(time.monotonic() - start) * 1000:.0f}")
                    break
        except OSError:
            time.sleep(0.001)
    else:
        print("timeout")
finally:
    process.terminate()
    process.wait(timeout=10)
