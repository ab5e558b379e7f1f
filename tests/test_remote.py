"""Loading from elsewhere: an http(s) URL or a release zip, with every file
checked against the descriptor's bytes and hash. Served over loopback."""
from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile

import pytest

import sifc
from conftest import copy_package, release_copy
from sifc.files import fetch
from sifc.files.package import DefinitionError, PackageError


class Site:
    """A loopback web server: the package copy's files, plus `routes` (path ->
    function of the request handler) that misbehave on purpose."""

    def __init__(self, root):
        self.root, self.routes, self.hits, self.stop = root, {}, [], threading.Event()
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(site.root), **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.hits.append(self.path)
                route = site.routes.get(self.path)
                if route is None:
                    return super().do_GET()
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/datapackage.json"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(tmp_path):
    """Serves a release descriptor (bytes and hash for every resource, as
    `sifc build` writes it); the repository's own descriptor records none."""
    site = Site(release_copy(tmp_path / "pkg"))
    yield site
    site.close()


@pytest.fixture
def served(site):
    return site.root, site.url()


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


def release_zip(root, archive, prefix="shanghai-ifc/"):
    """A release zip as `sifc build` lays it out: one folder with the files and
    a MANIFEST.json recording each one's bytes and sha256."""
    manifest = {}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                rel = str(path.relative_to(root))
                data = path.read_bytes()
                manifest[rel] = {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
                z.writestr(prefix + rel, data)
        z.writestr(prefix + "MANIFEST.json", json.dumps(manifest))
    return archive


def test_load_from_release_zip(tmp_path):
    root = copy_package(tmp_path / "pkg")
    archive = release_zip(root, tmp_path / "release.zip")
    assert len(sifc.load("measures", source=str(archive))) == sum(1 for _ in open(root / "data" / "measures.csv", encoding="utf-8")) - 1


def test_release_zip_without_manifest_is_refused(tmp_path):
    """A release zip lists every file in MANIFEST.json; one without it is not
    a release (deliberate change: it used to be accepted)."""
    root = copy_package(tmp_path / "pkg")
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in root.rglob("*"):
            if path.is_file():
                z.write(path, "shanghai-ifc/" + str(path.relative_to(root)))
    with pytest.raises(PackageError, match=r"no 'shanghai-ifc/MANIFEST\.json' in the archive"):
        sifc.load("measures", source=str(archive))


def test_zip_with_path_traversal_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("datapackage.json", '{"resources": []}')
        z.writestr("../escape.txt", "x")
    with pytest.raises(PackageError, match=r"'\.\.'"):
        sifc.load("people", source=str(archive))


# ---------------------------------------------------------------- misbehaving servers

def redirect(location, code=302):
    def route(h):
        h.send_response(code)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return route


def body(data: bytes, content_type="application/json", length=None):
    def route(h):
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data) if length is None else length))
        h.end_headers()
        h.wfile.write(data)
    return route


def endless(site, chunk=b" " * 65536):
    """200 with no length and a body that never ends (spaces: valid JSON whitespace)."""
    def route(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.end_headers()
        while not site.stop.is_set():
            h.wfile.write(chunk)
    return route


def edit_descriptor(root, change):
    path = root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return descriptor


def people(descriptor):
    return next(r for r in descriptor["resources"] if r["name"] == "people")


def test_redirect_within_the_site_is_followed(site):
    site.routes["/moved/datapackage.json"] = redirect("/datapackage.json", 301)
    assert len(sifc.load("people", source=site.url("/moved/datapackage.json"), validate=False)) == 12


def test_redirect_to_another_host_is_refused(site):
    site.routes["/away.json"] = redirect(f"http://localhost:{site.port}/target.json")
    with pytest.raises(PackageError, match=r"redirects to 'http://localhost:\d+/target.json', another scheme or host"):
        sifc.load("people", source=site.url("/away.json"))
    assert "/target.json" not in site.hits


@pytest.mark.parametrize("location", ["https://127.0.0.1:{port}/datapackage.json", "file:///etc/passwd",
                                      "ftp://127.0.0.1:{port}/datapackage.json"])
def test_redirect_to_another_scheme_is_refused(site, location):
    location = location.format(port=site.port)
    site.routes["/away.json"] = redirect(location, 307)
    with pytest.raises(PackageError, match="another scheme or host") as info:
        sifc.load("people", source=site.url("/away.json"))
    assert location in str(info.value)


def test_redirect_of_a_data_file_to_another_host_is_refused(site):
    site.routes["/data/people.csv"] = redirect(f"http://localhost:{site.port}/data/people.csv")
    with pytest.raises(PackageError, match=r"data/people.csv: the server redirects to 'http://localhost"):
        sifc.load("people", source=site.url())


def test_slow_server_times_out(site, monkeypatch):
    monkeypatch.setenv("SIFC_HTTP_READ_TIMEOUT", "0.3")
    site.routes["/datapackage.json"] = lambda h: site.stop.wait(10)
    with pytest.raises(PackageError, match=r"datapackage.json: timed out .*read 0.3 s"):
        sifc.load("people", source=site.url())


def test_dribbling_server_hits_the_overall_deadline(site, monkeypatch):
    """Every read gets a byte in time, so only the deadline for the whole load stops it."""
    monkeypatch.setenv("SIFC_HTTP_DEADLINE", "1")

    def dribble(h):
        h.send_response(200)
        h.end_headers()
        while not site.stop.wait(0.05):
            h.wfile.write(b" ")
            h.wfile.flush()
    site.routes["/datapackage.json"] = dribble
    with pytest.raises(PackageError, match="did not finish within the overall deadline of 1 s"):
        sifc.load("people", source=site.url())


def test_endless_descriptor_stops_at_the_cap(site, monkeypatch):
    monkeypatch.setattr(fetch, "MAX_DESCRIPTOR_BYTES", 1 << 20)
    site.routes["/datapackage.json"] = endless(site)
    with pytest.raises(PackageError, match=r"the descriptor is larger than the 1,048,576 bytes expected"):
        sifc.load("people", source=site.url())


def test_endless_data_file_stops_at_the_descriptors_bytes(site):
    size = people(json.loads((site.root / "datapackage.json").read_text(encoding="utf-8")))["bytes"]
    site.routes["/data/people.csv"] = endless(site, b"id,name\n" * 8192)
    with pytest.raises(PackageError, match=rf"data/people.csv: the data file is larger than the {size:,} bytes"):
        sifc.load("people", source=site.url())


def test_announced_length_over_the_cap_is_refused_before_reading(site):
    site.routes["/datapackage.json"] = body(b"", length=10 ** 12)
    with pytest.raises(PackageError, match=r"announces 1,000,000,000,000 bytes, more than the"):
        sifc.load("people", source=site.url())


def test_endless_zip_download_stops_at_the_cap(site, monkeypatch):
    monkeypatch.setenv("SIFC_MAX_ZIP_BYTES", str(1 << 20))
    site.routes["/release.zip"] = endless(site, b"PK" * 32768)
    with pytest.raises(PackageError, match=r"release.zip: the release zip is larger than the 1,048,576 bytes"):
        sifc.load("people", source=site.url("/release.zip"))


@pytest.mark.parametrize("page", [b"<!doctype html><title>Not here</title>", b"\xff\xfe{}", b""])
def test_descriptor_that_is_not_json_is_refused(site, page):
    site.routes["/datapackage.json"] = body(page, "text/html")
    with pytest.raises(PackageError, match="datapackage.json: is not a JSON data package descriptor"):
        sifc.load("people", source=site.url())


def test_descriptor_that_is_not_an_object_is_refused(site):
    site.routes["/datapackage.json"] = body(b"[1, 2]")
    with pytest.raises(PackageError, match="datapackage.json: a data package descriptor is a JSON object"):
        sifc.load("people", source=site.url())


def test_schema_that_is_not_json_is_refused(site):
    site.routes["/schemas/people.json"] = body(b"<html>moved</html>", "text/html")
    with pytest.raises(PackageError, match="schemas/people.json: is not a JSON Table Schema"):
        sifc.load("people", source=site.url())


def test_data_that_is_not_utf8_is_refused(site):
    """Bytes and hash match (the descriptor was refreshed), but the file is GBK."""
    path = site.root / "data" / "people.csv"
    data = path.read_text(encoding="utf-8").encode("gb18030")
    path.write_bytes(data)

    def refresh(d):
        people(d).update(bytes=len(data), hash="sha256:" + hashlib.sha256(data).hexdigest())
    edit_descriptor(site.root, refresh)
    with pytest.raises(PackageError, match=r"data/people.csv: is not a UTF-8 CSV file"):
        sifc.load("people", source=site.url())


def test_the_repository_folder_served_as_is_is_refused(tmp_path):
    """The repository's datapackage.json records no bytes/hash: served over
    http it is not a release and nothing but the descriptor is fetched."""
    site = Site(copy_package(tmp_path / "pkg"))
    try:
        with pytest.raises(PackageError, match=r"resource 'sources': no 'bytes' or 'hash'; a remote descriptor must"):
            sifc.load("people", source=site.url())
        assert site.hits == ["/datapackage.json"]
    finally:
        site.close()


@pytest.mark.parametrize("key", ["bytes", "hash"])
def test_remote_descriptor_without_bytes_or_hash_is_refused(site, key):
    edit_descriptor(site.root, lambda d: people(d).pop(key))
    with pytest.raises(PackageError, match=rf"resource 'people': no '{key}'; a remote descriptor must record"):
        sifc.load("themes", source=site.url())
    assert site.hits == ["/datapackage.json"]  # nothing else was downloaded


@pytest.mark.parametrize("value, fragment", [("md4:" + "0" * 32, "unknown hash algorithm 'md4'"),
                                             ("sha256:xyz", "is not 64 hexadecimal digits"),
                                             (42, "the hash must be a string")])
def test_remote_descriptor_with_unknown_hash_is_refused(site, value, fragment):
    edit_descriptor(site.root, lambda d: people(d).update(hash=value))
    with pytest.raises(PackageError, match=fragment):
        sifc.load("themes", source=site.url())
    assert site.hits == ["/datapackage.json"]


@pytest.mark.parametrize("path, why", [("../secret.csv", "'..'"), ("/etc/passwd", "absolute"),
                                       ("http://localhost/data/people.csv", "remote")])
def test_remote_descriptor_paths_must_stay_beside_it(site, path, why):
    edit_descriptor(site.root, lambda d: people(d).update(path=path))
    with pytest.raises(PackageError, match=rf"resource 'people': path '{path}' .*{why}"):
        sifc.load("themes", source=site.url())
    assert site.hits == ["/datapackage.json"]


def test_remote_descriptor_is_linted_like_a_local_one(site):
    edit_descriptor(site.root, lambda d: people(d).update(encoding="latin-1"))
    with pytest.raises(DefinitionError, match="must be utf-8"):
        sifc.load("people", source=site.url())


def test_missing_remote_file_is_a_clear_error(site):
    with pytest.raises(PackageError, match=r"nowhere/datapackage.json: the server answered HTTP 404"):
        sifc.load("people", source=site.url("/nowhere/"))


def test_release_zip_over_http(site):
    release_zip(copy_package(site.root.parent / "zipsrc"), site.root / "release.zip")
    assert len(sifc.load("people", source=site.url("/release.zip"), validate=False)) == 12
