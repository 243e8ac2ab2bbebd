"""python -m releasekit COMMAND: see releasekit.cli. This module stays tiny: a Ctrl-C while
Python compiles and runs it must still end quietly, so everything is imported under the
handler."""
import sys

# A release starts releasekit some 35 times: the modules it imports from here on (cli and
# the rest; Python has compiled __init__ and this file already) are compiled once, into
# scripts/releasekit/__pycache__ (ignored by git), also where PYTHONDONTWRITEBYTECODE is set.
sys.dont_write_bytecode = False
try:
    from releasekit.cli import main
except KeyboardInterrupt:  # before main's own handler exists: die of SIGINT, quietly
    import os
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)

sys.exit(main())
