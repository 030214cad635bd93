#!/usr/bin/env python3
"""The judged-findings ledger of the private real-world corpus.

usage:
  ledger.py list RUN [RUN...]     every metric finding (ML001-ML005, ML010, ML013) of the runs (folders written by
                                  run.sh), one block each, unjudged ones marked,
                                  for a reviewer to judge
  ledger.py tally RUN [RUN...]    per run: findings, true, debatable, false,
                                  unjudged
  ledger.py add FILE              merge a reviewer's verdicts into verdicts.tsv;
                                  FILE lines: `KEY | verdict | reason` where KEY
                                  is as `list` prints it

A finding's key is `repository/path:line:code:metric`: the corpus is pinned at
commits, so a key names one expression for as long as repos.txt is unchanged.
verdicts.tsv (committed) keeps one verdict per key, `true`, `debatable` or
`false`, with the reviewer's one-line reason; never the repositories' code.
"""
import glob, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
VERDICTS = os.path.join(HERE, "verdicts.tsv")
KINDS = ("true", "debatable", "false")
# The metric rules, whose findings are judged; the rest (parse errors,
# integer division, names) are counted by run.sh.
METRIC_CODES = {"ML001", "ML002", "ML003", "ML004", "ML005", "ML010", "ML013"}


def findings(run):
    for path in sorted(glob.glob(os.path.join(run, "*.json"))):
        repo = os.path.basename(path)[:-5]
        try:
            doc = json.load(open(path))
        except ValueError:
            continue
        for f in (f for f in doc["findings"] if f["code"] in METRIC_CODES):
            key = f"{repo}/{f['path'].removeprefix('./')}:{f['line']}:{f['code']}:{f['metric']}"
            yield key, repo, f


def verdicts():
    out = {}
    if os.path.exists(VERDICTS):
        for line in open(VERDICTS):
            if line.startswith("#") or not line.strip():
                continue
            key, verdict, reason = line.rstrip("\n").split("\t", 2)
            out[key] = (verdict, reason)
    return out


def list_runs(runs):
    known = verdicts()
    seen = set()
    for run in runs:
        for key, repo, f in findings(run):
            if key in seen:
                continue
            seen.add(key)
            verdict = known.get(key, ("UNJUDGED", ""))[0]
            print(f"== {key}  [{verdict}]")
            print(f"   corpus/{repo}/{f['path'].removeprefix('./')} line {f['line']}-{f['end_line']}")
            print(f"   {f['message']}")
            for r in f.get("related", []):
                print(f"   related: {r['path']}:{r['line']} {r['message']}")
            print()


def tally(runs):
    known = verdicts()
    print(f"{'run':30} {'findings':>8} {'true':>5} {'debat':>5} {'false':>5} {'unjudged':>8}")
    for run in runs:
        counts = dict.fromkeys(KINDS + ("unjudged",), 0)
        total = 0
        for key, _, _ in findings(run):
            total += 1
            counts[known.get(key, ("unjudged",))[0]] += 1
        print(f"{os.path.basename(run.rstrip('/')):30} {total:8} {counts['true']:5} "
              f"{counts['debatable']:5} {counts['false']:5} {counts['unjudged']:8}")


def add(file):
    known = verdicts()
    for line in open(file):
        # A key or a reason may hold a `|` of its own: the verdict between
        # two of them is what splits the line.
        m = re.match(r"^(.*?)\s+\|\s+(true|debatable|false)\s+\|\s+(.*)$", line.strip(), re.I)
        if m:
            known[m.group(1)] = (m.group(2).lower(), m.group(3).replace("\t", " "))
    with open(VERDICTS, "w") as out:
        out.write("# key\tverdict\treason (see ledger.py)\n")
        for key in sorted(known):
            out.write(f"{key}\t{known[key][0]}\t{known[key][1]}\n")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"list": list_runs, "tally": tally, "add": lambda a: add(a[0])}[command](args)
