"""The charset rules on real pages: stray bytes in declared UTF-8, mislabelled legacy pages.

    python -m bench.charset_bench --data DATA [--save FILE] [--compare FILE]

DATA holds ``aeb/html/*.html.gz`` and ``wcxb/dev/html/*.html.gz`` (pages as crawled).
Three measurements, each on the pages whose bytes are valid UTF-8 with non-ASCII text:

* stray: ``k`` invalid bytes (a Latin-1 é, 0xff, a lone continuation byte, a cut lead
  byte) put at random spaces of the page, declared UTF-8 in the HTTP header: how many
  pages still decode as UTF-8 (the right answer: the rest of the page is UTF-8);
* lie: the page re-encoded in a legacy charset of its script (cp1252, cp1251, gbk ...,
  characters it lacks as character references), still declared UTF-8 by the HTTP header
  and its own ``<meta>``: how many decode to exactly the legacy text;
* as crawled: every page's bytes as stored, with and without an HTTP ``charset=utf-8``;
  ``--save`` writes a hash of each decoded text, ``--compare`` counts pages whose
  decoding differs from a saved run (run it before and after a rule change).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from worker.decode.charset import decode_bytes

STRAY_COUNTS = (1, 2, 5, 20)
STRAY_BYTES = (b"\xe9", b"\xff", b"\x80", b"\xc3 ")
UTF8_HTTP = [("http", "utf-8")]
# A legacy charset per script of the page's letters, the one a site of that script used.
LEGACY_BY_SCRIPT = {
    "LATIN": "cp1252",
    "CYRILLIC": "cp1251",
    "GREEK": "cp1253",
    "HEBREW": "cp1255",
    "ARABIC": "cp1256",
    "THAI": "cp874",
    "CJK": "gbk",
    "HIRAGANA": "shift_jis",
    "KATAKANA": "shift_jis",
    "HANGUL": "euc-kr",
}


def pages(data: Path) -> Iterator[tuple[str, bytes]]:
    for folder in (data / "aeb" / "html", data / "wcxb" / "dev" / "html"):
        for path in sorted(folder.glob("*.html.gz")):
            yield f"{folder.parent.name}/{path.name}", gzip.decompress(path.read_bytes())


def script_of(text: str) -> str | None:
    """The script most of the page's non-ASCII letters are in."""
    scripts: Counter[str] = Counter()
    for char in text:
        if ord(char) > 127 and char.isalpha():
            name = unicodedata.name(char, "").split(" ")[0]
            scripts[name] += 1
    if not scripts:
        return None
    script = scripts.most_common(1)[0][0]
    if script == "LATIN" and sum(scripts.values()) > 0:  # central European letters
        latin = [
            c for c in text if ord(c) > 255 and c.isalpha() and "LATIN" in unicodedata.name(c, "")
        ]
        if len(latin) > len(text) // 2000:
            return "LATIN-2"
    return script


def legacy_codec(script: str | None) -> str | None:
    if script == "LATIN-2":
        return "cp1250"
    return LEGACY_BY_SCRIPT.get(script or "")


def with_stray_bytes(data: bytes, k: int, rng: random.Random) -> bytes:
    spaces = [i for i in range(len(data)) if data[i] == 0x20]
    if not spaces:
        return data
    chosen = sorted(rng.sample(spaces, min(k, len(spaces))), reverse=True)
    out = bytearray(data)
    for n, at in enumerate(chosen):
        out[at:at] = STRAY_BYTES[n % len(STRAY_BYTES)]
    return bytes(out)


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stray_kept: Counter[int] = Counter()
    lie_total: Counter[str] = Counter()
    lie_right: Counter[str] = Counter()
    lie_codecs: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    hashes: dict[str, str] = {}
    for name, data in pages(args.data):
        counts["pages"] += 1
        for declared, label in (([], "meta"), (UTF8_HTTP, "http")):
            text, codec, source = decode_bytes(data, declared)
            hashes[f"{label}:{name}"] = f"{codec}:{source}:{digest(text)}"
        try:
            original = data.decode("utf-8")
        except UnicodeDecodeError:
            counts["not_utf8"] += 1
            continue
        if original.isascii():
            counts["ascii"] += 1
            continue
        counts["utf8_non_ascii"] += 1
        for k in STRAY_COUNTS:
            _, codec, _ = decode_bytes(with_stray_bytes(data, k, rng), UTF8_HTTP)
            stray_kept[k] += codec == "utf-8"
        codec = legacy_codec(script_of(original))
        if codec is None:
            continue
        legacy = original.encode(codec, "xmlcharrefreplace")
        expected = legacy.decode(codec)
        text, got, _ = decode_bytes(legacy, UTF8_HTTP)
        lie_total[codec] += 1
        lie_right[codec] += text == expected
        lie_codecs[f"{codec}->{got}"] += 1
    n = counts["utf8_non_ascii"]
    report = {
        "pages": dict(counts),
        "stray_bytes_kept_utf8": {k: f"{stray_kept[k]}/{n}" for k in STRAY_COUNTS},
        "legacy_labelled_utf8_recovered": {
            c: f"{lie_right[c]}/{lie_total[c]}" for c in sorted(lie_total)
        },
        "legacy_decoded_as": dict(lie_codecs.most_common()),
    }
    if args.compare:
        before = json.loads(args.compare.read_text())
        changed = [key for key, value in hashes.items() if before.get(key) != value]
        report["as_crawled_changed"] = {
            "meta_only": sum(key.startswith("meta:") for key in changed),
            "http_utf8": sum(key.startswith("http:") for key in changed),
            "pages": changed[:20],
        }
    if args.save:
        args.save.write_text(json.dumps(hashes))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
