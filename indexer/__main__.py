"""`python -m indexer [--no-follow]`: the indexer without the CLI's progress bar (logs only)."""

from __future__ import annotations

import argparse
import logging
import sys

from indexer.errors import IndexerError
from indexer.runner import run
from silktrace.config import Settings


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__)
    parser.add_argument("--no-follow", action="store_true", help="stop once caught up")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        run(Settings(), follow=not args.no_follow)
    except IndexerError as exc:
        logging.error("%s: %s", exc.code, exc.message)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
