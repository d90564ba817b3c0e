"""`python -m copilot ...`: see copilot/cli.py."""

import sys

from copilot.cli import main

sys.exit(main())
