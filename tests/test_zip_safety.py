"""Release zips are untrusted input: every class of malicious or damaged
archive is refused with a PackageError naming the bad entry, before anything
is extracted outside a private temporary folder; a zip `sifc build` writes
loads. The malicious archives are made here with the stdlib zipfile (and a
few bytes patched in the central directory where zipfile will not write the
lie itself)."""
from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import unicodedata
import warnings
import zipfile
from pathlib import Path

import pytest

import sifc
from conftest import ROOT, copy_package
from sifc.files import fetch
from sifc.files.package import PackageError

PREFIX = "shanghai-ifc-1.0.0/"
SIFC = Path(sys.executable).with_name("sifc")


# ---------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def built_zip(tmp_path_factory) -> Path:
    """The release zip of a copy of the package, written by `sifc build` itself."""
    base = tmp_path_factory.mktemp("build")
    root = copy_package(base / "pkg")
    for extra in ("README.md", "CHANGELOG.md", "LICENSE"):
        if (ROOT / extra).is_file():
            (root / extra).write_bytes((ROOT / extra).read_bytes())
    out = base / "dist"
    run = subprocess.run([str(SIFC), "build", str(root), "--out", str(out), "--no-validate"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    (archive,) = out.glob("*.zip")
    return archive


@pytest.fixture
def files(tmp_path) -> dict[str, bytes]:
    """The package's descriptor, schemas and data, by path inside the package folder."""
    root = copy_package(tmp_path / "src")
    out = {"datapackage.json": (root / "datapackage.json").read_bytes()}
    for folder in ("schemas", "data"):
        for path in sorted((root / folder).iterdir()):
            out[f"{folder}/{path.name}"] = path.read_bytes()
    return out


def manifest_of(files: dict[str, bytes]) -> dict:
    return {rel: {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
            for rel, data in files.items()}


def make_zip(path: Path, files: dict[str, bytes], extra=(), manifest="auto", prefix: str = PREFIX,
             compression=zipfile.ZIP_DEFLATED) -> Path:
    """A release zip of `files` under `prefix` with a correct MANIFEST.json
    (or `manifest`: a dict or bytes written instead, None for none), plus
    `extra` entries (name or ZipInfo, data) that the manifest does not list."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names; that is the point
        with zipfile.ZipFile(path, "w", compression) as z:
            for rel, data in files.items():
                z.writestr(prefix + rel, data)
            for name, data in extra:
                z.writestr(name, data)
            if manifest is not None:
                body = manifest_of(files) if manifest == "auto" else manifest
                z.writestr(prefix + "MANIFEST.json", body if isinstance(body, bytes) else json.dumps(body))
    return path


CENTRAL = {"flags": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"), "csize": (20, "<I"),
           "usize": (24, "<I"), "attr": (38, "<I")}


def patch_central(path: Path, name: str, **fields) -> None:
    """Overwrite fields of `name`'s central-directory record (what zipfile trusts)."""
    data = bytearray(path.read_bytes())
    pos, found = 0, False
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        length = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + length] == name.encode():
            for key, value in fields.items():
                offset, fmt = CENTRAL[key]
                struct.pack_into(fmt, data, pos + offset, value)
            found = True
        pos += 4
    assert found, name
    path.write_bytes(bytes(data))


def refused(source, *fragments):
    """Loading `source` raises PackageError; returns its message after checking
    that it is one line and names every fragment."""
    with pytest.raises(PackageError) as info:
        fetch.open_zip(str(source))
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------- what loads

def test_zip_written_by_sifc_build_loads(built_zip):
    names = zipfile.ZipFile(built_zip).namelist()
    assert {"datapackage.json", "MANIFEST.json", "README.md"} <= set(names)  # a Frictionless zipped package
    package = fetch.open_zip(str(built_zip))
    assert set(package.resources) == set(sifc.tables())
    assert len(sifc.load("measures", source=str(built_zip))) == sum(1 for _ in open(ROOT / "data" / "measures.csv", encoding="utf-8")) - 1  # every row of the CSV
    assert len(sifc.load("people", source=built_zip, validate=False)) == 12  # a Path works too


def test_handmade_release_zip_loads(tmp_path, files):
    """The baseline every malicious archive below departs from."""
    archive = make_zip(tmp_path / "good.zip", files)
    assert len(sifc.load("themes", source=str(archive), validate=False)) > 0


def test_zip_with_folder_entries_and_root_package_loads(tmp_path, files):
    archive = make_zip(tmp_path / "flat.zip", files, prefix="",
                       extra=[("data/", b""), ("schemas/", b"")])
    assert "people" in fetch.open_zip(str(archive)).resources


# ---------------------------------------------------------------- names

def test_duplicate_entry_names_are_refused(tmp_path, files):
    archive = make_zip(tmp_path / "dup.zip", files, extra=[(PREFIX + "data/people.csv", b"id\nx\n")])
    refused(archive, f"'{PREFIX}data/people.csv'", "appears twice")


def test_names_differing_only_in_case_clash(tmp_path, files):
    archive = make_zip(tmp_path / "case.zip", files, extra=[(PREFIX + "data/People.csv", b"id\n")])
    refused(archive, f"'{PREFIX}data/People.csv'", f"'{PREFIX}data/people.csv'", "clash")


def test_names_differing_only_in_unicode_form_clash(tmp_path, files):
    composed = unicodedata.normalize("NFC", "café.md")
    decomposed = unicodedata.normalize("NFD", "café.md")
    files[composed] = b"a"
    archive = make_zip(tmp_path / "nfc.zip", files, extra=[(PREFIX + decomposed, b"b")])
    message = refused(archive, "clash", PREFIX + composed)
    assert ascii(PREFIX + decomposed) in message  # the difference is visible


def test_folders_differing_in_case_clash(tmp_path, files):
    archive = make_zip(tmp_path / "folders.zip", files, extra=[(PREFIX + "Data/extra.csv", b"id\n")])
    refused(archive, f"'{PREFIX}Data/extra.csv'", "clashes")


def test_a_file_that_is_also_a_folder_clashes(tmp_path, files):
    archive = make_zip(tmp_path / "filefolder.zip", files,
                       extra=[(PREFIX + "docs", b"x"), (PREFIX + "docs/a.md", b"y")])
    refused(archive, f"'{PREFIX}docs", "also a file")


@pytest.mark.parametrize("name, why", [
    ("../escape.txt", "'..'"),
    (PREFIX + "data/../../escape.txt", "'..'"),
    ("/etc/cron.d/evil", "absolute"),
    ("C:/Windows/evil.dll", "drive letter"),
    (PREFIX + "data\\..\\..\\evil.csv", "backslash"),
    (PREFIX + "data//people2.csv", "empty or '.'"),
    (PREFIX + "./data/x.csv", "empty or '.'"),
])
def test_escaping_and_odd_paths_are_refused(tmp_path, files, name, why):
    archive = make_zip(tmp_path / "evil.zip", files, extra=[(name, b"x")])
    refused(archive, why, f"'{name}'")
    assert not (tmp_path / "escape.txt").exists()


def test_nul_in_an_entry_name_is_refused(tmp_path, files):
    archive = make_zip(tmp_path / "nul.zip", files, extra=[(PREFIX + "data/aXb.csv", b"x")])
    archive.write_bytes(archive.read_bytes().replace(b"data/aXb.csv", b"data/a\x00b.csv"))
    refused(archive, "NUL", "data/a\\u0000b.csv")


def test_local_header_name_differing_from_the_directory_is_refused(tmp_path, files):
    """The central directory says docs/notes.md, the entry's own header says
    ../../aaa…notes.md: the archive is refused when the entry is reached."""
    files["docs/notes.md"] = b"notes"
    archive = make_zip(tmp_path / "twonames.zip", files)
    data = archive.read_bytes()
    local = data.index((PREFIX + "docs/notes.md").encode())  # the local header comes first
    evil = ("../../" + "a" * (len(PREFIX + "docs/notes.md") - 14) + "notes.md").encode()
    archive.write_bytes(data[:local] + evil + data[local + len(evil):])
    refused(archive, f"'{PREFIX}docs/notes.md'", "cannot be read")
    assert not (tmp_path / "notes.md").exists()


def test_symlink_entry_is_refused(tmp_path, files):
    link = zipfile.ZipInfo(PREFIX + "data/link.csv")
    link.create_system = 3
    link.external_attr = (0o120777) << 16  # S_IFLNK | 0777
    archive = make_zip(tmp_path / "link.zip", files, extra=[(link, "/etc/passwd")])
    refused(archive, f"'{PREFIX}data/link.csv'", "symbolic link")


def test_encrypted_entry_is_refused(tmp_path, files):
    archive = make_zip(tmp_path / "enc.zip", files)
    patch_central(archive, PREFIX + "data/people.csv", flags=0x1)
    refused(archive, f"'{PREFIX}data/people.csv'", "encrypted")


def test_unknown_compression_method_is_refused(tmp_path, files):
    archive = make_zip(tmp_path / "method.zip", files)
    patch_central(archive, PREFIX + "data/people.csv", method=99)
    refused(archive, f"'{PREFIX}data/people.csv'", "compression method 99")


# ---------------------------------------------------------------- sizes

def test_zip_bomb_by_ratio_is_refused(tmp_path, files):
    files["docs/zeros.txt"] = bytes(4 * 1024 * 1024)  # 4 MiB of zeros deflate to a few KiB
    archive = make_zip(tmp_path / "bomb.zip", files)
    refused(archive, f"'{PREFIX}docs/zeros.txt'", "zip bomb")


def test_total_uncompressed_size_is_bounded(tmp_path, files, monkeypatch):
    archive = make_zip(tmp_path / "big.zip", files)
    monkeypatch.setattr(fetch, "MAX_TOTAL_BYTES", 20_000)
    refused(archive, "entry '" + PREFIX, "declare", "more than the limit of 20,000")


def test_number_of_entries_is_bounded(tmp_path, files, monkeypatch):
    archive = make_zip(tmp_path / "many.zip", files)
    monkeypatch.setattr(fetch, "MAX_ENTRIES", 5)
    refused(archive, "entries, more than the limit of 5")


def test_declared_size_smaller_than_the_data_is_caught_while_reading(tmp_path, files):
    """The central directory says 100 bytes (so no size or ratio check fires);
    reading stops at 100 and the CRC of what was read does not match."""
    manifest = manifest_of(files)
    manifest["data/people.csv"]["bytes"] = 100
    archive = make_zip(tmp_path / "lie.zip", files, manifest=manifest)
    patch_central(archive, PREFIX + "data/people.csv", usize=100)
    refused(archive, f"'{PREFIX}data/people.csv'", "cannot be read")


def test_declared_size_larger_than_the_data_is_caught_while_reading(tmp_path, files):
    real = len(files["data/people.csv"])
    manifest = manifest_of(files)
    manifest["data/people.csv"]["bytes"] = real + 500
    archive = make_zip(tmp_path / "lie.zip", files, manifest=manifest)
    patch_central(archive, PREFIX + "data/people.csv", usize=real + 500)
    refused(archive, f"'{PREFIX}data/people.csv'")


# ---------------------------------------------------------------- damage

def test_bad_crc_is_a_package_error(tmp_path, files):
    archive = make_zip(tmp_path / "crc.zip", files, compression=zipfile.ZIP_STORED)
    data = archive.read_bytes()
    original = files["data/people.csv"]
    at = data.index(original) + len(original) // 2
    archive.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    refused(archive, f"'{PREFIX}data/people.csv'", "bad CRC-32")


def test_corrupt_deflate_stream_is_a_package_error(tmp_path, files):
    archive = make_zip(tmp_path / "deflate.zip", files)
    info = zipfile.ZipFile(archive).getinfo(PREFIX + "data/measures.csv")
    data = bytearray(archive.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 40):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))
    refused(archive, f"'{PREFIX}data/measures.csv'", "cannot be read")


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_archive_is_a_package_error(tmp_path, files, keep):
    archive = make_zip(tmp_path / "cut.zip", files)
    data = archive.read_bytes()
    archive.write_bytes(data[:int(len(data) * keep)])
    refused(archive, str(archive), "truncated")


def test_not_a_zip_at_all(tmp_path):
    archive = tmp_path / "text.zip"
    archive.write_text("hello")
    refused(archive, "not a readable zip")


# ---------------------------------------------------------------- MANIFEST.json

def test_missing_manifest_is_refused(tmp_path, files):
    archive = make_zip(tmp_path / "nomanifest.zip", files, manifest=None)
    refused(archive, f"'{PREFIX}MANIFEST.json'", "no ")


def test_wrong_hash_in_manifest_is_refused(tmp_path, files):
    manifest = manifest_of(files)
    manifest["data/themes.csv"]["hash"] = "sha256:" + "0" * 64
    archive = make_zip(tmp_path / "wronghash.zip", files, manifest=manifest)
    refused(archive, "'data/themes.csv'", "sha256 mismatch", "MANIFEST.json")


def test_wrong_size_in_manifest_is_refused(tmp_path, files):
    manifest = manifest_of(files)
    manifest["data/themes.csv"]["bytes"] += 1
    archive = make_zip(tmp_path / "wrongsize.zip", files, manifest=manifest)
    refused(archive, "'data/themes.csv'", "size mismatch")


def test_entry_not_in_manifest_is_refused(tmp_path, files):
    archive = make_zip(tmp_path / "unlisted.zip", files, extra=[(PREFIX + "data/extra.csv", b"id\n1\n")])
    refused(archive, f"'{PREFIX}data/extra.csv'", "not listed in MANIFEST.json")


def test_entry_outside_the_package_folder_is_refused(tmp_path, files):
    archive = make_zip(tmp_path / "outside.zip", files, extra=[("elsewhere/notes.txt", b"x")])
    refused(archive, "'elsewhere/notes.txt'", "outside the package folder")


def test_listed_but_missing_is_refused(tmp_path, files):
    manifest = manifest_of(files)
    manifest["docs/codebook.md"] = {"bytes": 3, "hash": "sha256:" + hashlib.sha256(b"abc").hexdigest()}
    archive = make_zip(tmp_path / "missing.zip", files, manifest=manifest)
    refused(archive, "'docs/codebook.md'", "missing from the archive")


def test_manifest_that_is_not_json_is_refused(tmp_path, files):
    archive = make_zip(tmp_path / "badjson.zip", files, manifest=b"{not json")
    refused(archive, "MANIFEST.json", "is not a JSON")


def test_manifest_path_escaping_is_refused_by_name(tmp_path, files):
    manifest = manifest_of(files)
    manifest["../../etc/passwd"] = {"bytes": 1, "hash": "md5:" + "0" * 32}
    archive = make_zip(tmp_path / "mpath.zip", files, manifest=manifest)
    refused(archive, "'../../etc/passwd'", "'..'")


# ---------------------------------------------------------------- hashes

@pytest.mark.parametrize("value, fragment", [
    ("sha3_256:" + "0" * 64, "unknown hash algorithm 'sha3_256'"),
    ("blake2b:" + "0" * 128, "unknown hash algorithm 'blake2b'"),
    ("SHA256:" + "0" * 64, "unknown hash algorithm 'SHA256'"),
    ("sha256:" + "z" * 64, "is not 64 hexadecimal digits"),
    ("sha256:abc", "is not 64 hexadecimal digits"),
    ("0" * 31, "is not 32 hexadecimal digits"),
])
def test_unknown_or_malformed_hash_in_manifest_is_refused(tmp_path, files, value, fragment):
    manifest = manifest_of(files)
    manifest["data/people.csv"]["hash"] = value
    archive = make_zip(tmp_path / "algo.zip", files, manifest=manifest)
    refused(archive, "'data/people.csv'", fragment)


def test_unknown_hash_algorithm_in_descriptor_is_refused(tmp_path, files):
    descriptor = json.loads(files["datapackage.json"])
    descriptor["resources"][0]["hash"] = "whirlpool:" + "0" * 128
    files["datapackage.json"] = json.dumps(descriptor).encode()
    archive = make_zip(tmp_path / "dalgo.zip", files)
    refused(archive, descriptor["resources"][0]["path"], "unknown hash algorithm 'whirlpool'")


def test_bare_md5_and_other_listed_algorithms_verify(tmp_path, files):
    manifest = manifest_of(files)
    manifest["data/people.csv"]["hash"] = hashlib.md5(files["data/people.csv"]).hexdigest()
    manifest["data/themes.csv"]["hash"] = "sha512:" + hashlib.sha512(files["data/themes.csv"]).hexdigest().upper()
    manifest["data/events.csv"]["hash"] = "sha1:" + hashlib.sha1(files["data/events.csv"]).hexdigest()
    archive = make_zip(tmp_path / "algos.zip", files, manifest=manifest)
    assert "people" in fetch.open_zip(str(archive)).resources


# ---------------------------------------------------------------- the descriptor's paths

_OPENED: list[str] | None = None


def _audit(event, args):
    if _OPENED is not None and event == "open" and args and isinstance(args[0], (str, bytes, Path)):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.mark.parametrize("target", ["../../../../../../etc/passwd", "/etc/passwd", "data/../../secret.csv"])
def test_descriptor_path_outside_the_archive_is_refused_by_name_never_opened(tmp_path, files, target):
    global _OPENED
    descriptor = json.loads(files["datapackage.json"])
    descriptor["resources"][3]["path"] = target
    files["datapackage.json"] = json.dumps(descriptor).encode()
    (tmp_path / "secret.csv").write_text("id\n1\n")
    archive = make_zip(tmp_path / "dpath.zip", files)
    _OPENED = []
    try:
        message = refused(archive, f"'{target}'")
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert "absolute" in message or "'..'" in message
    assert not [p for p in opened if p.endswith(("passwd", "secret.csv"))], opened


def test_descriptor_path_missing_from_the_archive_is_refused(tmp_path, files):
    del files["data/people.csv"]
    archive = make_zip(tmp_path / "nodata.zip", files)
    refused(archive, "'data/people.csv'", "missing from the archive")


def test_descriptor_hash_is_checked_too(tmp_path, files):
    """MANIFEST.json agrees with the file, datapackage.json does not: refused."""
    descriptor = json.loads(files["datapackage.json"])
    resource = next(r for r in descriptor["resources"] if r["path"] == "data/people.csv")
    resource["hash"] = "sha256:" + "1" * 64
    files["datapackage.json"] = json.dumps(descriptor).encode()
    archive = make_zip(tmp_path / "dhash.zip", files)
    refused(archive, "'data/people.csv'", "sha256 mismatch", "datapackage.json")


def test_failed_load_leaves_no_temporary_folder(tmp_path, files, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    manifest = manifest_of(files)
    manifest["data/themes.csv"]["hash"] = "sha256:" + "0" * 64
    archive = make_zip(tmp_path / "bad.zip", files, manifest=manifest)
    refused(archive, "sha256 mismatch")
    assert list((tmp_path / "tmp").iterdir()) == []
