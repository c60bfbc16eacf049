#!/usr/bin/env bash
# How long the sandbox takes to stop after Ctrl-C in a terminal with no input pending
# (issue 16: within 1 s). Runs `tgscript run scripts/` in a pseudo-terminal N times (default
# 5), types one line, waits until the sandbox chat is blocked reading the next, presses Ctrl-C
# and times until the process has exited; prints each time and the median. BIN= picks the
# binary (default target/release/tgscript).
#   benches/scripts/ctrl_c.sh [N]     (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 - "${1:-5}" <<'PY'
import os, pty, select, signal, statistics, sys, time

def once():
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.pop("TELOXIDE_TOKEN", None)
        os.environ["TGSCRIPT_LOG"] = "info"
        bin = os.environ.get("BIN", "target/release/tgscript")
        os.execv(bin, [bin, "run", "scripts"])
    out = b""
    def until(needle, limit=30):
        nonlocal out
        end = time.time() + limit
        while needle not in out:
            if time.time() > end:
                raise SystemExit(f"timed out waiting for {needle!r}:\n{out.decode(errors='replace')}")
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
    until(b"Ctrl-C stops")
    os.write(fd, b"hello\n")
    until(b"#1 alice: hello")
    # A usage error is answered at once and the console reads on: it is now blocked reading.
    os.write(fd, b"/as\n")
    until(b"usage: /as")
    time.sleep(0.5)
    pressed = time.time()
    os.write(fd, b"\x03")
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if select.select([fd], [], [], 0.01)[0]:
            try:
                os.read(fd, 4096)
            except OSError:
                pass
        if time.time() - pressed > 30:
            os.kill(pid, signal.SIGKILL)
            raise SystemExit("still running 30 s after Ctrl-C")
    os.close(fd)
    return time.time() - pressed

times = [once() for _ in range(int(sys.argv[1]))]
print("ctrl-c to exit:", " ".join(f"{t*1000:.0f} ms" for t in times))
print(f"median {statistics.median(times)*1000:.0f} ms")
PY
