# SPDX-License-Identifier: MIT
# Deploy kit (#19): the Dockerfile and deploy/compose.yaml. Where a container runtime can
# build and run images the image is built and its HEALTHCHECK probed; everywhere the files
# are linted: stages, non-root user, one port, HEALTHCHECK on /healthz, the runtime stage's
# packages against the binary's shared libraries, the build context against CMake, and the
# compose file's services, wiring and nginx upstreams.
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, ssecast_bin

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"
KNOWN = {"FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "USER", "EXPOSE", "HEALTHCHECK",
         "STOPSIGNAL", "ENTRYPOINT", "CMD", "LABEL", "VOLUME", "SHELL", "ONBUILD"}


def instructions():
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    out, cur = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        cur += " " + s.rstrip("\\").strip() if cur else s.rstrip("\\").strip()
        if not s.endswith("\\"):
            word, _, rest = cur.partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    assert not cur, "Dockerfile ends inside a continued line"
    return out


def stages():
    """[(base image, alias, [instructions])] per FROM."""
    out = []
    for ins, arg in instructions():
        if ins == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
            out.append((m.group(1), m.group(2), []))
        else:
            assert out, f"{ins} before FROM"
            out[-1][2].append((ins, arg))
    return out


def apt_packages(stage_instructions):
    pkgs = []
    for ins, arg in stage_instructions:
        if ins == "RUN" and "apt-get install" in arg:
            part = arg.split("apt-get install", 1)[1].split("&&", 1)[0]
            pkgs += [w for w in part.split() if not w.startswith("-")]
    return pkgs


def test_dockerfile_lint():
    ins = instructions()
    assert {i for i, _ in ins} <= KNOWN, {i for i, _ in ins} - KNOWN
    st = stages()
    assert len(st) >= 2, "multi-stage"
    assert st[0][0] == "debian:12-slim" and st[-1][0] == "debian:12-slim"
    aliases = {a for _, a, _ in st if a}
    final = st[-1][2]
    for i, arg in final:
        if i == "COPY" and "--from=" in arg:
            assert re.search(r"--from=(\S+)", arg).group(1) in aliases, arg
    users = [a for i, a in final if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    # USER comes after the last RUN: nothing the image runs at start runs as root.
    last_run = max(n for n, (i, _) in enumerate(final) if i == "RUN")
    assert max(n for n, (i, _) in enumerate(final) if i == "USER") > last_run
    exposes = [a for i, a in final if i == "EXPOSE"]
    assert len(exposes) == 1 and len(exposes[0].split()) == 1, exposes
    port = exposes[0].split("/")[0]
    health = [a for i, a in final if i == "HEALTHCHECK"]
    assert len(health) == 1 and f"127.0.0.1:{port}/healthz" in health[0], health
    env = " ".join(a for i, a in final if i == "ENV")
    assert "SSECAST_CONFIG=/etc/ssecast/ssecast.toml" in env
    entry = [a for i, a in final if i == "ENTRYPOINT"]
    assert entry == ['["/usr/bin/ssecast"]']
    # The image's config listens on the exposed port on every interface.
    assert f'listen = "0.0.0.0:{port}"' in DOCKERFILE.read_text()


def test_dockerfile_build_stage_has_the_debian_build_depends():
    control = (ROOT / "debian" / "control").read_text()
    bd = re.search(r"^Build-Depends:(.*?)^\S", control, re.S | re.M).group(1)
    deps = {re.split(r"[\s(]", d.strip())[0] for d in bd.split(",") if d.strip()}
    deps.discard("debhelper-compat")
    assert deps <= set(apt_packages(stages()[0][2])), deps - set(apt_packages(stages()[0][2]))


def test_runtime_stage_has_every_shared_library_of_the_binary():
    if shutil.which("ldd") is None or shutil.which("dpkg") is None:
        pytest.skip("ldd/dpkg missing: cannot map the binary's libraries to Debian packages")
    linked = subprocess.run(["ldd", ssecast_bin()], capture_output=True, text=True,
                            check=True).stdout
    if re.search(r"lib[at]san", linked):
        # The image ships the release build; the release pass of the test command checks it.
        pytest.skip("sanitizer build: its runtime libraries are not what the image ships")
    libs = re.findall(r"=> (/\S+)", linked)
    # One dpkg -S for all (the libraries may be named through /lib or /usr/lib: usrmerge).
    paths = sorted({p for lib in libs for p in (lib, str(Path(lib).resolve()))})
    out = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True)
    owners = {}
    for line in out.stdout.splitlines():
        pkgs, _, path = line.partition(": ")
        owners[path] = pkgs.split(",")[0].split(":")[0].strip()
    needed = set()
    for lib in libs:
        owner = owners.get(lib) or owners.get(str(Path(lib).resolve()))
        assert owner, f"{lib} belongs to no Debian package"
        needed.add(owner)
    # What apt brings with the runtime stage's packages, on top of what debian:12-slim
    # has (apt and its libraries, libc6, libstdc++6 ...).
    listed = apt_packages(stages()[-1][2])
    closure = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", "apt", *listed],
        capture_output=True, text=True, timeout=120).stdout
    have = {l.strip() for l in closure.splitlines() if l and not l.startswith(" ")}
    assert set(listed) <= have, set(listed) - have  # every listed package exists
    assert needed <= have, f"runtime stage lacks {needed - have}"


def test_build_context_configures_with_cmake(tmp_path):
    """The COPY lines of the build stage bring everything CMake needs (configure only)."""
    ctx = tmp_path / "ctx"
    for ins, arg in stages()[0][2]:
        if ins == "COPY":
            *srcs, dest = arg.split()
            for s in srcs:
                src = ROOT / s
                target = ctx / (s if dest in ("./", ".") else dest)
                if src.is_dir():
                    shutil.copytree(src, target, ignore=shutil.ignore_patterns("node_modules"))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target)
    out = subprocess.run(["cmake", "-S", str(ctx), "-B", str(tmp_path / "b"),
                          "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_compose_file():
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    instances = [n for n, s in services.items() if s.get("build")]
    assert len(instances) == 3 and "redis" in services and "nginx" in services
    port = next(a for i, a in stages()[-1][2] if i == "EXPOSE").split("/")[0]
    nginx_conf = None
    for vol in services["nginx"]["volumes"]:
        src, dst = vol.split(":")[:2]
        if dst == "/etc/nginx/nginx.conf":
            nginx_conf = (COMPOSE.parent / src).resolve()
    assert nginx_conf and nginx_conf.exists()
    upstreams = re.findall(r"^\s*server\s+(\S+):(\d+)", nginx_conf.read_text(), re.M)
    assert sorted(h for h, _ in upstreams) == sorted(instances)
    assert {p for _, p in upstreams} == {port}
    ids = set()
    for name in instances:
        s = services[name]
        assert (ROOT / "deploy" / s["build"]["context"] / s["build"]["dockerfile"]).resolve() \
            == DOCKERFILE
        env = s["environment"]
        assert env["SSECAST_REDIS_URL"] == "redis://redis:6379"
        assert s["depends_on"]["redis"]["condition"] == "service_healthy"
        ids.add(env["SSECAST_REDIS_INSTANCE_ID"])
        assert int(s["stop_grace_period"].rstrip("s")) > int(env["SSECAST_SHUTDOWN_GRACE_SECONDS"])
        for key in ("SSECAST_AUTH_JWT_SECRET", "SSECAST_AUTH_PUBLISH_KEYS",
                    "SSECAST_AUTH_ADMIN_TOKEN"):
            assert ":?" in env[key], f"{key} must be required, not defaulted"
    assert len(ids) == 3
    assert set(services["nginx"]["depends_on"]) == set(instances)
    assert "healthcheck" in services["redis"]


def _runtime():
    """(tool, None) when a container runtime builds and runs here, else (None, why not)."""
    reasons = []
    for tool in ("docker", "podman"):
        if shutil.which(tool) is None:
            reasons.append(f"{tool}: not installed")
            continue
        info = subprocess.run([tool, "info"], capture_output=True, text=True, timeout=60)
        if info.returncode != 0:
            reasons.append(f"{tool} info: {(info.stderr or info.stdout).strip()[-200:]}")
            continue
        pull = subprocess.run([tool, "pull", "-q", "docker.io/library/debian:12-slim"],
                              capture_output=True, text=True, timeout=120)
        if pull.returncode != 0:
            reasons.append(f"{tool} pull debian:12-slim: {pull.stderr.strip()[-200:]}")
            continue
        run = subprocess.run([tool, "run", "--rm", "docker.io/library/debian:12-slim", "true"],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            reasons.append(f"{tool} run: {run.stderr.strip()[-200:]}")
            continue
        return tool, None
    return None, "; ".join(reasons)


def test_image_builds_runs_and_is_healthy():
    tool, why = _runtime()
    if tool is None:
        pytest.skip(f"no working container runtime here ({why}); the Dockerfile and compose "
                    "file are linted by the other tests of this file")
    tag = "localhost/ssecast:test"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    build = subprocess.run([tool, "build", "--build-arg", f"SSECAST_COMMIT={commit}", "-t", tag,
                            str(ROOT)], capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    name = "ssecast-image-test"
    try:
        run = subprocess.run([tool, "run", "-d", "--name", name, tag], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        uid = subprocess.run([tool, "exec", name, "id", "-u"], capture_output=True, text=True)
        assert uid.stdout.strip() != "0"
        version = subprocess.run([tool, "exec", name, "/usr/bin/ssecast", "--version"],
                                 capture_output=True, text=True)
        assert commit in version.stdout
        from conftest import wait_until
        wait_until(lambda: subprocess.run([tool, "healthcheck", "run", name] if tool == "podman"
                                          else [tool, "exec", name, "curl", "-fsS",
                                                "http://127.0.0.1:8080/healthz"],
                                          capture_output=True).returncode == 0,
                   timeout=60, what="the image's HEALTHCHECK")
    finally:
        subprocess.run([tool, "rm", "-f", name], capture_output=True)
