"""python -m releasekit COMMAND: see releasekit.cli. This module stays tiny: a Ctrl-C while
Python compiles and runs it must still end quietly, so everything is imported under the
handler."""
import sys

try:
    from releasekit.cli import main
except KeyboardInterrupt:  # before main's own handler exists: die of SIGINT, quietly
    import os
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)

sys.exit(main())
