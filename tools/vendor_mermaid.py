"""Put mermaid, the diagram library of the documentation site, into the site itself.

mkdocs-material draws the ```` ```mermaid ```` blocks with mermaid, which it loads from a
CDN unless a ``mermaid`` script is already on the page. ``mkdocs.yml`` lists the copy this
script writes (``docs/assets/vendor/mermaid/mermaid.min.js``, with mermaid's licence) in
``extra_javascript``, so the built site needs no network: offline, behind a firewall, or
served under a sub-path, the diagrams render and nothing waits for a CDN.

mermaid is not ours, so the repository does not hold it: ``docs/assets/vendor/`` is
ignored by git, and ``python3 dev.py check`` runs this script before it builds the docs
(``--if-missing``: nothing is fetched when the right file is already there). It takes
mermaid's own build, unmodified, from the npm registry's tarball of ``VERSION``, checks
it against the registry's published integrity hash, and checks the file against
``FILE_SHA256``. Run it yourself before ``mkdocs serve`` on a fresh clone. To update it:
set ``VERSION`` and ``TARBALL_SHA512`` (``npm view mermaid@<version> dist.integrity``),
run ``python3 tools/vendor_mermaid.py``, set ``FILE_SHA256`` to what it prints, and look
at the two diagrams of the site (``docs/guide/index.md``, ``docs/guide/tracking.md``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "11.17.2"  # mkdocs-material asks for mermaid 11
TARBALL = f"https://registry.npmjs.org/mermaid/-/mermaid-{VERSION}.tgz"
TARBALL_SHA512 = (
    "V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg=="
)
FILE_SHA256 = "581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"
DESTINATION = Path(__file__).resolve().parents[1] / "docs" / "assets" / "vendor" / "mermaid"
FILES = {"package/dist/mermaid.min.js": "mermaid.min.js", "package/LICENSE": "LICENSE"}


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def present() -> bool:
    """Whether the right mermaid build (and its licence) is already in place."""
    script, licence = DESTINATION / "mermaid.min.js", DESTINATION / "LICENSE"
    return script.is_file() and licence.is_file() and sha256(script) == FILE_SHA256


def main(argv: list[str] | None = None) -> int:
    """Download, verify and write mermaid's build and licence; print the file's hash.

    With ``--if-missing``, do nothing when `present` already says the file is right.
    """
    args = sys.argv[1:] if argv is None else argv
    if "--if-missing" in args and present():
        print(f"mermaid {VERSION} is in {DESTINATION}")
        return 0
    with urllib.request.urlopen(TARBALL, timeout=120) as response:
        tarball = response.read()
    integrity = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if integrity != TARBALL_SHA512:
        print(f"{TARBALL}: sha512 {integrity}, expected {TARBALL_SHA512}", file=sys.stderr)
        return 1
    DESTINATION.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for member, name in FILES.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                print(f"{member} is not in {TARBALL}", file=sys.stderr)
                return 1
            (DESTINATION / name).write_bytes(extracted.read())
    print(f"mermaid {VERSION} written to {DESTINATION}")
    digest = sha256(DESTINATION / "mermaid.min.js")
    print(f"FILE_SHA256 = {digest!r}")
    if "--if-missing" in args and digest != FILE_SHA256:
        print(f"expected FILE_SHA256 = {FILE_SHA256!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
