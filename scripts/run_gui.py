"""PyInstaller entry point of the desktop app."""
import sys

from gui.app import main

sys.exit(main())
