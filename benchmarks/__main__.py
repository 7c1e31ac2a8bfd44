"""``python -m benchmarks`` (``make bench``): check, time, print the table, write JSON."""
import argparse
import sys

from benchmarks.cases import CASES
from benchmarks.check import CheckFailed
from benchmarks.peers import NNLIB_NUMBA, NNLIB_NUMPY, TORCH, torch_available
from benchmarks.report import render, verdicts, write_json
from benchmarks.run import run


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--cases", nargs="+", choices=[c.name for c in CASES],
                        default=[c.name for c in CASES], help="which cases to run")
    parser.add_argument("--quick", action="store_true",
                        help="a quick look: MNIST case on 6000 rows, 3 rounds")
    parser.add_argument("--repeats", type=int,
                        help="timing rounds, i.e. samples per peer (default: 11 digits, 7 MNIST)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-startup", action="store_true",
                        help="skip the import / first-fit measurements")
    parser.add_argument("--accuracy-repeats", type=int, default=3,
                        help="runs of the time-to-97%% measurement per peer (0: skip it)")
    parser.add_argument("--out", default="build/bench/results.json", help="JSON file to write")
    parser.add_argument("--no-conv", action="store_true",
                        help="skip the convolution case (benchmarks/conv.py; it runs only with every --cases)")
    parser.add_argument("--no-recurrent", action="store_true",
                        help="skip the recurrent case (benchmarks/recurrent.py: chapter 9's character LSTM)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when a speed target is missed (never the default)")
    return parser.parse_args(argv)


def selected_cases(args):
    cases = [c for c in CASES if c.name in args.cases]
    if args.quick:
        cases = [c.shrunk(6000, repeats=3) if c.name == "mnist" else c for c in cases]
    if args.repeats:
        cases = [c.shrunk(c.n_rows, repeats=args.repeats) for c in cases]
    return cases


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    peers = [NNLIB_NUMBA, NNLIB_NUMPY]
    if not args.no_torch:
        if torch_available():
            peers.append(TORCH)
        else:
            print("PyTorch is not installed: its column stays empty "
                  "(make bench installs it: pip install -e '.[bench]').")
    try:
        results = run(selected_cases(args), peers, startup=not args.no_startup, log=print,
                      accuracy_repeats=0 if args.quick else args.accuracy_repeats)
    except CheckFailed as exc:
        print(f"ANSWER CHECK FAILED, nothing was timed: {exc}", file=sys.stderr)
        return 2
    print()
    print(render(results))
    if not args.no_recurrent:  # its own module: a sequence model, not the MLP cases' Case
        from benchmarks.recurrent import run_recurrent
        results["recurrent"] = run_recurrent(torch=not args.no_torch and torch_available(),
                                             repeats=args.repeats or 5, log=print)
    print(f"\nwritten: {write_json(results, args.out)}")
    tta = results.get("time_to_accuracy")
    if tta and not tta["nnlib"]["reached"]:  # a training bug, not a timing
        print(f"ANSWER CHECK FAILED: nnlib never reached {tta['target']:.0%} validation accuracy "
              f"on chapter 5's network (it does in the chapter).", file=sys.stderr)
        return 2
    if not args.no_conv and args.cases == [c.name for c in CASES]:  # all cases: add chapter 8's CNN
        from benchmarks import conv
        conv_result = conv.run_case(repeats=args.repeats or 7, use_torch=not args.no_torch, log=print)
        print(conv.render(conv_result))
        print(f"written: {conv.write_json(conv_result, 'build/bench/conv.json')}")
    missed = [name for name, case in results["cases"].items()
              if any(not met for _, _, _, met in verdicts(case))]
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
