#!/usr/bin/python3
"""Checks docker/: the image, the compose example and the Kubernetes manifests.

No Docker engine or cluster is needed. The test reads the files, asks the built
`djproxy` which settings it knows (`djproxy config --json`), and runs the binary
with each manifest's own djproxy environment.

    test_manifests.py --djproxy BUILD/djproxy [--repo REPO] [unittest options]
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
OPTIONS = argparse.Namespace(djproxy=None, repo=HERE.parent.parent)

# Names DataJoint 2.x itself reads, and the deployment guide's names for them
# (the shared DataJoint notes, datajoint/CONFIG.md). DJ_USER_FILE / DJ_PASS_FILE are the guide's
# Docker-style secret files.
DATAJOINT_NAMES = {
    "DJ_HOST", "DJ_PORT", "DJ_USER", "DJ_PASS", "DJ_CREATE_TABLES", "DJ_DATABASE_PREFIX",
    "DJ_SCHEMA_PREFIX", "DJ_USE_TLS", "DJ_TLS", "DJ_SAFEMODE", "DJ_LOG_LEVEL",
    "DJ_USER_FILE", "DJ_PASS_FILE",
}
NAME = re.compile(r"(?<![A-Za-z0-9_])(?:DJ|DJPROXY)_[A-Z0-9][A-Z0-9_]*")
SECRETS_DIR = "/run/secrets/datajoint"


def repo():
    return Path(OPTIONS.repo)


def docker_dir():
    return repo() / "docker"


def clean_env(extra=None):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def run_djproxy(args, env=None, cwd=None):
    if not OPTIONS.djproxy:
        raise unittest.SkipTest("no --djproxy given")
    with tempfile.TemporaryDirectory() as tmp:
        return subprocess.run([OPTIONS.djproxy, *args], env=clean_env(env), cwd=cwd or tmp,
                              capture_output=True, text=True, timeout=60)


_settings = None


def binary_settings():
    """`djproxy config --json` in an empty directory with an empty environment."""
    global _settings
    if _settings is None:
        r = run_djproxy(["config", "--json"])
        if r.returncode != 0:
            raise AssertionError(f"djproxy config --json failed ({r.returncode}): {r.stderr}")
        _settings = json.loads(r.stdout)["settings"]
    return _settings


_descriptors = None


def header_descriptors():
    """Fields the JSON does not carry (alias_env, scope, secrets_file), from the one list."""
    global _descriptors
    if _descriptors is None:
        text = (repo() / "config" / "descriptors.hpp").read_text()
        body = text[text.index("kDescriptors = "):]
        body = body[:body.index("});")]
        _descriptors = []
        for chunk in body.split("{.key = ")[1:]:
            fields = dict(re.findall(r'\.(\w+) = "([^"]*)"', '.key = ' + chunk))
            scope = re.search(r"\.scope = Scope::(\w+)", chunk)
            fields["scope"] = scope.group(1) if scope else "djproxy"
            _descriptors.append(fields)
    return _descriptors


def known_names():
    names = set(DATAJOINT_NAMES)
    envs = {item["env"] for item in binary_settings().values()}
    names |= envs
    for d in header_descriptors():
        own = [n for n in (d.get("env"), d.get("alias_env")) if n]
        names.update(own)
        if d["scope"] != "locator":  # a locator names a file itself; it has no *_FILE form
            names.update(n + "_FILE" for n in own)
    return names


def secrets_file_names():
    """Files djproxy reads in the secrets directory: each secrets_file, and the alias
    key of a setting that has one (DataJoint 2.x's name for the same file)."""
    names = set()
    for d in header_descriptors():
        if d.get("secrets_file"):
            names.add(d["secrets_file"])
            if d.get("alias_key"):
                names.add(d["alias_key"])
    return names


def parse_duration(text):
    """Seconds in a djproxy duration (500ms, 30s, 15m, 1h30m, 1d; a bare number is seconds)."""
    text = str(text).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * scale[u] for n, u in parts)


def split_host_port(text):
    host, _, port = str(text).rpartition(":")
    return host, int(port)


def yaml_files():
    return sorted(p for p in docker_dir().rglob("*") if p.suffix in (".yaml", ".yml"))


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---- the Dockerfile ---------------------------------------------------------------

def dockerfile_instructions(path):
    """(INSTRUCTION, arguments) pairs; continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    if pending:
        raise AssertionError(f"{path}: ends inside a continued line")
    return out


def dockerfile_stages(path):
    stages = []
    for instruction, args in dockerfile_instructions(path):
        if instruction == "FROM":
            stages.append({"from": args, "body": []})
        elif not stages:
            if instruction != "ARG":
                raise AssertionError(f"{path}: {instruction} before FROM")
        else:
            stages[-1]["body"].append((instruction, args))
    return stages


def shell_commands(script):
    """The simple commands of a RUN line, split on && || ; | and newlines."""
    return [c.strip() for c in re.split(r"&&|\|\||;|\||\n", script) if c.strip()]


def exec_form(args):
    return json.loads(args) if args.startswith("[") else None


class DockerfileTest(unittest.TestCase):
    path = None

    @classmethod
    def setUpClass(cls):
        cls.path = docker_dir() / "Dockerfile"
        cls.stages = dockerfile_stages(cls.path)
        cls.runtime = cls.stages[-1]["body"]

    def instructions(self, name, body=None):
        return [a for i, a in (body if body is not None else self.runtime) if i == name]

    def test_stages(self):
        self.assertEqual([st["from"] for st in self.stages], ["debian:12 AS build", "build AS rootfs", "scratch"],
                         "a build stage, the runtime filesystem collected from it, an empty runtime stage")
        # Nothing runs in the runtime stage: it has nothing to run it with.
        self.assertEqual(self.instructions("RUN"), [])
        self.assertEqual(self.instructions("COPY"), ["--from=rootfs /rootfs/ /"])
        collect = [c for r in self.instructions("RUN", self.stages[1]["body"]) for c in shell_commands(r)]
        self.assertIn("bash /src/docker/rootfs.sh /build/djproxy /rootfs", collect)

    def test_build_stage_runs_only_what_ci_runs(self):
        runs = self.instructions("RUN", self.stages[0]["body"])
        self.assertTrue(runs, "the build stage runs something")
        commands = [c for r in runs for c in shell_commands(r)]
        for command in commands:
            with self.subTest(command=command):
                self.assertTrue(command == "bash scripts/setup.sh" or command.startswith("cmake "),
                                "the build stage may run only scripts/setup.sh and cmake (what CI runs)")
        self.assertIn("bash scripts/setup.sh", commands)
        self.assertTrue(any(re.search(r"-DCMAKE_BUILD_TYPE=Release\b", c) for c in commands), "a Release build")
        self.assertTrue(any(re.search(r"--build\b.*--target djproxy|--target djproxy.*--build\b", c)
                            for c in commands), "cmake --build … --target djproxy")

    def test_ci_compiles_the_image_configuration(self):
        # CI has no Docker engine, so the image's build is exercised only if the test
        # command's first build uses the image's CMake configuration, warnings as errors.
        runs = self.instructions("RUN", self.stages[0]["body"])
        configure = [c for r in runs for c in shell_commands(r) if re.search(r"^cmake\b.*\s-S\s", c)]
        self.assertEqual(len(configure), 1, "one cmake configure step in the build stage")
        image_options = {o for o in shlex.split(configure[0]) if o.startswith("-D")}
        image_options -= {"-DDJPROXY_TESTS=OFF", "-DDJPROXY_BENCH=OFF"}  # the tests need them
        script = (repo() / "scripts" / "test.sh").read_text()
        first_build = re.search(r"^build build (.*)$", script, re.M)
        self.assertIsNotNone(first_build, "scripts/test.sh: `build build …` (the first stage)")
        helper = re.search(r"^build\(\)\s*\{.*?^\}", script, re.M | re.S)
        self.assertIsNotNone(helper, "scripts/test.sh: the build() helper")
        ci_options = set(shlex.split(first_build.group(1))) | set(re.findall(r"-D\w+=\w+", helper.group(0)))
        self.assertLessEqual(image_options, ci_options, "test.sh's first stage builds the image's configuration")
        self.assertIn("-DDJPROXY_WERROR=ON", ci_options, "test.sh holds the build to -Werror")

    def test_runtime_runs_as_non_root(self):
        users = self.instructions("USER")
        self.assertTrue(users, "the runtime stage sets USER")
        user = users[-1].split(":")[0]
        self.assertNotIn(user, ("root", "0"))
        self.assertRegex(user, r"^\d+$", "a numeric uid, so Kubernetes' runAsNonRoot can verify it")

    def test_runtime_interface(self):
        ports = {p.split("/")[0] for a in self.instructions("EXPOSE") for p in a.split()}
        self.assertLessEqual({"6033", "9033"}, ports)
        self.assertEqual(exec_form(self.instructions("ENTRYPOINT")[-1]), ["djproxy"])
        self.assertEqual(exec_form(self.instructions("CMD")[-1]), ["serve"])

        env = {}
        for args in self.instructions("ENV"):
            for token in shlex.split(args):
                name, _, value = token.partition("=")
                env[name] = value
        self.assertEqual(env.get("DJPROXY_LISTEN"), "0.0.0.0:6033")
        self.assertEqual(env.get("DJPROXY_ADMIN_LISTEN"), "0.0.0.0:9033")
        self.assertEqual(env.get("DJPROXY_AUDIT_LOG"), "-")
        self.assertIn(str(split_host_port(env["DJPROXY_LISTEN"])[1]), ports)
        self.assertIn(str(split_host_port(env["DJPROXY_ADMIN_LISTEN"])[1]), ports)

    def test_healthcheck(self):
        checks = self.instructions("HEALTHCHECK")
        self.assertEqual(len(checks), 1, "one HEALTHCHECK")
        command = checks[0][checks[0].index("CMD") + 3:].strip()
        argv = exec_form(command)
        # Exec form and the proxy's own probe: the runtime image needs no shell.
        self.assertTrue(argv, f"HEALTHCHECK is not in exec form: {command}")
        self.assertEqual(argv[:2], ["djproxy", "health"], command)
        self.assertNotIn("--ready", argv, "liveness: /healthz, not /readyz (a backend outage is not the sidecar's)")

    def test_rootfs_holds_djproxy_and_what_it_loads_and_no_shell(self):
        """docker/rootfs.sh on the built binary, as the image's rootfs stage runs it; as
        root, djproxy and every client plugin are then loaded inside a chroot of it, so
        a library the image lacks fails here rather than in a cluster."""
        if not OPTIONS.djproxy:
            self.skipTest("no --djproxy given")
        with tempfile.TemporaryDirectory() as tmp:
            rootfs = Path(tmp) / "rootfs"
            r = subprocess.run(["bash", str(docker_dir() / "rootfs.sh"), OPTIONS.djproxy, str(rootfs)],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            for shell in ("bin/sh", "bin/bash", "usr/bin/sh", "usr/bin/bash", "usr/bin/dash", "usr/bin/env"):
                self.assertFalse((rootfs / shell).exists(), f"{shell} in the image")
            self.assertTrue((rootfs / "usr/local/bin/djproxy").is_file())
            self.assertTrue((rootfs / "etc/ssl/certs/ca-certificates.crt").is_file())
            plugins = sorted(rootfs.glob("usr/lib/*/libmariadb3/plugin/*.so"))
            self.assertIn("client_ed25519.so", [p.name for p in plugins])
            self.assertIn("caching_sha2_password.so", [p.name for p in plugins])
            if os.geteuid() != 0 or not shutil.which("chroot", path="/usr/sbin:/usr/bin:/sbin:/bin"):
                self.skipTest("loading inside the rootfs needs root (chroot)")
            linked = subprocess.run(["ldd", OPTIONS.djproxy], capture_output=True, text=True).stdout
            if re.search(r"lib(asan|ubsan|lsan|tsan)", linked):
                # A sanitizer runtime needs /proc, which the chroot lacks; the image is
                # built without one.
                self.skipTest("a sanitizer build is not the image's binary")
            env = clean_env({"PATH": "/usr/local/bin"})
            chroot = shutil.which("chroot", path="/usr/sbin:/usr/bin:/sbin:/bin")
            r = subprocess.run([chroot, "--userspec=10001:10001", str(rootfs), "djproxy", "config", "--json"],
                               env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("settings", json.loads(r.stdout))
            loaders = sorted(p for p in rootfs.glob("usr/lib*/**/ld-linux*.so*") if p.is_file())
            self.assertTrue(loaders, "the dynamic loader")
            loader = "/" + str(loaders[0].relative_to(rootfs))
            for plugin in plugins:
                inside = "/" + str(plugin.relative_to(rootfs))
                with self.subTest(plugin=plugin.name):
                    r = subprocess.run([chroot, str(rootfs), loader, "--list", inside], env=env,
                                       capture_output=True, text=True, timeout=60)
                    self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                    self.assertNotIn("not found", r.stdout)


# ---- YAML and names ----------------------------------------------------------------

class DocumentsTest(unittest.TestCase):
    def test_every_yaml_document_parses(self):
        files = yaml_files()
        self.assertGreaterEqual(len(files), 3, files)
        for path in files:
            with self.subTest(file=str(path.relative_to(repo()))):
                docs = load_all(path)
                self.assertTrue(docs, "at least one document")
                for doc in docs:
                    self.assertIsInstance(doc, dict)
                    if path.parent.name == "k8s":
                        for field in ("apiVersion", "kind", "metadata"):
                            self.assertIn(field, doc)
                        self.assertIn("name", doc["metadata"])

    def test_binary_and_descriptor_list_agree(self):
        # The names the binary reports are the ones parsed from config/descriptors.hpp,
        # so the aliases and scopes taken from the header are current.
        from_binary = {item["env"] for item in binary_settings().values()}
        from_header = {d["env"] for d in header_descriptors()}
        self.assertEqual(from_binary, from_header)

    def test_every_dj_name_is_known(self):
        known = known_names()
        files = [docker_dir() / "Dockerfile", *yaml_files()]
        for path in files:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                for name in NAME.findall(line):
                    with self.subTest(file=f"{path.relative_to(repo())}:{number}", name=name):
                        self.assertIn(name, known, "not a setting djproxy or DataJoint reads")


# ---- running the binary with a manifest's environment -------------------------------

def keypair(directory):
    """An Ed25519 pair made by the built binary: (private key path, public key path)."""
    prefix = Path(directory) / "issuer"
    r = run_djproxy(["token", "keygen", "--out", str(prefix)])
    if r.returncode != 0:
        raise AssertionError(f"djproxy token keygen failed: {r.stderr}")
    return Path(str(prefix) + ".key"), Path(str(prefix) + ".pub")


KEY_PATHS = {"DJPROXY_MIGRATION_PUBLIC_KEY": 1, "DJPROXY_MIGRATION_PRIVATE_KEY": 0}


def check_djproxy_env(test, env, where, files=None):
    """`djproxy config` and `djproxy check` accept the environment a manifest gives djproxy.

    Secrets mounted in /run/secrets/datajoint are given as *_FILE variables pointing
    to stand-in files, since the loader's secrets directory is fixed. `files` maps a
    path inside the container to the content the manifest puts there (a ConfigMap's
    public key); a key path with no content given gets a pair made by the binary."""
    with tempfile.TemporaryDirectory() as tmp:
        stand_ins = {"DJ_USER_FILE": "worker", "DJ_PASS_FILE": "secret"}
        env = {k: str(v) for k, v in env.items()}
        for name, value in stand_ins.items():
            if name not in env:
                Path(tmp, name).write_text(value + "\n")
                env[name] = str(Path(tmp, name))
        pair = None
        for name, value in list(env.items()):
            if files and value in files:
                local = Path(tmp, "file-" + name)
                local.write_text(files[value])
                env[name] = str(local)
            elif name in KEY_PATHS:
                pair = pair or keypair(tmp)
                env[name] = str(pair[KEY_PATHS[name]])
        r = run_djproxy(["config", "--json"], env=env)
        test.assertEqual(r.returncode, 0, f"{where}: djproxy config: {r.stderr}")
        test.assertEqual(json.loads(r.stdout)["warnings"], [], where)
        r = run_djproxy(["check"], env=env)
        test.assertEqual(r.returncode, 0, f"{where}: djproxy check:\n{r.stdout}{r.stderr}")
        test.assertNotIn("warning", r.stdout, where)
        return json.loads(run_djproxy(["config", "--json"], env=env).stdout)["settings"]


def public_key_only(test, settings, where):
    """A sidecar verifies Ed25519 tokens and holds nothing that signs one."""
    test.assertTrue(settings["migration.public_key"]["value"], f"{where}: migration.public_key")
    for key in ("migration.key", "migration.private_key"):
        test.assertIn(settings[key]["value"], (None, ""), f"{where}: {key} must not be set on a sidecar")


def production_assertions(test, settings, where):
    test.assertEqual(settings["env"]["value"], "production", where)
    test.assertIs(settings["database.create_tables"]["value"], False, where)
    test.assertTrue(settings["database.schema_prefix"]["value"], where)
    test.assertEqual(settings["audit.log"]["value"], "-", f"{where}: audit log on stdout")
    test.assertEqual(settings["policy.mode"]["value"], "enforce", where)


# ---- docker-compose ----------------------------------------------------------------

class ComposeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.path = docker_dir() / "docker-compose.yaml"
        cls.doc = load_all(cls.path)[0]
        cls.services = cls.doc["services"]

    @staticmethod
    def environment(service):
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.partition("=")[::2] for item in env)
        return {k: str(v) for k, v in env.items()}

    def test_docker_compose_config(self):
        tool = shutil.which("docker-compose")
        if tool is None:
            self.skipTest("docker-compose is not installed (scripts/setup.sh installs it)")
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([tool, "-f", str(self.path), "config", "-q"], cwd=tmp, capture_output=True,
                               text=True, timeout=120, env=clean_env({"HOME": tmp}))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_services(self):
        self.assertLessEqual({"db", "djproxy", "worker"}, set(self.services))
        self.assertRegex(self.services["db"]["image"], r"^(mysql:8\.4|mariadb:10\.11)")

    def test_djproxy_is_production_and_accepted_by_the_binary(self):
        env = self.environment(self.services["djproxy"])
        settings = check_djproxy_env(self, env, "compose djproxy")
        production_assertions(self, settings, "compose djproxy")
        host, port = split_host_port(env["DJPROXY_BACKEND"])
        self.assertIn(host, self.services, "DJPROXY_BACKEND names a compose service")
        self.assertEqual(port, 3306)
        grace = parse_duration(settings["timeouts.shutdown_grace"]["value"])
        stop = parse_duration(self.services["djproxy"].get("stop_grace_period", "10s"))
        self.assertGreater(stop, grace, "stop_grace_period leaves djproxy its shutdown grace")

    def test_worker_reaches_the_database_through_djproxy(self):
        worker = self.environment(self.services["worker"])
        proxy = self.environment(self.services["djproxy"])
        host, port = split_host_port(worker["DJ_HOST"])
        self.assertEqual(host, "djproxy")
        self.assertEqual(port, split_host_port(proxy["DJPROXY_LISTEN"])[1])

    def test_credentials_are_secrets_in_the_datajoint_directory(self):
        readable = secrets_file_names()
        declared = self.doc.get("secrets") or {}
        for name in ("djproxy", "worker"):
            service = self.services[name]
            env = self.environment(service)
            self.assertFalse({"DJ_PASS", "DJPROXY_MIGRATION_KEY"} & set(env), f"{name}: no secret in the environment")
            targets = {}
            for item in service.get("secrets") or []:
                source = item if isinstance(item, str) else item["source"]
                self.assertIn(source, declared)
                target = item.get("target") if isinstance(item, dict) else None
                targets[source] = target
            for source, target in targets.items():
                with self.subTest(service=name, secret=source):
                    self.assertIsNotNone(target)
                    self.assertEqual(os.path.dirname(target), SECRETS_DIR)
                    self.assertIn(os.path.basename(target), readable)
            files = {os.path.basename(t) for t in targets.values() if t}
            self.assertLessEqual({"database.user", "database.password"}, files, name)

    def test_sidecar_gets_only_the_public_key(self):
        proxy = self.services["djproxy"]
        env = self.environment(proxy)
        settings = check_djproxy_env(self, env, "compose djproxy")
        public_key_only(self, settings, "compose djproxy")
        mounts = {}
        for volume in proxy.get("volumes") or []:
            source, target, *mode = volume.split(":")
            mounts[target] = (source, mode)
        path = env["DJPROXY_MIGRATION_PUBLIC_KEY"]
        self.assertIn(path, mounts, "the public key is mounted where DJPROXY_MIGRATION_PUBLIC_KEY points")
        source, mode = mounts[path]
        self.assertTrue(source.endswith(".pub"), source)
        self.assertEqual(mode, ["ro"])

    def test_no_service_holds_a_signing_key(self):
        signing_env = {"DJPROXY_MIGRATION_KEY", "DJPROXY_MIGRATION_KEY_FILE", "DJPROXY_MIGRATION_PRIVATE_KEY",
                       "DJPROXY_MIGRATION_PRIVATE_KEY_FILE"}
        for name, service in self.services.items():
            with self.subTest(service=name):
                self.assertFalse(signing_env & set(self.environment(service)))
                for item in service.get("secrets") or []:
                    source = item if isinstance(item, str) else item["source"]
                    self.assertNotIn("migration_key", source)
                    self.assertFalse(source.endswith(".key"), source)
                for volume in service.get("volumes") or []:
                    self.assertFalse(str(volume).split(":")[0].endswith(".key"), volume)
        self.assertFalse([n for n in self.doc.get("secrets") or {} if "migration_key" in n or n.endswith(".key")])


# ---- Kubernetes --------------------------------------------------------------------

def env_of(container):
    out = {}
    for item in container.get("env") or []:
        if "value" in item:
            out[item["name"]] = str(item["value"])
    return out


def is_proxy(container):
    """djproxy serving: the djproxy image with its own entrypoint (CMD serve)."""
    return "djproxy" in container["image"] and "command" not in container \
        and (container.get("args") or ["serve"])[0] == "serve"


def is_native_sidecar(container):
    return container.get("restartPolicy") == "Always"


def pod_spec(doc):
    return doc["spec"]["template"]["spec"]


def secret_keys_in(container, spec):
    """Secret keys a container can read, by mount path."""
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    out = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes[mount["name"]]
        if "secret" in volume:
            items = volume["secret"].get("items")
            out[mount["mountPath"]] = ({i["key"] for i in items} if items else None, volume["secret"]["secretName"])
    return out


SIGNING_ENV = {"DJPROXY_MIGRATION_KEY", "DJPROXY_MIGRATION_KEY_FILE", "DJPROXY_MIGRATION_PRIVATE_KEY",
               "DJPROXY_MIGRATION_PRIVATE_KEY_FILE"}


def is_signing_material(key, value):
    """An HMAC migration key or a private key: what can mint a migration token."""
    return key == "djproxy.migration_key" or "PRIVATE KEY" in str(value)


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        k8s = docker_dir() / "k8s"
        cls.docs = {p.name: load_all(p) for p in sorted(k8s.glob("*.yaml"))}
        cls.all = [d for docs in cls.docs.values() for d in docs]
        cls.secrets = {d["metadata"]["name"]: {**(d.get("data") or {}), **(d.get("stringData") or {})}
                       for d in cls.all if d["kind"] == "Secret"}
        cls.configmaps = {d["metadata"]["name"]: d.get("data") or {} for d in cls.all if d["kind"] == "ConfigMap"}

    def one(self, filename, kind):
        docs = [d for d in self.docs[filename] if d["kind"] == kind]
        self.assertEqual(len(docs), 1, f"{filename}: one {kind}")
        return docs[0]

    def secret_keys(self, name, items):
        self.assertIn(name, self.secrets, f"secret {name} has an example")
        return set(self.secrets[name]) if items is None else items

    def files_in(self, container, spec):
        """Path inside the container -> (kind, object name, key, example content), for
        every Secret and ConfigMap file it mounts."""
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        out = {}
        for mount in container.get("volumeMounts") or []:
            volume = volumes[mount["name"]]
            for kind, examples, ref in (("secret", self.secrets, "secretName"), ("configMap", self.configmaps, "name")):
                if kind not in volume:
                    continue
                name = volume[kind][ref]
                self.assertIn(name, examples, f"{kind} {name} has an example")
                items = volume[kind].get("items") or [{"key": k, "path": k} for k in examples[name]]
                for item in items:
                    self.assertIn(item["key"], examples[name], f"{kind} {name} has {item['key']}")
                    path = os.path.join(mount["mountPath"], item["path"])
                    out[path] = (kind, name, item["key"], examples[name][item["key"]])
        return out

    def assert_cannot_sign(self, container, spec, where):
        self.assertFalse(SIGNING_ENV & {e["name"] for e in container.get("env") or []},
                         f"{where}: {container['name']} has a signing key setting")
        for path, (kind, name, key, content) in self.files_in(container, spec).items():
            self.assertFalse(is_signing_material(key, content),
                             f"{where}: {container['name']} can read a signing key ({kind} {name}/{key} at {path})")

    def check_resources(self, spec, where):
        for c in (spec.get("initContainers") or []) + spec["containers"]:
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    with self.subTest(where=where, container=c["name"], field=f"{part}.{resource}"):
                        self.assertIn(resource, (c.get("resources") or {}).get(part) or {})

    def check_proxy(self, spec, where):
        proxies = [c for c in (spec.get("initContainers") or []) + spec["containers"] if is_proxy(c)]
        self.assertEqual(len(proxies), 1, f"{where}: one djproxy container")
        proxy = proxies[0]
        env = env_of(proxy)
        files = {path: content for path, (_, _, _, content) in self.files_in(proxy, spec).items()}
        settings = check_djproxy_env(self, env, where, files)
        production_assertions(self, settings, where)
        self.assertEqual(settings["listen"]["value"], "127.0.0.1:3306", f"{where}: listens on the pod's loopback")

        # Ed25519: the sidecar verifies with the public key from a mounted file, and
        # can read nothing that signs.
        public_key_only(self, settings, where)
        path = env.get("DJPROXY_MIGRATION_PUBLIC_KEY")
        self.assertIn(path, files, f"{where}: DJPROXY_MIGRATION_PUBLIC_KEY names a mounted file")
        self.assertIn("BEGIN PUBLIC KEY", files[path])
        self.assert_cannot_sign(proxy, spec, where)

        # Probes on the admin port, by number or by name.
        admin_port = split_host_port(settings["admin_listen"]["value"])[1]
        ports = {p.get("name"): p["containerPort"] for p in proxy.get("ports") or []}
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            with self.subTest(where=where, probe=probe):
                get = proxy[probe]["httpGet"]
                self.assertEqual(get["path"], path)
                self.assertEqual(ports.get(get["port"], get["port"]), admin_port)
        host = split_host_port(settings["admin_listen"]["value"])[0]
        self.assertIn(host, ("0.0.0.0", "[::]", ""), f"{where}: the kubelet probes the pod IP")

        mounts = secret_keys_in(proxy, spec)
        self.assertIn(SECRETS_DIR, mounts, f"{where}: secrets as a volume at {SECRETS_DIR}")
        items, name = mounts[SECRETS_DIR]
        self.assertLessEqual(self.secret_keys(name, items), secrets_file_names())
        sc = proxy.get("securityContext") or {}
        self.assertTrue(sc.get("runAsNonRoot"), f"{where}: runAsNonRoot")
        return proxy, settings

    def check_client(self, container, spec, proxy_settings, where):
        self.assertEqual(env_of(container).get("DJ_HOST"), proxy_settings["listen"]["value"],
                         f"{where}: DJ_HOST points at the sidecar")
        self.assert_cannot_sign(container, spec, where)

    def test_secret_examples_in_the_datajoint_directory_use_the_file_names_djproxy_reads(self):
        self.assertTrue(self.secrets)
        mounted = set()
        for doc in self.all:
            if doc["kind"] not in ("Deployment", "Job"):
                continue
            spec = pod_spec(doc)
            for c in (spec.get("initContainers") or []) + spec["containers"]:
                for path, (items, name) in secret_keys_in(c, spec).items():
                    if path == SECRETS_DIR:
                        mounted.add(name)
        self.assertTrue(mounted)
        for name in mounted:
            self.assertLessEqual(set(self.secrets[name]), secrets_file_names(), name)

    def test_deployment(self):
        deployment = self.one("deployment.yaml", "Deployment")
        spec = pod_spec(deployment)
        proxy, settings = self.check_proxy(spec, "deployment")
        workers = [c for c in spec["containers"] if not is_proxy(c)]
        self.assertTrue(workers, "a worker container")
        for worker in workers:
            self.check_client(worker, spec, settings, "deployment")
        if proxy in (spec.get("initContainers") or []):
            self.assertTrue(is_native_sidecar(proxy), "djproxy in initContainers must be a native sidecar")
        self.check_resources(spec, "deployment")

        # The pod's grace period covers any preStop pause plus djproxy's shutdown grace.
        grace = parse_duration(settings["timeouts.shutdown_grace"]["value"])
        pause = 0
        pre_stop = ((proxy.get("lifecycle") or {}).get("preStop") or {})
        if "sleep" in pre_stop:
            pause = int(pre_stop["sleep"]["seconds"])
        elif "exec" in pre_stop:
            m = re.search(r"sleep\s+(\d+)", " ".join(pre_stop["exec"]["command"]))
            pause = int(m.group(1)) if m else 0
        self.assertGreaterEqual(spec.get("terminationGracePeriodSeconds", 30), pause + grace + 5)

    def test_migration_job(self):
        job = self.one("migration-job.yaml", "Job")
        spec = pod_spec(job)
        self.assertEqual(spec["restartPolicy"], "Never")
        proxy, settings = self.check_proxy(spec, "migration job")
        inits = spec.get("initContainers") or []
        self.assertIn(proxy, inits, "the proxy is a native sidecar, so the Job can complete")
        self.assertTrue(is_native_sidecar(proxy))
        self.check_resources(spec, "migration job")

        issuers = [c for c in inits if issuer_argv(c)[1:3] == ["token", "issue"]]
        self.assertEqual(len(issuers), 1, "one init container issues the token")
        issuer = issuers[0]
        self.assertLess(inits.index(issuer), inits.index(proxy), "the token exists before anything runs")
        argv = issuer_argv(issuer)
        # Exec form: the image has no shell.
        self.assertEqual(argv[0], "djproxy")
        ttl = parse_duration(argv[argv.index("--ttl") + 1])
        self.assertLessEqual(ttl, parse_duration(settings["migration.max_token_ttl"]["value"]))
        self.assertLessEqual(job["spec"].get("activeDeadlineSeconds", float("inf")), ttl,
                             "the Job does not outlive its token")

        # The private key: in the issuer only, where DJPROXY_MIGRATION_PRIVATE_KEY points.
        files = self.files_in(issuer, spec)
        private = env_of(issuer).get("DJPROXY_MIGRATION_PRIVATE_KEY")
        self.assertIn(private, files, "the issuer signs with a mounted private key")
        self.assertEqual(files[private][0], "secret", "the private key comes from a Secret")
        for c in inits + spec["containers"]:
            if c is not issuer:
                self.assert_cannot_sign(c, spec, "migration job")

        volumes = {v["name"]: v for v in spec["volumes"]}
        shared = [m for m in issuer["volumeMounts"] if "emptyDir" in volumes[m["name"]]]
        self.assertEqual(len(shared), 1, "the token goes to an emptyDir")
        main = [c for c in spec["containers"] if not is_proxy(c)]
        self.assertEqual(len(main), 1)
        migrate = main[0]
        self.assertIn(shared[0]["name"], {m["name"] for m in migrate["volumeMounts"]}, "migrate reads the token")
        self.assertIn("@djproxy_migration", " ".join(migrate.get("command", []) + migrate.get("args", [])))
        self.check_client(migrate, spec, settings, "migration job")

        self.run_issuer(issuer, spec, proxy)

    def run_issuer(self, issuer, spec, proxy):
        """Runs the init container's command with the built binary, $(VAR) expanded as
        the kubelet does, then checks the token as the sidecar would: the sidecar's
        environment verifies it, and cannot issue one itself."""
        if not OPTIONS.djproxy:
            self.skipTest("no --djproxy given")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            private, public = keypair(tmp)
            volumes = {v["name"]: v for v in spec["volumes"]}

            def local(path, mounts):
                for mount in mounts:
                    if path.startswith(mount["mountPath"] + "/"):
                        return str(tmp / mount["name"]) + path[len(mount["mountPath"]):]
                return path

            for mount in issuer["volumeMounts"]:
                (tmp / mount["name"]).mkdir()
                volume = volumes[mount["name"]]
                for item in (volume.get("secret") or {}).get("items") or []:
                    shutil.copy(private, tmp / mount["name"] / item["path"])
            env = {k: local(v, issuer["volumeMounts"]) for k, v in env_of(issuer).items()}
            env.update({"JOB_NAME": "test", "POD_NAME": "test-pod"})
            argv = [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a) for a in issuer_argv(issuer)]
            argv = [local(a, issuer["volumeMounts"]) for a in argv[1:]]
            r = run_djproxy(argv, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("scope:", r.stdout)
            self.assertIn("note:        job test by test-pod", r.stdout)
            tokens = [p for m in issuer["volumeMounts"] if "emptyDir" in volumes[m["name"]]
                      for p in (tmp / m["name"]).iterdir() if p.is_file()]
            self.assertEqual(len(tokens), 1, tokens)
            token = tokens[0].read_text().strip()
            self.assertTrue(token.startswith("dje1."), token)
            self.assertNotIn(token, r.stdout, "the token itself stays out of the log")

            sidecar = env_of(proxy)
            sidecar["DJPROXY_MIGRATION_PUBLIC_KEY"] = str(public)
            r = run_djproxy(["token", "inspect", token], env=sidecar)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("verifies:    yes", r.stdout)
            r = run_djproxy(["token", "issue", "--schema", "myproject_*", "--ttl", "5m"], env=sidecar)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("only the Ed25519 public key", r.stderr)

    def test_network_policy_admits_only_the_kubelet_and_prometheus_to_the_admin_port(self):
        policy = self.one("networkpolicy.yaml", "NetworkPolicy")["spec"]
        self.assertEqual(policy["policyTypes"], ["Ingress"])
        admin_ports = set()
        for filename, kind in (("deployment.yaml", "Deployment"), ("migration-job.yaml", "Job")):
            template = self.one(filename, kind)["spec"]["template"]
            self.assertTrue(selects(policy["podSelector"], template["metadata"]["labels"]), f"selects {filename}")
            for c in (template["spec"].get("initContainers") or []) + template["spec"]["containers"]:
                if is_proxy(c):
                    admin_ports.add(split_host_port(env_of(c)["DJPROXY_ADMIN_LISTEN"])[1])
        self.assertEqual(len(admin_ports), 1, admin_ports)
        self.assertEqual(len(policy["ingress"]), 1)
        rule = policy["ingress"][0]
        self.assertEqual(rule["ports"], [{"protocol": "TCP", "port": admin_ports.pop()}])
        peers = rule["from"]
        self.assertEqual(len(peers), 2, "the nodes (kubelet) and Prometheus")
        self.assertEqual(set(peers[0]), {"ipBlock"})
        self.assertEqual(set(peers[1]), {"namespaceSelector", "podSelector"}, "Prometheus' pods in its namespace only")

    def test_deployment_cannot_sign(self):
        spec = pod_spec(self.one("deployment.yaml", "Deployment"))
        for c in (spec.get("initContainers") or []) + spec["containers"]:
            self.assert_cannot_sign(c, spec, "deployment")


def selects(selector, labels):
    """A Kubernetes label selector (matchLabels, matchExpressions In/NotIn/Exists) against labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        present, value = e["key"] in labels, labels.get(e["key"])
        ok = {"In": present and value in e.get("values", []), "NotIn": not present or value not in e.get("values", []),
              "Exists": present, "DoesNotExist": not present}[e["operator"]]
        if not ok:
            return False
    return True


def issuer_argv(container):
    """The argv a container runs: its command, or the image's entrypoint (djproxy) and its args."""
    if "command" in container:
        return list(container["command"]) + list(container.get("args") or [])
    return (["djproxy"] if "djproxy" in container["image"] else ["<entrypoint>"]) + list(container.get("args") or [])


def main():
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--djproxy")
    parser.add_argument("--repo", default=str(HERE.parent.parent))
    options, rest = parser.parse_known_args()
    OPTIONS.djproxy, OPTIONS.repo = options.djproxy, options.repo
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
