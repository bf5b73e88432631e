"""`python -m minigan ...`: the same command line as the `minigan` console script."""
import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
