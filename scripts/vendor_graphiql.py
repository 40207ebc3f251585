"""Fetch the GraphiQL page's npm files again and check them (they are committed; run this to
verify them or after changing a version in the page).

    uv run python scripts/vendor_graphiql.py           # download, check, write
    uv run python scripts/vendor_graphiql.py --check   # check the committed files only
    uv run python scripts/vendor_graphiql.py --print-integrity   # for a new version

What to fetch comes from graphql_api/static/graphiql.html: each <script>/<link> tag names
static/graphiql/<package>@<version>/<path> and its sha384 integrity. Each package's tarball comes
from the npm registry through `npm pack` (npm's own configuration: a plant's mirror works), which
checks it against the registry's sha512 integrity, as this script does again; the file taken from
it must then match the tag's sha384, else nothing is written and the script exits 1. The
package's LICENSE is written beside it. To move to a new version: change the version in the
tag, run with --print-integrity, check the printed value against an independent source (the
upstream release, strawberry's page), put it in the tag, and run again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphql_api.graphiql import ASSETS, PAGE, Asset, assets, sha384_integrity

LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "license")


def tarball(package: str, version: str) -> tarfile.TarFile:
    """The package's tarball (`npm pack`), checked against the registry's published sha512."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to fetch the packages (apt-get install npm)")
    with tempfile.TemporaryDirectory() as folder:
        packed = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--pack-destination", folder, "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        if packed.returncode != 0:
            raise SystemExit(f"npm pack {package}@{version} failed:\n{packed.stderr}")
        (info,) = json.loads(packed.stdout)
        data = (Path(folder) / info["filename"]).read_bytes()
    algorithm, _, expected = info["integrity"].partition("-")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if algorithm != "sha512" or actual != expected:
        raise SystemExit(f"{package}@{version}: the tarball does not match {info['integrity']}")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def _member(archive: tarfile.TarFile, path: str) -> bytes | None:
    try:
        found = archive.extractfile(f"package/{path}")
    except KeyError:
        return None
    return None if found is None else found.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify the committed files only")
    mode.add_argument("--print-integrity", action="store_true", help="print each file's sha384")
    args = parser.parse_args()
    wanted = assets(PAGE.read_text(encoding="utf-8"))

    if args.check:
        bad = [a for a in wanted if not a.file.is_file() or _integrity(a.file) != a.integrity]
        for asset in bad:
            print(f"MISMATCH {asset.file}", file=sys.stderr)
        print(f"{len(wanted) - len(bad)}/{len(wanted)} files match the page's integrity")
        return 1 if bad else 0

    by_package: dict[tuple[str, str], list[Asset]] = {}
    for asset in wanted:
        by_package.setdefault((asset.package, asset.version), []).append(asset)
    writes: dict[Path, bytes] = {}
    failed = False
    for (package, version), files in by_package.items():
        archive = tarball(package, version)
        for asset in files:
            data = _member(archive, asset.path)
            if data is None:
                print(f"{package}@{version} has no {asset.path}", file=sys.stderr)
                failed = True
                continue
            integrity = sha384_integrity(data)
            if args.print_integrity:
                print(f"{package}@{version}/{asset.path} {integrity}")
            elif integrity != asset.integrity:
                print(
                    f"{package}@{version}/{asset.path}: {integrity}, the page pins "
                    f"{asset.integrity}",
                    file=sys.stderr,
                )
                failed = True
            writes[asset.file] = data
        for name in LICENSE_NAMES:
            text = _member(archive, name)
            if text is not None:
                writes[ASSETS / f"{package}@{version}" / name] = text
                break
    if failed:
        return 1
    if args.print_integrity:
        return 0
    for path, data in writes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(PAGE.parent.parent.parent)}")
    return 0


def _integrity(path: Path) -> str:
    return sha384_integrity(path.read_bytes())


if __name__ == "__main__":
    sys.exit(main())
