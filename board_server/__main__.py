import sys

from board_server.cli import main

sys.exit(main())
