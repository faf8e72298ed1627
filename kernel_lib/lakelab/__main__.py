import sys

from lakelab.cli import main

sys.exit(main())
