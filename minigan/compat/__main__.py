"""python -m minigan.compat SCRIPT [ARGS]: see runner.py."""
import sys

from .runner import main

sys.exit(main())
