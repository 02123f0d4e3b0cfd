#!/usr/bin/python3
"""A loopback FTP / FTPS (explicit TLS) server for bulkrepo's tests (issue 17).

Started by tests/support/ftp_servers.c (ftp_server_start); run with Debian's /usr/bin/python3
(python3-pyftpdlib, python3-openssl for --tls).  Listens on 127.0.0.1 only, on a port the
kernel picks, and writes that port into --port-file once it accepts connections.

Misbehaviours the pulling-profile tests need:
  --drop NAME:BYTES   the first RETR of NAME sends BYTES bytes, then the data connection is
                      closed and the transfer answered "426 ... transfer aborted"; later RETRs
                      (a resume with REST) behave.
  --grow NAME:TOTAL   RETR of NAME sends the file and then keeps sending more bytes, as if the
                      file were growing while downloaded, until TOTAL bytes were sent; SIZE
                      answers 504 (being written) and listings the size on disk.
  --refuse-login      every login is refused (530), whatever the password.
  --no-mlsd           no MLSD command (500), as older servers: clients list with LIST.
"""
import argparse
import os
import sys

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


class DroppingFile:
    """A file object whose reads stop with an error after `limit` bytes."""

    def __init__(self, fd, limit):
        self._fd = fd
        self._left = limit
        self.name = fd.name
        self.closed = False

    def read(self, n=-1):
        if self._left <= 0:
            raise OSError(104, "connection dropped by the test server")
        if n < 0 or n > self._left:
            n = self._left
        data = self._fd.read(n)
        self._left -= len(data)
        return data

    def seek(self, *a):
        return self._fd.seek(*a)

    def tell(self):
        return self._fd.tell()

    def close(self):
        self.closed = True
        self._fd.close()


class GrowingFile:
    """A file object that goes on after its end with 'g' bytes until `total` bytes were read."""

    def __init__(self, fd, total):
        self._fd = fd
        self._total = total
        self._sent = 0
        self.name = fd.name
        self.closed = False

    def read(self, n=-1):
        if n < 0:
            n = 65536
        data = self._fd.read(n)
        if not data:
            left = self._total - self._sent
            data = b"g" * max(0, min(n, left))
        self._sent += len(data)
        return data

    def seek(self, *a):
        return self._fd.seek(*a)

    def tell(self):
        return self._fd.tell()

    def close(self):
        self.closed = True
        self._fd.close()


class RefusingAuthorizer(DummyAuthorizer):
    def validate_authentication(self, username, password, handler):
        raise AuthenticationFailed("login refused by the test server")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--user", default="tester")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--drop", action="append", default=[])
    ap.add_argument("--grow", action="append", default=[])
    ap.add_argument("--refuse-login", action="store_true")
    ap.add_argument("--no-mlsd", action="store_true")
    a = ap.parse_args()

    drops = {}
    for d in a.drop:
        name, n = d.rsplit(":", 1)
        drops[name] = int(n)
    grows = {}
    for g in a.grow:
        name, n = g.rsplit(":", 1)
        grows[name] = int(n)

    auth = RefusingAuthorizer() if a.refuse_login else DummyAuthorizer()
    auth.add_user(a.user, a.password, a.root, perm="elradfmwMT")

    if a.tls:
        from pyftpdlib.handlers import TLS_FTPHandler

        base = TLS_FTPHandler
    else:
        base = FTPHandler

    root = os.path.realpath(a.root)

    class Handler(base):
        def ftp_SIZE(self, path):
            # A file being written has no size yet (libcurl reads no more than SIZE said).
            rel = os.path.relpath(os.path.realpath(path), root)
            if rel in grows:
                self.respond("504 SIZE unavailable: %s is being written." % rel)
                return
            return super().ftp_SIZE(path)

        def ftp_RETR(self, file):
            rel = os.path.relpath(os.path.realpath(file), root)
            if rel in drops or rel in grows:
                try:
                    fd = self.run_as_current_user(self.fs.open, file, "rb")
                except OSError as err:
                    self.respond("550 %s." % err.strerror)
                    return
                rest = self._restart_position
                self._restart_position = 0
                if rest:
                    fd.seek(rest)
                if rel in drops:
                    wrapped = DroppingFile(fd, drops.pop(rel))
                else:
                    wrapped = GrowingFile(fd, grows[rel])
                from pyftpdlib.handlers import FileProducer

                producer = FileProducer(wrapped, self._current_type)
                self.push_dtp_data(producer, isproducer=True, file=wrapped, cmd="RETR")
                return file
            return super().ftp_RETR(file)

    if a.no_mlsd:  # an older server: LIST only (answers MLSD with 500)
        Handler.proto_cmds = {k: v for k, v in Handler.proto_cmds.items() if k != "MLSD"}
    Handler.authorizer = auth
    Handler.banner = "bulkrepo test FTP server"
    Handler.permit_foreign_addresses = False
    if a.tls:
        Handler.certfile = a.tls[0]
        Handler.keyfile = a.tls[1]
        Handler.tls_control_required = True
        Handler.tls_data_required = True
        # libcurl resumes the control connection's TLS session on the data connection: the
        # context needs a session id context for that, which pyftpdlib does not set.
        from OpenSSL import SSL

        ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
        ctx.use_certificate_chain_file(a.tls[0])
        ctx.use_privatekey_file(a.tls[1])
        ctx.set_session_id(b"bulkrepo-test-ftpd")
        Handler.ssl_context = ctx

        from pyftpdlib.handlers import TLS_DTPHandler

        class DTP(TLS_DTPHandler):
            # libcurl starts the data connection's TLS handshake before it sends the command
            # (MLSD, RETR...); pyftpdlib closes a data connection readable before a command.
            def readable(self):
                if not self._initialized and self._ssl_requested:
                    return True
                return super().readable()

            # A data connection the client closes before any command (it opened it for a
            # command the server then refused, e.g. SIZE) gets no reply: a "226" would answer
            # the client's next command out of turn.
            def close(self):
                if not self._initialized:
                    self._resp = None
                super().close()

        Handler.dtp_handler = DTP

    server = FTPServer(("127.0.0.1", 0), Handler)
    port = server.socket.getsockname()[1]
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.port_file)
    sys.stdout.flush()
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
