"""Loading from elsewhere: an http(s) URL or a release zip, with every file
checked against the descriptor's bytes and hash. Served over loopback."""
from __future__ import annotations

import functools
import http.server
import threading
import zipfile

import pytest

import sifc
from conftest import copy_package
from sifc.package import PackageError


@pytest.fixture
def served(tmp_path):
    root = copy_package(tmp_path / "pkg")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/datapackage.json"
    server.shutdown()
    server.server_close()


def test_load_over_http(served):
    _, url = served
    people = sifc.load("people", source=url)
    assert len(people) == 12 and people.name_zh.dtype == "string"
    assert set(sifc.load_all(source=url)) == set(sifc.tables())


def test_tampered_file_is_refused(served):
    root, url = served
    path = root / "data" / "people.csv"
    path.write_bytes(path.read_bytes().replace("陈吉宁".encode(), "陈吉宇".encode()))  # same size, other bytes
    with pytest.raises(PackageError, match=r"data/people.csv: sha256 mismatch"):
        sifc.load("people", source=url)


def test_truncated_file_is_refused(served):
    root, url = served
    path = root / "data" / "themes.csv"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(PackageError, match="size mismatch"):
        sifc.load("themes", source=url)


def test_load_from_release_zip(tmp_path):
    root = copy_package(tmp_path / "pkg")
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in root.rglob("*"):
            if path.is_file():
                z.write(path, "shanghai-ifc/" + str(path.relative_to(root)))
    assert len(sifc.load("measures", source=str(archive))) == 42


def test_zip_with_path_traversal_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("datapackage.json", '{"resources": []}')
        z.writestr("../escape.txt", "x")
    with pytest.raises(PackageError, match=r"'\.\.'"):
        sifc.load("people", source=str(archive))
