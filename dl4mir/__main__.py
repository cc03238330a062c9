"""``python -m dl4mir`` (what torchrun runs: ``torchrun --nproc_per_node=4 -m dl4mir train cnn``)."""
import sys

from dl4mir.cli import main

sys.exit(main())
