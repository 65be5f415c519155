# SPDX-License-Identifier: MIT
# Deploy kit (#19): `dpkg-buildpackage -us -uc -b` builds ssecast_*.deb from a copy of this
# tree; `dpkg -i` installs it on this machine (files, conffile, user, unit, a real start
# from the installed files), then `dpkg --purge` removes it without leftovers.
# Needs root, dpkg-buildpackage + debhelper and the built admin UI; it skips naming what
# is missing. The build reuses the release build's ccache (debian/rules), ~30 s warm.
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import ROOT, free_port, wait_until

PKG = "ssecast"


def sh(*cmd, check=True, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} -> {out.returncode}\n{out.stdout}\n{out.stderr}")
    return out


def installed(pkg=PKG):
    out = sh("dpkg-query", "-W", "-f=${Status}", pkg, check=False)
    return out.returncode == 0 and "installed" in out.stdout and "not-installed" not in out.stdout


def skip_reason():
    # The package compiles its own binary: run it once, in the run against the release
    # build (whose ccache it reuses), not again in the sanitizer runs of scripts/test.sh.
    bin_under_test = Path(os.environ.get("SSECAST_BIN", ROOT / "build/release/ssecast"))
    if bin_under_test.resolve() != (ROOT / "build/release/ssecast").resolve():
        return (f"SSECAST_BIN is {bin_under_test}: the package build runs only with the "
                "release binary's test run (it compiles its own binary)")
    if os.geteuid() != 0:
        return "dpkg -i needs root"
    for tool in ("dpkg-buildpackage", "dh", "dpkg"):
        if shutil.which(tool) is None:
            return f"{tool} missing (apt-get install dpkg-dev debhelper)"
    if not (ROOT / "web/admin/dist/index.html").exists():
        return "web/admin/dist missing: run scripts/build-web.sh first (the package ships it)"
    if installed():
        return "a ssecast package is already installed on this machine; not touching it"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return "not a git checkout (the tree to package is taken from git ls-files)"
    return None


pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


def export_tree(dest: Path):
    """The working tree as git sees it (tracked + new files, no ignored ones), plus the
    built admin UI, which is ignored by git but shipped."""
    files = sh("git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z").stdout
    for rel in filter(None, files.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    shutil.copytree(ROOT / "web/admin/dist", dest / "web/admin/dist")


def test_debian_package_builds_installs_runs_and_purges(tmp_path):
    src = tmp_path / "ssecast"
    export_tree(src)
    commit = sh("git", "-C", str(ROOT), "describe", "--always", "--dirty", "--abbrev=12").stdout
    env = dict(os.environ, SSECAST_COMMIT=commit.strip(),
               CCACHE_DIR=os.environ.get("CCACHE_DIR",
                                         str(Path.home() / ".cache" / "ccache")))
    t0 = time.monotonic()
    build = sh("dpkg-buildpackage", "-us", "-uc", "-b", cwd=src, env=env, timeout=1800,
               check=False)
    build_s = time.monotonic() - t0
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
    debs = sorted(tmp_path.glob("ssecast_*.deb"))
    assert len(debs) == 1, list(tmp_path.iterdir())
    print(f"\ndpkg-buildpackage took {build_s:.1f} s")

    # What the package declares, before installing it.
    info = sh("dpkg-deb", "-f", str(debs[0]), "Package", "Version", "Depends").stdout
    assert "Package: ssecast" in info
    assert "libsystemd0" in info and "libhiredis" in info and "adduser" in info
    try:
        sh("dpkg", "-i", str(debs[0]), timeout=300)
        assert installed()
        files = sh("dpkg", "-L", PKG).stdout.split()
        for path in ("/usr/bin/ssecast", "/usr/share/ssecast/admin/index.html",
                     "/etc/ssecast/ssecast.toml", "/lib/systemd/system/ssecast.service",
                     "/usr/share/doc/ssecast/deploy.md",
                     "/usr/share/doc/ssecast/ssecast.json"):
            assert path in files and Path(path).exists(), path
        conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", PKG).stdout
        assert "/etc/ssecast/ssecast.toml" in conffiles
        assert sh("getent", "passwd", "ssecast").stdout.startswith("ssecast:")
        conf = Path("/etc/ssecast/ssecast.toml").stat()
        assert oct(conf.st_mode & 0o777) == "0o640"
        assert conf.st_gid == int(sh("getent", "group", "ssecast").stdout.split(":")[2])

        version = sh("/usr/bin/ssecast", "--version").stdout
        assert re.fullmatch(r"ssecast 0\.1\.0 \(commit " + re.escape(commit.strip()) + r"\)\n",
                            version), version
        sh("/usr/bin/ssecast", "config", "check", "--config", "/etc/ssecast/ssecast.toml")
        if shutil.which("systemd-analyze"):
            out = sh("systemd-analyze", "verify", "--man=no",
                     "/lib/systemd/system/ssecast.service", check=False)
            assert out.returncode == 0 and not out.stderr.strip(), out.stderr

        # The unit's command, as the unit's user: it reads the conffile and serves the
        # installed admin UI (found next to the binary, in /usr/share/ssecast/admin).
        port = free_port()
        proc = subprocess.Popen(
            ["setpriv", "--reuid=ssecast", "--regid=ssecast", "--clear-groups",
             "/usr/bin/ssecast", "serve", "--config", "/etc/ssecast/ssecast.toml",
             "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={"PATH": "/usr/bin:/bin"})
        try:
            url = f"http://127.0.0.1:{port}"

            def up():
                try:
                    return requests.get(url + "/readyz", timeout=1).status_code == 200
                except requests.RequestException:
                    assert proc.poll() is None, proc.stdout.read()
                    return False
            wait_until(up, timeout=20, what="the installed ssecast")
            admin = requests.get(url + "/admin/", timeout=5)
            assert admin.status_code == 200
            # The installed page, plus (no admin token configured, a loopback visitor) the
            # generated token pre-filled in one <meta> tag.
            served = re.sub(r'<meta name="ssecast-admin-token" content="admin-[a-z0-9]+">', "",
                            admin.text, count=1)
            assert served != admin.text, "no generated admin token for a loopback visitor"
            assert served == Path("/usr/share/ssecast/admin/index.html").read_text()
        finally:
            proc.terminate()
            assert proc.wait(timeout=20) == 0

        sh("dpkg", "--purge", PKG, timeout=300)
        assert not installed()
        # Every file the package shipped is gone (directories like /usr/bin stay, of course).
        shipped = [f[1:] for f in sh("sh", "-c", f"dpkg-deb --fsys-tarfile {debs[0]} | tar -t"
                                     ).stdout.split() if not f.endswith("/")]
        assert "/usr/bin/ssecast" in shipped
        left = [f for f in shipped if os.path.lexists(f)]
        assert left == [], left
        assert not Path("/etc/ssecast").exists()
        wants = Path("/etc/systemd/system/multi-user.target.wants/ssecast.service")
        assert not wants.exists() and not wants.is_symlink()
    finally:
        if installed():
            sh("dpkg", "--purge", PKG, check=False, timeout=300)
