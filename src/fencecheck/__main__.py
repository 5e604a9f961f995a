"""``python -m fencecheck`` runs the command line."""

from fencecheck.cli import main

raise SystemExit(main())
