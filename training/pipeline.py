#!/usr/bin/env python3
"""Entry point: /usr/bin/python3 training/pipeline.py [all|train|export|report] [--quick] [--key=value ...]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgesplit_train.pipeline import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
