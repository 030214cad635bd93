#!/usr/bin/env python3
"""Lay out the private real-world corpus listed in repos.txt.

usage: layout.py MIRRORS OUT

MIRRORS holds one bare git repository per public repository, named
`owner+name/repo` (as the project's snapshot tool leaves them). OUT (git-ignored,
normally `corpus/`) receives one folder per listed repository at its commit,
named after the repository (`owner+name` if an earlier entry has that name),
and for dbt projects their package dependencies under `dbt_packages/`, resolved
to the highest release tag in range as `dbt deps` would. Nothing is built or
run: files are copied out of git.
"""
import os, re, subprocess, sys

import yaml  # PyYAML

HERE = os.path.dirname(os.path.abspath(__file__))


def git(repo, *args, binary=False):
    out = subprocess.run(["git", "--git-dir", repo, *args], capture_output=True, check=True)
    return out.stdout if binary else out.stdout.decode()


def show(repo, rev, path):
    try:
        return git(repo, "show", f"{rev}:{path}")
    except subprocess.CalledProcessError:
        return None


def extract(repo, rev, dest, subdir=None):
    """Copy the tree at `rev` (or its `subdir`) into `dest`. Blobs the mirror
    lacks (snapshots drop files of 4 MiB and more) are skipped."""
    listing = git(repo, "ls-tree", "-r", "-z", rev, *([subdir] if subdir else []))
    entries = []
    for item in listing.split("\0"):
        if not item:
            continue
        meta, path = item.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob" and mode in ("100644", "100755"):
            entries.append((sha, path))
    batch = subprocess.Popen(["git", "--git-dir", repo, "cat-file", "--batch"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for sha, path in entries:
        batch.stdin.write(sha.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if header[1] == b"missing":
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        target = os.path.join(dest, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
    batch.stdin.close()
    batch.wait()


def mirror_for(mirrors, package):
    owner, name = package.split("/")
    candidates = [f"{owner}+dbt_{name}", f"{owner}+dbt-{name.replace('_', '-')}",
                  f"{owner}+{name.replace('_', '-')}", f"{owner}+{name}"]
    renamed = {"calogica/dbt_date": "godatadriven+dbt-date", "fivetran/twitter_ads": "fivetran+dbt_twitter",
               "elementary-data/elementary": "elementary-data+dbt-data-reliability",
               "fivetran/twitter_ads_source": "fivetran+dbt_twitter_source",
               "get-select/dbt_query_tags": "get-select+dbt-snowflake-query-tags"}
    if package in renamed:
        candidates.insert(0, renamed[package])
    for c in candidates:
        path = os.path.join(mirrors, c, "repo")
        if os.path.isdir(path):
            return path
    return None


def version_key(tag):
    nums = re.findall(r"\d+", tag)
    return tuple(int(n) for n in nums[:3])


def satisfies(tag, spec):
    v = version_key(tag)
    specs = spec if isinstance(spec, list) else [spec]
    for s in specs:
        s = str(s).strip()
        m = re.match(r"(>=|<=|<|>|=)?\s*(.*)", s)
        op, want = m.group(1) or "=", version_key(m.group(2))
        if not want:
            continue
        if op == "=" and v != want: return False
        if op == ">=" and v < want: return False
        if op == ">" and v <= want: return False
        if op == "<" and v >= want: return False
        if op == "<=" and v > want: return False
    return True


def resolve(repo, spec):
    tags = [t for t in git(repo, "tag").split() if re.fullmatch(r"v?\d+\.\d+\.\d+", t)]
    ok = sorted((t for t in tags if satisfies(t, spec)), key=version_key)
    return ok[-1] if ok else "HEAD"


def packages_of(repo, rev, folder=""):
    for name in ("packages.yml", "dependencies.yml"):
        text = show(repo, rev, folder + name)
        if text:
            return (yaml.safe_load(text) or {}).get("packages") or []
    return []


def project_folders(repo, rev):
    """Every folder holding a dbt project, but test and installed ones."""
    names = git(repo, "ls-tree", "-r", "--name-only", rev).splitlines()
    for name in names:
        if name.endswith("dbt_project.yml") and "integration_tests" not in name and "dbt_packages" not in name:
            yield name[: -len("dbt_project.yml")]


def install_deps(mirrors, repo, rev, project_dir, seen, folder=""):
    for pkg in packages_of(repo, rev, folder):
        if "package" not in pkg:
            continue
        dep = mirror_for(mirrors, pkg["package"])
        if dep is None:
            print(f"  missing mirror for {pkg['package']}", file=sys.stderr)
            continue
        tag = resolve(dep, pkg.get("version", ">=0"))
        project = yaml.safe_load(show(dep, tag, "dbt_project.yml"))
        name = project["name"]
        if name in seen:
            continue
        seen.add(name)
        print(f"  package {pkg['package']} -> {name} @ {tag}")
        extract(dep, tag, os.path.join(project_dir, "dbt_packages", name))
        install_deps(mirrors, dep, tag, project_dir, seen)


def folder_names(entries):
    """The corpus folder of each listed repository: its name, or `owner+name`
    when a repository listed earlier in repos.txt already has that name (so the
    first one keeps the plain name and existing folders never move)."""
    taken, names = set(), []
    for _, full, _ in entries:
        name = full.split("/")[1]
        if name in taken:
            name = full.replace("/", "+")
        taken.add(name)
        names.append(name)
    return names


def main():
    mirrors, out = sys.argv[1], sys.argv[2]
    entries = []
    for line in open(os.path.join(HERE, "repos.txt")):
        if not line.strip() or line.startswith("#"):
            continue
        entries.append(tuple(line.split()))
    for (role, full, commit), folder in zip(entries, folder_names(entries)):
        repo = os.path.join(mirrors, full.replace("/", "+"), "repo")
        if os.path.isdir(os.path.join(repo, ".git")):  # snapshot kept as a clone with a work tree
            repo = os.path.join(repo, ".git")
        dest = os.path.join(out, folder)
        if os.path.isdir(dest):
            continue
        print(f"{full} @ {commit[:12]}")
        extract(repo, commit, dest, "sql" if role == "sql" else None)
        if role == "project":
            for folder in project_folders(repo, commit):
                install_deps(mirrors, repo, commit, os.path.join(dest, folder), set(), folder)


if __name__ == "__main__":
    main()
