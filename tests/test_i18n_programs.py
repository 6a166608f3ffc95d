"""The programs in Spanish (issue 12 part 2): the msgid catalogue is complete and has nothing
stale, stored English texts are shown translated, and a real TCP server + client run with
``LANG=es_CO.UTF-8`` / ``--lang es`` prints and logs Spanish (the .jsonl stays English)."""

import json
import os
import re
import string
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from transfer import i18n, msgids
from transfer.catalog import generate_file

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PROGRAMS = ("tcp/server.py", "tcp/client.py", "udp/server.py", "udp/client.py")


def _keys(template):
    """The replacement fields of a str.format template (automatic ones numbered), plus %(x)s ones."""
    keys, auto = [], 0
    for _literal, name, _spec, _conversion in string.Formatter().parse(template):
        if name is None:
            continue
        name = name.split(".")[0].split("[")[0]
        if name == "":
            keys.append(auto)
            auto += 1
        else:
            keys.append(int(name) if name.isdigit() else name)
    percent = re.findall(r"%\((\w+)\)[sdrf]|%[sr]", template)
    return sorted(map(str, keys)), sorted(percent)


def _env(**changes):
    env = dict(os.environ)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "FILELAB_DEBUG"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(changes)
    return env


class CatalogueTest(unittest.TestCase):
    """Every _()/N_()/help= msgid of the programs has a Spanish text with the same fields."""

    @classmethod
    def setUpClass(cls):
        cls.found = msgids.all_msgids()
        cls.es = i18n.program_catalogue("es")

    def test_found_the_programs_texts(self):
        # the extractor must see the three kinds of marks, else the checks below prove nothing
        self.assertIn("File to send (number or name, q to quit): ", self.found)      # _()
        self.assertIn("connection lost after {:,} bytes: {}", self.found)            # N_()
        self.assertIn("folder for logs (default: Logs/)", self.found)                # help=
        self.assertGreater(len(self.found), 150)

    def test_every_msgid_has_spanish(self):
        missing = ["{!r} ({})".format(text, places[0]) for text, places in sorted(self.found.items())
                   if text not in self.es]
        self.assertEqual(missing, [], "no Spanish text in transfer/locales/es_programs.py for")

    def test_no_stale_spanish(self):
        stale = sorted(text for text in self.es if text not in self.found and text not in i18n.ARGPARSE_MSGIDS)
        self.assertEqual(stale, [], "Spanish entries no program uses any more")

    def test_same_fields(self):
        for text, spanish in self.es.items():
            self.assertEqual(_keys(spanish), _keys(text), "fields differ: {!r}".format(text))

    def test_check_can_fail(self):
        # drop one entry: the missing-message check above must notice it
        es = dict(self.es)
        es.pop("File to send (number or name, q to quit): ")
        self.assertTrue(any(text not in es for text in self.found))

    def test_no_function_shadows_underscore(self):
        # `for _, x in ...` in a function that also calls _("...") breaks the translation
        problems = []
        for path in msgids.source_files():
            problems.extend("{}: {} line {}".format(os.path.relpath(path, str(ROOT)), name, line)
                            for name, line in msgids.shadowed_underscore(path))
        self.assertEqual(problems, [])

    def test_helpers_imported(self):
        # _()/N_()/localize() called without its import is a NameError on a rare path (a merge can drop it)
        problems = {os.path.relpath(path, str(ROOT)): msgids.unimported(path) for path in msgids.source_files()}
        self.assertEqual({path: names for path, names in problems.items() if names}, {})

    def test_guide_terms(self):
        text = " ".join(self.es.values()).lower()
        for term in ("prueba", "cliente", "archivo", "tiempo de transferencia", "tasa de transferencia",
                     "exitosa", "fallida"):
            self.assertIn(term, text)


class TranslateTest(unittest.TestCase):
    """_(), N_(), localize(), prescan() and setup()."""

    def tearDown(self):
        i18n.set_language("en")

    def test_underscore_and_fallback(self):
        i18n.set_language("en")
        self.assertEqual(i18n._("How many clients to start?"), "How many clients to start?")
        i18n.set_language("es")
        self.assertEqual(i18n._("How many clients to start?"), "¿Cuántos clientes iniciar?")
        self.assertEqual(i18n._("{}/{} ready").format(1, 2), "1/2 listos")
        self.assertEqual(i18n._("not in any catalogue {}").format(3), "not in any catalogue 3")
        self.assertEqual(i18n.N_("connection lost: {}"), "connection lost: {}")

    def test_localize_stored_reasons(self):
        i18n.set_language("es")
        reason = "server interrupted (connection lost after 1,048,576 bytes: [Errno 104] Connection reset by peer)"
        self.assertEqual(i18n.localize(reason), "servidor interrumpido (conexión perdida después de 1.048.576 "
                                                "bytes: [Errno 104] Connection reset by peer)")
        self.assertEqual(i18n.localize("did not finish"), "no terminó")
        self.assertEqual(i18n.localize("server is busy: 'this test already has its 2 client(s)'"),
                         "el servidor está ocupado: 'esta prueba ya tiene sus 2 cliente(s)'")
        self.assertEqual(i18n.localize("something no catalogue knows"), "something no catalogue knows")
        self.assertEqual(i18n.localize(reason, "en"), reason)
        i18n.set_language("en")
        self.assertEqual(i18n.localize("did not finish"), "did not finish")

    def test_numbers_in_spanish(self):
        i18n.set_language("es")
        self.assertEqual(i18n._("{:,} bytes in {:.3f} s").format(1234567, 0.5), "1.234.567 bytes en 0,500 s")
        self.assertEqual(i18n._("client {}").format(5001), "cliente 5001")
        self.assertEqual(i18n.localize("connection lost after 1,048,576 bytes: [Errno 104] reset"),
                         "conexión perdida después de 1.048.576 bytes: [Errno 104] reset")
        self.assertEqual(i18n.localize("no answer from 127.0.0.1:5001 within 2.5 s"),
                         "ninguna respuesta de 127.0.0.1:5001 en 2,5 s")
        self.assertEqual(i18n.digits("1,128.0/4,265.9"), "1.128,0/4.265,9")
        self.assertEqual(i18n.digits("127.0.0.1:5001"), "127.0.0.1:5001")
        from transfer.units import format_rate
        self.assertEqual(format_rate(1234.5e6), "1.234,5 MB/s")
        i18n.set_language("en")
        self.assertEqual(format_rate(1234.5e6), "1,234.5 MB/s")
        self.assertEqual(i18n._("{:,} bytes in {:.3f} s").format(1234567, 0.5), "1,234,567 bytes in 0.500 s")

    def test_prescan_and_setup(self):
        self.assertEqual(i18n.prescan(["--port", "0", "--lang", "es"]), "es")
        self.assertEqual(i18n.prescan(["--lang=en"]), "en")
        self.assertIsNone(i18n.prescan(["--", "--lang", "es"]))
        self.assertEqual(i18n.setup(["--lang", "es"], environ={}), "es")
        self.assertEqual(i18n.setup([], environ={"LANG": "es_CO.UTF-8"}), "es")
        self.assertEqual(i18n.setup(["--lang", "en"], environ={"LANG": "es_CO.UTF-8"}), "en")
        self.assertEqual(i18n.setup(["--lang", "fr"], environ={}), "en")   # argparse refuses it afterwards

    def test_parser_errors_in_spanish(self):
        from transfer.config import client_parser
        parser = client_parser("x.py", "d", 5001)
        import io
        from contextlib import redirect_stderr
        err = io.StringIO()
        with redirect_stderr(err), self.assertRaises(SystemExit):
            parser.parse_args(["--lang", "es", "--port", "abc"])
        self.assertIn("se esperaba un puerto de 0 a 65535", err.getvalue())
        self.assertIn("(vea --help)", err.getvalue())
        err = io.StringIO()
        with redirect_stderr(err), self.assertRaises(SystemExit):
            parser.parse_args(["--lang", "en", "--port", "abc"])
        self.assertIn("expected a port from 0 to 65535", err.getvalue())


class HelpTest(unittest.TestCase):
    """--help of every program in Spanish with --lang es or a Spanish locale; English otherwise."""

    def _help(self, program, args, env):
        done = subprocess.run([PYTHON, str(ROOT / program), "--help"] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=60, env=env,
                              cwd=str(ROOT))
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def test_help_in_spanish(self):
        for program in PROGRAMS:
            if not (ROOT / program).exists():
                continue
            with self.subTest(program=program):
                text = self._help(program, ["--lang", "es"], _env())
                self.assertIn("uso: ", text)
                self.assertIn("opciones", text)
                self.assertIn("muestra esta ayuda y termina", text)
                self.assertIn("carpeta de los registros (por omisión: Logs/)", text)
                for english in ("usage:", "show this help", "(default", "folder for logs"):
                    self.assertNotIn(english, text)
                self.assertEqual(self._help(program, [], _env(LANG="es_CO.UTF-8")), text)

    def test_scripts_help_in_spanish(self):
        for program, phrase in (("scripts/benchmark.py", "ejecuta la matriz N veces"),
                                ("scripts/report.py", "título del informe"),
                                ("scripts/capture.py", "archivo pcap que se escribe"),
                                ("scripts/pcap.py", "archivo de captura (pcap o pcapng)")):
            with self.subTest(program=program):
                text = self._help(program, ["--lang", "es"], _env())
                self.assertIn("uso: ", text)
                self.assertIn(phrase, text)
                self.assertNotIn("show this help", text)
                self.assertEqual(self._help(program, [], _env(LANG="es_CO.UTF-8")), text)

    def test_help_in_english_by_default(self):
        text = self._help("tcp/server.py", [], _env(LANG="C.UTF-8"))
        self.assertIn("usage: ", text)
        self.assertIn("folder for logs (default: Logs/)", text)
        self.assertIn("--lang", text)


class SpanishRunTest(unittest.TestCase):
    """A real TCP server and client, in Spanish (locale for one, --lang es for the other)."""

    ENGLISH = ("verified", "connected", "connecting", "receiving", "sending", "waiting", "Waiting",
               "listening", "client(s)", "bytes in all", "aggregate", "received files", "log:", "Test:",
               "success", "transfer time", "summary", "test ended", "expected", "file:")

    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="ftlab-i18n-"))
        (self.root / "files").mkdir()
        generate_file(self.root / "files" / "small.txt", 200 * 1024)

    def tearDown(self):
        import shutil
        shutil.rmtree(str(self.root), ignore_errors=True)

    def _start_server(self, env, extra=()):
        port_file = self.root / "port"
        argv = [PYTHON, str(ROOT / "tcp" / "server.py"), "--bind", "127.0.0.1", "--port", "0", "--port-file",
                str(port_file), "--files-dir", str(self.root / "files"), "--logs-dir", str(self.root / "logs"),
                "--file", "small.txt", "--clients", "2", "--once", "--no-create"] + list(extra)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = port_file.read_text() if port_file.exists() else ""
            if text.endswith("\n"):
                return proc, int(text)
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()
        out, err = proc.communicate()
        self.fail("server did not start: {}".format(err.decode(errors="replace")))

    def _run_tcp_client(self, port, clients, env, *extra):
        """tcp/client.py with --yes against *port*, its folders under the test's root; the finished process."""
        return subprocess.run(
            [PYTHON, str(ROOT / "tcp" / "client.py"), "--host", "127.0.0.1", "--port", str(port),
             "--clients", str(clients), "--yes", "--received-dir", str(self.root / "recv"),
             "--logs-dir", str(self.root / "logs")] + list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=120, env=env)

    def test_server_and_client_speak_spanish(self):
        server, port = self._start_server(_env(LANG="es_CO.UTF-8"))
        try:
            client = self._run_tcp_client(port, 2, _env(LANG="en_US.UTF-8"), "--lang", "es")
            s_out, s_err = server.communicate(timeout=60)
        finally:
            if server.poll() is None:
                server.kill()
                server.communicate()
        s_out, s_err = s_out.decode("utf-8"), s_err.decode("utf-8")
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(server.returncode, 0, s_err)
        logs = {role: (self.root / "logs" / "tcp-{}".format(role)) for role in ("server", "client")}
        texts = {role: next(folder.glob("*-log.txt")).read_text(encoding="utf-8") for role, folder in logs.items()}
        outputs = {"server stdout": s_out, "server stderr": s_err, "client stdout": client.stdout,
                   "client stderr": client.stderr, "server log": texts["server"], "client log": texts["client"]}
        for name, text in outputs.items():
            with self.subTest(output=name):
                for english in self.ENGLISH:
                    self.assertNotIn(english, text)
                self.assertNotIn("Traceback", text)
        self.assertIn("Servidor TCP escuchando en el puerto", s_out)
        self.assertIn("Prueba: archivo small.txt", s_out)
        self.assertIn("tasa de transferencia", s_out)
        self.assertIn("2 de 2 verificados", s_out)
        self.assertIn("cliente 1: verificado", s_err)
        self.assertIn("cliente 2: recibiendo", client.stderr)
        self.assertIn("archivos recibidos: 2", client.stdout)
        for role in ("server", "client"):
            self.assertIn("transferencia exitosa: sí", texts[role])
            self.assertIn("tiempo de transferencia:", texts[role])
            self.assertIn("resultado: EXITOSA", texts[role])
        # the machine-readable log, the wire and the file names do not change with the language
        self.assertTrue((self.root / "recv" / "Cliente1-Prueba-2.txt").exists())
        sidecar = next(logs["server"].glob("*-log.jsonl")).read_text(encoding="utf-8")
        records = [json.loads(line) for line in sidecar.splitlines() if line.strip()]
        self.assertEqual([r["record"] for r in records], ["test", "connection", "connection", "summary"])
        self.assertEqual(records[0]["mode"], "stream")
        self.assertTrue(all(r["ok"] for r in records[1:]))

    def test_udp_server_and_client_speak_spanish(self):
        port_file = self.root / "udp-port"
        server = subprocess.Popen(
            [PYTHON, str(ROOT / "udp" / "server.py"), "--bind", "127.0.0.1", "--port", "0", "--port-file",
             str(port_file), "--files-dir", str(self.root / "files"), "--logs-dir", str(self.root / "logs"),
             "--file", "small.txt", "--clients", "1", "--once", "--no-create", "--reliable"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(LANG="es_CO.UTF-8"))
        try:
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text().endswith("\n")):
                self.assertIsNone(server.poll(), "udp server exited")
                self.assertLess(time.monotonic(), deadline, "udp server did not start")
                time.sleep(0.05)
            client = subprocess.run(
                [PYTHON, str(ROOT / "udp" / "client.py"), "--host", "127.0.0.1", "--port",
                 port_file.read_text().strip(), "--clients", "1", "--yes", "--reliable",
                 "--received-dir", str(self.root / "recv"), "--logs-dir", str(self.root / "logs"), "--lang", "es"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                universal_newlines=True, timeout=120, env=_env())
            s_out, s_err = (text.decode("utf-8") for text in server.communicate(timeout=60))
        finally:
            if server.poll() is None:
                server.kill()
                server.communicate()
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(server.returncode, 0, s_err)
        for name, text in (("server stdout", s_out), ("server stderr", s_err), ("client stdout", client.stdout),
                           ("client stderr", client.stderr)):
            with self.subTest(output=name):
                for english in self.ENGLISH + ("datagrams", "resent", "missing"):
                    self.assertNotIn(english, text)
        self.assertIn("Servidor UDP escuchando en el puerto", s_out)
        self.assertIn("reenviados", s_out)
        self.assertIn("1 de 1 verificados", client.stdout)
        self.assertIn("cliente 1: verificado", client.stderr)
        text_log = next((self.root / "logs" / "udp-client").glob("*-log.txt")).read_text(encoding="utf-8")
        self.assertIn("modo: confiable", text_log)
        self.assertIn("transferencia exitosa: sí", text_log)

    def test_failure_reason_in_spanish_but_english_in_jsonl(self):
        # a client against a closed port: the reason is Spanish on screen and in the text log,
        # English in the .jsonl
        import socket
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        client = self._run_tcp_client(port, 1, _env(LC_ALL="es_ES.UTF-8"), "--timeout", "5")
        self.assertEqual(client.returncode, 1, client.stderr)
        self.assertIn("conexión rechazada por 127.0.0.1:{}".format(port), client.stdout)
        self.assertIn("FALLIDA", client.stdout)
        folder = self.root / "logs" / "tcp-client"
        self.assertIn("transferencia exitosa: no - 'conexión rechazada",
                      next(folder.glob("*-log.txt")).read_text(encoding="utf-8"))
        records = [json.loads(line) for line in next(folder.glob("*-log.jsonl")).read_text().splitlines()]
        reasons = [r["reason"] for r in records if r["record"] == "connection"]
        self.assertEqual(reasons, ["connection refused by 127.0.0.1:{} (is the server running?)".format(port)])


if __name__ == "__main__":
    unittest.main()
