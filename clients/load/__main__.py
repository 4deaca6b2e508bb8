"""`python -m clients.load ...` is `q2c load ...`."""

import sys

from clients.load.command import main

sys.exit(main())
