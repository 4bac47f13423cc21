"""End-to-end tests of `lmlab kernel` with the real Jupyter client (run by KernelTests/JupyterClientTests.swift).

JUPYTER_PATH must point at a share/jupyter folder holding the lmlab kernelspec.
"""
import os
import queue
import subprocess
import sys
import tempfile
import time
import unittest

import jupyter_kernel_test
import zmq
from jupyter_client import KernelManager
from jupyter_client.session import Session

TIMEOUT = 60


class LMLabConformance(jupyter_kernel_test.KernelTests):
    """jupyter_kernel_test's conformance suite."""

    kernel_name = "lmlab"
    language_name = "lmlab"
    file_extension = ".lmlab"
    code_hello_world = "print('hello, world')"
    completion_samples = [{"text": "pri", "matches": {"print"}}]
    complete_code_samples = ["1 + 1", "a = [1,\n 2]", "print('x')"]
    incomplete_code_samples = ["a = [1,", "print('x'", "s = 'abc"]
    invalid_code_samples = ["a = = 1", "1 +", "(1))"]
    code_inspect_sample = "print"
    code_execute_result = [{"code": "6 * 7", "result": "42"}, {"code": "'a' + 'b'", "result": "'ab'"}]
    code_display_data = [{"code": "plot([3, 1, 2])", "mime": "image/svg+xml"}]
    code_generate_error = "undefined_name_x"


class Kernel:
    """A started lmlab kernel with a blocking client; its stderr goes to a file."""

    def __init__(self):
        self.stderr = tempfile.NamedTemporaryFile("w+", suffix=".stderr", delete=False)
        self.km = KernelManager(kernel_name="lmlab")
        self.km.start_kernel(stderr=self.stderr)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)

    def close(self):
        self.kc.stop_channels()
        if self.km.is_alive():
            self.km.shutdown_kernel(now=True)
        self.stderr.close()
        os.unlink(self.stderr.name)

    def stderr_text(self):
        self.stderr.flush()
        with open(self.stderr.name) as f:
            return f.read()

    def run(self, code, timeout=TIMEOUT):
        """Executes code; returns the reply and the iopub messages of the request."""
        msg_id = self.kc.execute(code)
        reply = self.kc.get_shell_msg(timeout=timeout)
        assert reply["parent_header"]["msg_id"] == msg_id
        return reply, self.iopub_until_idle(msg_id)

    def iopub_until_idle(self, msg_id, timeout=TIMEOUT):
        msgs = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            msgs.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return msgs
        raise AssertionError("no idle status for " + msg_id)


TRAIN = """dls_lm = sample_lm_data(n_texts=200, bs=8, seq_len=24, max_vocab=500)
learn = language_model_learner(dls_lm, AWD_LSTM, metrics=[accuracy], emb_sz=16, n_hid=32, n_layers=1)"""


class LMLabKernelBehaviour(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kernel()

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def test_state_persists_and_counts(self):
        r1, _ = self.k.run("x = 20")
        r2, msgs = self.k.run("x + 1")
        self.assertEqual(r2["content"]["execution_count"], r1["content"]["execution_count"] + 1)
        results = [m for m in msgs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "21")
        inputs = [m for m in msgs if m["msg_type"] == "execute_input"]
        self.assertEqual(inputs[0]["content"]["code"], "x + 1")
        states = [m["content"]["execution_state"] for m in msgs if m["msg_type"] == "status"]
        self.assertEqual(states, ["busy", "idle"])

    def test_error_has_cell_line_and_column(self):
        reply, msgs = self.k.run("a = 1\nb = nope_name")
        self.assertEqual(reply["content"]["status"], "error")
        errors = [m for m in msgs if m["msg_type"] == "error"]
        self.assertEqual(len(errors), 1)
        self.assertTrue(errors[0]["content"]["evalue"].startswith("unknown name 'nope_name'"))
        self.assertIn(":2:5: unknown name", errors[0]["content"]["traceback"][0])
        # The session goes on.
        reply, _ = self.k.run("a")
        self.assertEqual(reply["content"]["status"], "ok")

    def test_text_plain_is_the_repl_print_and_tables_have_html(self):
        _, msgs = self.k.run("tkn = WordTokenizer(); show_tokens = 1; randn(2, 3, seed=0).shape")
        result = [m for m in msgs if m["msg_type"] == "execute_result"][0]
        self.assertEqual(result["content"]["data"]["text/plain"], "(2, 3)")

    def test_fit_shows_progress_and_table_in_place_then_interrupt_by_signal_and_message(self):
        reply, _ = self.k.run(TRAIN, timeout=300)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        reply, msgs = self.k.run("learn.fit(1, 1e-3)", timeout=600)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        displays = [m for m in msgs if m["msg_type"] in ("display_data", "update_display_data")]
        ids = {m["content"]["transient"]["display_id"] for m in displays}
        self.assertEqual(len(ids), 2, "one progress bar and one epoch table")
        tables = [m for m in displays if "epoch" in m["content"]["data"].get("text/plain", "")]
        self.assertIn("<table", tables[-1]["content"]["data"]["text/html"])
        self.assertIn("train_loss", tables[-1]["content"]["data"]["text/plain"])
        streams = [m for m in msgs if m["msg_type"] == "stream"]
        self.assertLess(len(streams), 5, "no stream lines for progress")
        for how in ("signal", "message"):
            with self.subTest(interrupt=how):
                self.interrupt_fit(how)

    def interrupt_fit(self, how):
        k = self.k
        msg_id = k.kc.execute("learn.fit(50, 1e-3)\nprint('not reached')")
        # Wait until training runs (a progress display appears), then interrupt.
        deadline = time.time() + 300
        seen = []
        while time.time() < deadline:
            msg = k.kc.get_iopub_msg(timeout=300)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen.append(msg)
            if msg["msg_type"] in ("display_data", "update_display_data") and "train" in msg["content"]["data"].get("text/plain", ""):
                break
        if how == "signal":
            k.km.interrupt_kernel()
        else:
            msg = k.kc.session.msg("interrupt_request", {})
            k.kc.control_channel.send(msg)
            self.assertEqual(k.kc.control_channel.get_msg(timeout=TIMEOUT)["msg_type"], "interrupt_reply")
        reply = k.kc.get_shell_msg(timeout=120)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["evalue"], "interrupted")
        rest = k.iopub_until_idle(msg_id)
        text = "".join(m["content"]["text"] for m in seen + rest if m["msg_type"] == "stream")
        self.assertIn("interrupted at epoch 0", text)
        self.assertNotIn("not reached", text)
        reply, msgs = k.run("1 + 1")
        self.assertEqual([m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"], ["2"])

    def test_bad_messages_are_dropped_with_a_line_and_the_kernel_goes_on(self):
        k = self.k
        info = k.km.get_connection_info()
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.connect("tcp://%s:%d" % (info["ip"], info["shell_port"]))
        good = Session(key=info["key"])
        wrong = Session(key=b"not-the-key")
        wrong.send(sock, "kernel_info_request", {})
        sock.send_multipart([b"<IDS|MSG>", b"", b"{", b"{}", b"{}", b"{}"])  # malformed and unsigned
        good.send(sock, "no_such_request", {})
        bad_json = [b"{not json", b"{}", b"{}", b"{}"]
        sock.send_multipart([b"<IDS|MSG>", good.sign(bad_json)] + bad_json)
        good.send(sock, "kernel_info_request", {})
        self.assertTrue(sock.poll(TIMEOUT * 1000))
        _, reply = good.recv(sock)
        self.assertEqual(reply["msg_type"], "kernel_info_reply")
        self.assertEqual(reply["content"]["language_info"]["name"], "lmlab")
        sock.close()
        err = k.stderr_text()
        self.assertIn("shell: message with a wrong signature dropped", err)
        self.assertIn("shell: unknown message type 'no_such_request' ignored", err)
        self.assertIn("shell: malformed message: header is not a JSON object", err)

    def test_any_cell_content_gives_an_error_not_a_crash(self):
        for code in ["(((", "'\\x", "1/0", "[" * 500, "\x00", "learn_missing.fit(1)", "help nothing_like_this"]:
            reply, _ = self.k.run(code)
            self.assertIn(reply["content"]["status"], ("ok", "error"))
        reply, _ = self.k.run("2 + 2")
        self.assertEqual(reply["content"]["status"], "ok")

    def test_complete_and_inspect(self):
        self.k.kc.complete("learn_x = 1; pri", 16)
        reply = self.k.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertIn("print", reply["content"]["matches"])
        self.assertEqual(reply["content"]["cursor_start"], 13)
        self.k.kc.inspect("randn(2)", 2)
        reply = self.k.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertTrue(reply["content"]["found"])
        self.assertIn("randn(", reply["content"]["data"]["text/plain"])


class Lifecycle(unittest.TestCase):
    def assertExits(self, k):
        deadline = time.time() + 20
        while k.km.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        self.assertFalse(k.km.is_alive(), "the kernel should exit after its shutdown reply")

    def test_shutdown_on_shell(self):
        k = Kernel()
        try:
            msg = k.kc.session.msg("shutdown_request", {"restart": False})
            k.kc.shell_channel.send(msg)
            self.assertEqual(k.kc.get_shell_msg(timeout=TIMEOUT)["msg_type"], "shutdown_reply")
            self.assertExits(k)
        finally:
            k.close()

    def test_shutdown_on_control(self):
        k = Kernel()
        try:
            k.kc.shutdown()
            self.assertEqual(k.kc.control_channel.get_msg(timeout=TIMEOUT)["msg_type"], "shutdown_reply")
            self.assertExits(k)
        finally:
            k.close()

    def test_shutdown_on_control_while_a_cell_trains(self):
        # The reply comes at once; the cell stops at its next batch and the kernel exits.
        k = Kernel()
        try:
            reply, _ = k.run(TRAIN, timeout=300)
            self.assertEqual(reply["content"]["status"], "ok", reply["content"])
            msg_id = k.kc.execute("learn.fit(50, 1e-3)")
            deadline = time.time() + 300
            while time.time() < deadline:
                msg = k.kc.get_iopub_msg(timeout=300)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] in ("display_data", "update_display_data"):
                    break
            k.kc.shutdown()
            self.assertEqual(k.kc.control_channel.get_msg(timeout=TIMEOUT)["msg_type"], "shutdown_reply")
            self.assertExits(k)
            self.assertNotIn("still running", k.stderr_text(), "the cell should stop at the interrupt, not at the grace period")
        finally:
            k.close()

    def test_orphaned_kernel_exits(self):
        # A parent that starts the kernel and dies without shutting it down.
        script = (
            "import os, sys\n"
            "from jupyter_client import KernelManager\n"
            "import subprocess\n"
            "km = KernelManager(kernel_name='lmlab')\n"
            "km.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print(km.provisioner.process.pid, flush=True)\n"
            "os._exit(0)\n"
        )
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT)
        pid = int(out.stdout.split()[0])
        deadline = time.time() + 20
        alive = True
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                alive = False
                break
            # A zombie (not yet reaped by init) counts as gone.
            try:
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().split(")")[-1].split()[0] == "Z":
                        alive = False
                        break
            except FileNotFoundError:
                alive = False
                break
            time.sleep(0.2)
        if alive:
            os.kill(pid, 9)
        self.assertFalse(alive, "the orphaned kernel should exit by itself")


if __name__ == "__main__":
    unittest.main(verbosity=2)
