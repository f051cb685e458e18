"""Entry point of each launched process: `python -m cardrepro.train.worker '<json opts>'`."""
import sys

from cardrepro.errors import CardError


def main():
    import json

    from cardrepro.train import train
    opts = json.loads([a for a in sys.argv[1:] if not a.startswith("--local_rank")][-1])
    try:
        return train.main(opts)
    except CardError as err:
        print(str(err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
