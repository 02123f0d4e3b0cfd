#!/usr/bin/env python3
"""Checks the store's SQL on PostgreSQL (run by scripts/pg-check-sql.sh; Python's standard
library only: it speaks PostgreSQL's wire protocol itself).

    python3 scripts/pg-check-sql.py [--list] [--no-semantics] [-v] URL

URL: postgresql://USER@HOST:PORT/DB of an EMPTY database, which it fills (trust or password
authentication; no TLS).

  1. Reads every statement of the store from the C sources: the shared texts of store.c's
     SQL table (with its macros and store_search.c's br_fts_*_sql arrays), the PostgreSQL
     texts of sql_pg.c's br_pg_sql, the stmt_id enum of store_internal.h.
  2. Loads src/lib/store/schema_pg.sql with one simple query (as the backend's exec does) and
     makes the connection's temporary table (BR_FTS_FIELD_TABLE_SQL); compares it with
     schema.sql loaded into SQLite: tables, columns in order (NOT NULL, default, key), named
     indexes, unique constraints, foreign keys with their ON DELETE, CHECKs, triggers.
  3. For each stmt_id: the PostgreSQL text if sql_pg.c has one, else the shared text, with
     ?N rewritten to $N as db_pg.c does, is prepared (Parse + Describe, the extended protocol
     PQprepare uses; a parameter number the text skips is declared text, as the backend
     does).  A failure is reported with the statement's name and the server's message.
     Warnings: a parameter inferred as boolean or a 16/32-bit integer (the store binds 64-bit
     integers as text), a boolean or numeric result column.  Failures too: an override whose
     parameter numbers or result column count differ from its shared text's (the count on
     SQLite comes from EXPLAIN of the shared text over schema.sql, with Python's sqlite3).
     Then a heuristic read of the store's C files: a parameter bound with br_bind_text
     (or a double) where PostgreSQL infers bigint or boolean is a warning.
  4. Runs statements whose meaning differs between the dialects (upserts, the job_record
     tally triggers, negative LIMIT, NULL order, the search index row ...) with parameters
     bound as text like the backend's, and compares the results with what SQLite gives.

Exit status: 0 when nothing failed, 1 otherwise (warnings do not fail)."""

import argparse
import hashlib
import os
import re
import socket
import sqlite3
import struct
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STORE = os.path.join(ROOT, "src", "lib", "store")

# ---- the C sources -------------------------------------------------------------------------

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z_0-9]*|\d+|\S')


def c_unescape(lit):
    """The bytes of a C string literal's body as text."""
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "?": "?",
              "a": "\a", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
    while i < len(lit):
        c = lit[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = lit[i + 1]
        if n in "01234567":
            m = re.match(r"[0-7]{1,3}", lit[i + 1:])
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        elif n == "x":
            m = re.match(r"[0-9a-fA-F]+", lit[i + 2:])
            out.append(chr(int(m.group(0), 16)))
            i += 2 + len(m.group(0))
        else:
            out.append(simple[n])
            i += 2
    return "".join(out)


def strip_comments(src):
    """src without comments, string and character literals kept."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            # a character literal becomes 0: its quote must not start a string token
            out.append(src[i:j + 1] if c == '"' else "0")
            i = j + 1
        elif src.startswith("/*", i):
            j = src.index("*/", i + 2)
            out.append(" ")
            i = j + 2
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_c(path, macros, arrays):
    """The tokens of a C file outside its preprocessor lines; its #defines go into macros
    and its `const char NAME[] = "...";` arrays into arrays (both as token lists)."""
    src = strip_comments(open(path, encoding="utf-8").read().replace("\\\n", " "))
    code = []
    for line in src.split("\n"):
        s = line.strip()
        if s.startswith("#"):
            m = re.match(r"#\s*define\s+([A-Za-z_]\w*)(\([^)]*\))?\s*(.*)", s)
            if m:
                params = m.group(2)
                macros[m.group(1)] = (
                    [p.strip() for p in params[1:-1].split(",")] if params else None,
                    TOKEN.findall(m.group(3)))
            continue
        code.append(line)
    toks = TOKEN.findall("\n".join(code))
    for k in range(len(toks) - 4):
        if toks[k] == "char" and toks[k + 2:k + 5] == ["[", "]", "="]:
            end = toks.index(";", k)
            arrays[toks[k + 1]] = toks[k + 5:end]
    return toks


def expand(toks, macros, arrays, depth=0):
    """The text of a sequence of string literals, macros (object-like or with string
    arguments) and char arrays."""
    if depth > 20:
        raise ValueError("macro recursion")
    out, i = [], 0
    while i < len(toks):
        t = toks[i]
        if t.startswith('"'):
            out.append(c_unescape(t[1:-1]))
        elif t in macros:
            params, body = macros[t]
            if params is not None:
                # NAME(arg, ...): each argument a token sequence
                j, level, args, cur = i + 2, 1, [], []
                while True:
                    u = toks[j]
                    if u == "(":
                        level += 1
                    elif u == ")":
                        level -= 1
                        if not level:
                            break
                    if u == "," and level == 1:
                        args.append(cur)
                        cur = []
                    else:
                        cur.append(u)
                    j += 1
                args.append(cur)
                sub = []
                for b in body:
                    sub.extend(args[params.index(b)] if b in params else [b])
                out.append(expand(sub, macros, arrays, depth + 1))
                i = j
            else:
                out.append(expand(body, macros, arrays, depth + 1))
        elif t in arrays:
            out.append(expand(arrays[t], macros, arrays, depth + 1))
        else:
            raise ValueError("cannot read %r as SQL text" % t)
        i += 1
    return "".join(out)


def designated(toks, name, macros, arrays):
    """{stmt_id: text} of the initializer `name[...] = { [S_X] = ..., ... }`."""
    for k in range(len(toks) - 1):
        if toks[k] == name and toks[k + 1] == "[":
            break
    else:
        raise ValueError("no array %s" % name)
    k = toks.index("{", k) + 1
    out = {}
    while toks[k] != "}":
        if toks[k] == ",":
            k += 1
            continue
        if toks[k] != "[" or toks[k + 2] != "]" or toks[k + 3] != "=":
            raise ValueError("%s: unexpected %r near %r" % (name, toks[k], toks[k:k + 6]))
        sid, k = toks[k + 1], k + 4
        expr, level = [], 0
        while level or toks[k] not in (",", "}"):
            if toks[k] == "(":
                level += 1
            elif toks[k] == ")":
                level -= 1
            expr.append(toks[k])
            k += 1
        if sid in out:
            raise ValueError("%s: %s twice" % (name, sid))
        out[sid] = expand(expr, macros, arrays)
    return out


def load_statements():
    macros, arrays = {}, {}
    internal = read_c(os.path.join(STORE, "store_internal.h"), macros, arrays)
    read_c(os.path.join(STORE, "store_search.c"), macros, arrays)
    store = read_c(os.path.join(STORE, "store.c"), macros, arrays)
    shared = designated(store, "SQL", macros, arrays)
    pg_macros = dict(macros)
    pg = designated(read_c(os.path.join(STORE, "sql_pg.c"), pg_macros, arrays), "br_pg_sql",
                    pg_macros, arrays)
    k = internal.index("stmt_id")
    k = internal.index("{", k) + 1
    ids = []
    while internal[k] != "}":
        if internal[k] != ",":
            ids.append(internal[k])
        k += 1
    if ids[-1] != "S_COUNT":
        raise ValueError("the stmt_id enum does not end with S_COUNT")
    temp = expand(macros["BR_FTS_FIELD_TABLE_SQL"][1], macros, arrays)
    return ids[:-1], shared, pg, temp


# ---- db_pg.c's rewrite ---------------------------------------------------------------------


def word_char(c):
    return c.isalnum() or c in "_$" or ord(c) >= 0x80


def skip_quoted(s, i, after_word):
    n, c = len(s), s[i]
    if c in "'\"":
        esc = c == "'" and i > 0 and s[i - 1] in "Ee" and (i == 1 or not word_char(s[i - 2]))
        j = i + 1
        while j < n:
            if esc and s[j] == "\\":
                j += 2
                continue
            if s[j] == c:
                if j + 1 < n and s[j + 1] == c:
                    j += 2
                    continue
                return j + 1
            j += 1
        return n
    if s.startswith("--", i):
        j = s.find("\n", i)
        return n if j < 0 else j + 1
    if s.startswith("/*", i):
        j, depth = i + 2, 1
        while j < n and depth:
            if s.startswith("/*", j):
                depth, j = depth + 1, j + 2
            elif s.startswith("*/", j):
                depth, j = depth - 1, j + 2
            else:
                j += 1
        return j
    if c == "$" and not after_word:
        m = re.match(r"\$([A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*)?\$", s[i:])
        if m:
            tag = m.group(0)
            e = s.find(tag, i + len(tag))
            return n if e < 0 else e + len(tag)
    return i


def rewrite(sql):
    """(text with $N, highest parameter number, set of numbers used)."""
    out, i, n, after_word, top, used = [], 0, len(sql), False, 0, set()
    while i < n:
        e = skip_quoted(sql, i, after_word)
        if e != i:
            out.append(sql[i:e])
            i, after_word = e, False
            continue
        c = sql[i]
        if c == "?" or (c == "$" and not after_word and i + 1 < n and sql[i + 1].isdigit()):
            m = re.match(r"\d*", sql[i + 1:])
            v = int(m.group(0)) if m.group(0) else top + 1
            used.add(v)
            top = max(top, v)
            out.append("$%d" % v)
            i += 1 + len(m.group(0))
            after_word = False
            continue
        out.append(c)
        after_word = word_char(c)
        i += 1
    return "".join(out), top, used


# ---- PostgreSQL's wire protocol (version 3) ----------------------------------------------

OID_NAMES = {16: "boolean", 20: "bigint", 21: "smallint", 23: "integer", 25: "text",
             700: "real", 701: "double precision", 1700: "numeric", 17: "bytea",
             114: "json", 3802: "jsonb", 705: "unknown", 1043: "varchar", 3614: "tsvector",
             3615: "tsquery", 19: "name", 2205: "regclass"}


class PgError(Exception):
    def __init__(self, fields):
        self.fields = fields
        msg = fields.get("M", "?")
        if fields.get("D"):
            msg += " (" + fields["D"] + ")"
        if fields.get("H"):
            msg += " hint: " + fields["H"]
        super().__init__(msg)


class Pg:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        if u.scheme not in ("postgresql", "postgres"):
            raise SystemExit("not a postgresql:// address: " + url)
        self.user = urllib.parse.unquote(u.username or "postgres")
        self.password = urllib.parse.unquote(u.password) if u.password else None
        self.db = urllib.parse.unquote(u.path.lstrip("/") or self.user)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), 30)
        self.buf = b""
        body = struct.pack("!i", 196608)
        for k, v in (("user", self.user), ("database", self.db), ("client_encoding", "UTF8"),
                     ("application_name", "pg-check-sql")):
            body += k.encode() + b"\0" + v.encode() + b"\0"
        body += b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        while True:
            t, p = self.recv()
            if t == b"R":
                code = struct.unpack("!i", p[:4])[0]
                if code == 0:
                    continue
                if code == 3 and self.password is not None:
                    self.send(b"p", self.password.encode() + b"\0")
                elif code == 5 and self.password is not None:
                    inner = hashlib.md5((self.password + self.user).encode()).hexdigest()
                    outer = hashlib.md5(inner.encode() + p[4:8]).hexdigest()
                    self.send(b"p", b"md5" + outer.encode() + b"\0")
                else:
                    raise SystemExit("authentication %d is not supported: use a trust or "
                                     "password address" % code)
            elif t == b"E":
                raise PgError(self.fields(p))
            elif t == b"Z":
                break

    def send(self, t, payload):
        self.sock.sendall(t + struct.pack("!i", len(payload) + 4) + payload)

    def recv(self):
        while True:
            if len(self.buf) >= 5:
                n = struct.unpack("!i", self.buf[1:5])[0]
                if len(self.buf) >= n + 1:
                    t, p = self.buf[:1], self.buf[5:n + 1]
                    self.buf = self.buf[n + 1:]
                    return t, p
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("the server closed the connection")
            self.buf += chunk

    @staticmethod
    def fields(p):
        out = {}
        for f in p.split(b"\0"):
            if f:
                out[f[:1].decode()] = f[1:].decode("utf-8", "replace")
        return out

    def collect(self):
        """Reads to ReadyForQuery: (param oids, column (name, oid)s, rows, tags); raises the
        first error."""
        params, cols, rows, tags, err = None, None, [], [], None
        while True:
            t, p = self.recv()
            if t == b"E" and err is None:
                err = PgError(self.fields(p))
            elif t == b"t":
                n = struct.unpack("!h", p[:2])[0]
                params = list(struct.unpack("!%dI" % n, p[2:2 + 4 * n]))
            elif t == b"T":
                n, k, cols = struct.unpack("!h", p[:2])[0], 2, []
                for _ in range(n):
                    e = p.index(b"\0", k)
                    name = p[k:e].decode()
                    oid = struct.unpack("!I", p[e + 7:e + 11])[0]
                    cols.append((name, oid))
                    k = e + 19
            elif t == b"n":
                cols = []
            elif t == b"D":
                n, k, row = struct.unpack("!h", p[:2])[0], 2, []
                for _ in range(n):
                    ln = struct.unpack("!i", p[k:k + 4])[0]
                    k += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(p[k:k + ln].decode("utf-8"))
                        k += ln
                rows.append(row)
            elif t == b"C":
                tags.append(p.rstrip(b"\0").decode())
            elif t == b"Z":
                if err:
                    raise err
                return params, cols, rows, tags

    def query(self, sql):
        """A simple query (one or more statements in one message, as PQexec sends them):
        the last statement's rows."""
        self.send(b"Q", sql.encode() + b"\0")
        return self.collect()[2]

    def describe(self, sql, types):
        """Parse and Describe of an unnamed statement: (param oids, columns)."""
        body = b"\0" + sql.encode() + b"\0" + struct.pack("!h", len(types))
        body += b"".join(struct.pack("!I", t) for t in types)
        self.send(b"P", body)
        self.send(b"D", b"S\0")
        self.send(b"S", b"")
        params, cols, _, _ = self.collect()
        return params, cols or []

    def execute(self, sql, types, values):
        """Parse, Bind (text values, None for NULL), Execute: (rows, command tag)."""
        body = b"\0" + sql.encode() + b"\0" + struct.pack("!h", len(types))
        body += b"".join(struct.pack("!I", t) for t in types)
        self.send(b"P", body)
        bind = b"\0\0" + struct.pack("!hh", 0, len(values))
        for v in values:
            if v is None:
                bind += struct.pack("!i", -1)
            else:
                b = str(v).encode()
                bind += struct.pack("!i", len(b)) + b
        bind += struct.pack("!h", 0)
        self.send(b"B", bind)
        self.send(b"E", b"\0" + struct.pack("!i", 0))
        self.send(b"S", b"")
        _, _, rows, tags = self.collect()
        return rows, (tags[-1] if tags else "")


# ---- the checks ---------------------------------------------------------------------------


def backend_types(top, used):
    """The parameter types db_pg.c declares: 0 (inferred), text for a number the text skips."""
    return [0 if v in used else 25 for v in range(1, top + 1)]


def sqlite_shape(con, sql):
    """The number of result columns of a shared text on SQLite, or None."""
    _, top, _ = rewrite(sql)
    try:
        ops = con.execute("EXPLAIN " + sql, (None,) * top).fetchall()
    except sqlite3.Error:
        return None
    cols = [r[3] for r in ops if r[1] == "ResultRow"]
    return max(cols) if cols else 0


class Report:
    def __init__(self, verbose):
        self.failures, self.warnings, self.verbose = [], [], verbose

    def fail(self, what, msg):
        self.failures.append((what, msg))
        print("FAIL  %-24s %s" % (what, msg))

    def warn(self, what, msg):
        self.warnings.append((what, msg))
        print("warn  %-24s %s" % (what, msg))

    def ok(self, what, msg=""):
        if self.verbose:
            print("ok    %-24s %s" % (what, msg))


def check_prepare(pg, ids, shared, over, lite, rep, types):
    """types: filled with each statement's inferred parameter types."""
    for sid in ids:
        text = over.get(sid) or shared.get(sid)
        if text is None:
            rep.fail(sid, "no SQL text in store.c")
            continue
        sql, top, used = rewrite(text)
        try:
            params, cols = pg.describe(sql, backend_types(top, used))
        except PgError as e:
            pos = e.fields.get("P")
            near = ""
            if pos and pos.isdigit():
                p = int(pos) - 1
                near = " near: ..." + sql[max(0, p - 30):p] + "<HERE>" + sql[p:p + 30] + "..."
            rep.fail(sid, ("[pg text] " if sid in over else "") + str(e) + near)
            continue
        types[sid] = params
        for v, oid in enumerate(params, 1):
            if oid in (16, 21, 23):
                rep.warn(sid, "?%d is inferred as %s (the store binds 64-bit integers)"
                         % (v, OID_NAMES[oid]))
            elif oid not in (20, 25, 701, 1043, 17, 114, 3802):
                rep.warn(sid, "?%d is inferred as %s" % (v, OID_NAMES.get(oid, oid)))
        for k, (name, oid) in enumerate(cols):
            if oid == 16:
                rep.warn(sid, "column %d (%s) is boolean (the store reads 0/1)" % (k, name))
            elif oid == 1700:
                rep.warn(sid, "column %d (%s) is numeric" % (k, name))
        if sid in over and sid in shared:
            _, stop, sused = rewrite(shared[sid])
            if sused != used:
                rep.fail(sid, "the PostgreSQL text uses parameters %s, the shared one %s"
                         % (sorted(used), sorted(sused)))
            if lite is not None:
                n = sqlite_shape(lite, shared[sid])
                # sql_pg.c's one exception: an INSERT that returns the new id (the store
                # reads it when a row comes back, else asks last_id)
                returns_id = (n == 0 and len(cols) == 1
                              and re.search(r"\bRETURNING\s+id\s*$", over[sid], re.I))
                if n is not None and n != len(cols) and not returns_id:
                    rep.fail(sid, "%d result columns on PostgreSQL, %d on SQLite"
                             % (len(cols), n))
        rep.ok(sid, "params %s -> %d columns" % (
            [OID_NAMES.get(o, o) for o in params], len(cols)))


BIND = re.compile(r"\b(br_bind_text|br_db_bind_int64|br_db_bind_double|br_db_bind_blob)"
                  r"\(\s*(\w+)\s*,\s*(\d+)\s*,")
BIND_KIND = {"br_bind_text": "text", "br_db_bind_int64": "int64",
             "br_db_bind_double": "double", "br_db_bind_blob": "blob"}


def check_binds(types, rep):
    """How the store's C code binds each statement's parameters (a heuristic read of
    `st = br_stmt(repo, S_X ...)` and the br_bind_text / br_db_bind_int64 / ... calls on st
    after it in the same function) against the types PostgreSQL infers: SQLite takes any
    value anywhere, PostgreSQL parses a text bound to a bigint parameter as a number (an
    error unless it is one) and an integer or real bound to a boolean as one."""
    seen = 0
    for name in sorted(os.listdir(STORE)):
        if not name.endswith(".c") or name.startswith("db_") or name == "sql_pg.c":
            continue
        src = strip_comments(open(os.path.join(STORE, name), encoding="utf-8").read())
        for m in re.finditer(r"(\w+)\s*=\s*br_stmt\(\s*[\w>-]+\s*,\s*([^;]*?),\s*\w+\s*\)", src):
            var, sids = m.group(1), re.findall(r"\bS_[A-Z0-9_]+\b", m.group(2))
            if not sids:
                continue
            end = src.find("\n}", m.end())
            nxt = re.search(r"\b%s\s*=\s*br_stmt\(" % re.escape(var), src[m.end():end])
            body = src[m.end():m.end() + nxt.start() if nxt else end]
            for b in BIND.finditer(body):
                if b.group(2) != var:
                    continue
                kind, k = BIND_KIND[b.group(1)], int(b.group(3))
                line = src.count("\n", 0, m.end() + b.start()) + 1
                # of `cond ? S_A : S_B`, a binding that fits one of them is taken as its
                verdicts = []
                for sid in sids:
                    ts = types.get(sid)
                    if not ts or k > len(ts):
                        continue
                    seen += 1
                    want = OID_NAMES.get(ts[k - 1], str(ts[k - 1]))
                    bad = (kind == "text" and want in ("bigint", "double precision", "boolean",
                                                       "integer", "smallint")) or \
                          (kind == "double" and want in ("bigint", "integer", "boolean")) or \
                          (kind == "blob" and want != "bytea") or \
                          (kind == "int64" and want == "bytea")
                    verdicts.append((bad, sid, want))
                if verdicts and all(v[0] for v in verdicts):
                    for _, sid, want in verdicts:
                        rep.warn(sid, "%s:%d binds %s to ?%d, which PostgreSQL reads as %s"
                                 % (name, line, kind, k, want))
    print("bindings compared with the inferred types: %d" % seen)


def check_schema(pg, lite, rep):
    """schema_pg.sql against schema.sql: the same tables with the same columns in the same
    order (names, NOT NULL, a default or none, the primary key), the same named indexes
    (their columns and uniqueness) and triggers.  item_fts: SQLite's FTS5 columns, plus doc
    and the rowid column here."""
    lt = [r[0] for r in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'item_fts_%' ORDER BY name")]
    pt = [r[0] for r in pg.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name COLLATE \"C\"")]
    if lt != pt:
        rep.fail("schema tables", "SQLite %s, PostgreSQL %s" % (
            sorted(set(lt) - set(pt)), sorted(set(pt) - set(lt))))
    for t in sorted(set(lt) & set(pt)):
        if t == "item_fts":
            lc = [("rowid", 1, 0, 1)] + [(r[1], 0, 0, 0) for r in lite.execute(
                "PRAGMA table_info(item_fts)")] + [("doc", 0, 0, 0)]
        else:
            lc = [(r[1], r[3] or r[5] > 0, r[4] is not None, r[5] > 0)
                  for r in lite.execute("PRAGMA table_info(%s)" % t)]
        pc = [(r[0], r[1] == "NO", r[2] is not None or r[4] == "YES", r[3])
              for r in pg.query(
                  "SELECT c.column_name, c.is_nullable, c.column_default, "
                  "(SELECT count(*) FROM information_schema.key_column_usage k JOIN "
                  "information_schema.table_constraints tc ON tc.constraint_name = "
                  "k.constraint_name AND tc.table_name = k.table_name WHERE tc.constraint_type "
                  "= 'PRIMARY KEY' AND k.table_name = c.table_name AND k.column_name = "
                  "c.column_name), c.is_identity FROM information_schema.columns c "
                  "WHERE c.table_schema = current_schema() AND c.table_name = '%s' "
                  "ORDER BY c.ordinal_position" % t)]
        pc = [(n, nn, d, pk != "0") for n, nn, d, pk in pc]
        lc = [(n, bool(nn), bool(d), bool(pk)) for n, nn, d, pk in lc]
        # SQLite's rowid (INTEGER PRIMARY KEY) has a value by default: the identity column
        rowid = [r[1] for r in lite.execute("PRAGMA table_info(%s)" % t)
                 if r[5] and r[2].upper() == "INTEGER"] if t != "item_fts" else []
        if len(rowid) == 1 and sum(1 for c in lc if c[3]) == 1:
            lc = [(n, nn, d or n == rowid[0], pk) for n, nn, d, pk in lc]
        if lc != pc:
            rep.fail("schema " + t, "columns (name, not null, default, key) differ:\n"
                     "      SQLite     %s\n      PostgreSQL %s" % (lc, pc))
        else:
            rep.ok("schema " + t, ", ".join(c[0] for c in pc))
    li = {}
    for name, tbl in lite.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = "
                                  "'index' AND sql IS NOT NULL"):
        info = lite.execute("PRAGMA index_xinfo(%s)" % name).fetchall()
        cols = [r[2] if r[2] is not None else "<expr>" for r in info if r[5]]
        uniq = lite.execute("SELECT \"unique\", partial FROM pragma_index_list('%s') "
                            "WHERE name = '%s'" % (tbl, name)).fetchone()
        li[name] = (tbl, cols, uniq[0], uniq[1])
    pi = {}
    for name, tbl, cols, uniq, partial in pg.query(
            "SELECT i.relname, t.relname, (SELECT string_agg(COALESCE(a.attname, '<expr>'), "
            "',' ORDER BY k.n) FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(c, n) "
            "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.c AND k.c > 0), "
            "x.indisunique::int, (x.indpred IS NOT NULL)::int FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = current_schema() "
            "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = x.indexrelid)"):
        pi[name] = (tbl, cols.split(","), int(uniq), int(partial))
    extra = {"item_fts_doc"}  # the GIN index of the tsvector (FTS5 has its own)
    if set(li) != set(pi) - extra:
        rep.fail("schema indexes", "SQLite only %s, PostgreSQL only %s" % (
            sorted(set(li) - set(pi)), sorted(set(pi) - set(li) - extra)))
    for name in sorted(set(li) & set(pi)):
        if li[name] != pi[name]:
            rep.fail("schema index " + name, "SQLite %s, PostgreSQL %s" % (li[name], pi[name]))
    lu = sorted((t, ",".join(r[2] for r in lite.execute("PRAGMA index_info('%s')" % n)))
                for t in lt for _, n, u, o, _ in lite.execute("PRAGMA index_list('%s')" % t)
                if o == "u")
    pu = sorted(tuple(r) for r in pg.query(
        "SELECT t.relname, (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM "
        "unnest(c.conkey) WITH ORDINALITY k(c, n) JOIN pg_attribute a ON a.attrelid = t.oid "
        "AND a.attnum = k.c) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = current_schema() "
        "AND c.contype = 'u'"))
    if lu != pu:
        rep.fail("schema unique", "SQLite %s, PostgreSQL %s" % (lu, pu))
    lf = sorted((t, r[3], r[2], r[4], r[6]) for t in lt
                for r in lite.execute("PRAGMA foreign_key_list('%s')" % t))
    pf = sorted((r[0], r[1], r[2], r[3], r[4]) for r in pg.query(
        "SELECT t.relname, a.attname, p.relname, pa.attname, CASE c.confdeltype WHEN 'c' THEN "
        "'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN "
        "'RESTRICT' ELSE 'NO ACTION' END FROM pg_constraint c JOIN pg_class t ON t.oid = "
        "c.conrelid JOIN pg_class p ON p.oid = c.confrelid JOIN pg_attribute a ON a.attrelid = "
        "t.oid AND a.attnum = c.conkey[1] JOIN pg_attribute pa ON pa.attrelid = p.oid AND "
        "pa.attnum = c.confkey[1] JOIN pg_namespace s ON s.oid = t.relnamespace "
        "WHERE s.nspname = current_schema() AND c.contype = 'f'"))
    if lf != pf:
        rep.fail("schema foreign keys", "SQLite %s, PostgreSQL %s" % (lf, pf))
    lc = sorted(t for t, in lite.execute("SELECT tbl_name FROM sqlite_master WHERE sql LIKE "
                                         "'%CHECK%' AND type = 'table'"))
    pc = sorted(set(r[0] for r in pg.query(
        "SELECT t.relname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = current_schema() "
        "AND c.contype = 'c'")))
    if lc != pc:
        rep.fail("schema checks", "tables with CHECKs: SQLite %s, PostgreSQL %s" % (lc, pc))
    ltr = sorted(r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = "
                                            "'trigger'"))
    ptr = sorted(r[0] for r in pg.query(
        "SELECT tgname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid JOIN pg_namespace "
        "s ON s.oid = t.relnamespace WHERE s.nspname = current_schema() AND NOT tgisinternal"))
    if ltr != ptr:
        rep.fail("schema triggers", "SQLite %s, PostgreSQL %s" % (ltr, ptr))
    print("schema compared with schema.sql: %d tables, %d indexes, %d unique, %d foreign keys, "
          "%d triggers" % (len(pt), len(pi), len(pu), len(pf), len(ptr)))


class Runner:
    """Runs stmt_ids on PostgreSQL (as the backend would) and on SQLite (the shared text)."""

    def __init__(self, pg, url, lite, shared, over, rep):
        self.pg, self.lite, self.shared, self.over, self.rep = pg, lite, shared, over, rep
        self.url = url

    def pg_run(self, sid, *values):
        sql, top, used = rewrite(self.over.get(sid) or self.shared[sid])
        vals = list(values) + [None] * (top - len(values))
        rows, _ = self.pg.execute(sql, backend_types(top, used), vals)
        return [tuple(r) for r in rows]

    def lite_run(self, sid, *values):
        _, top, _ = rewrite(self.shared[sid])
        # the store binds integers as integers (the backend sends them as text)
        vals = [int(v) if isinstance(v, str) and re.fullmatch(r"-?\d{1,18}", v) else v
                for v in values] + [None] * (top - len(values))
        rows = self.lite.execute(self.shared[sid], vals).fetchall()
        return [tuple(None if v is None else str(v) for v in r) for r in rows]

    def both(self, sid, *values):
        return self.pg_run(sid, *values), self.lite_run(sid, *values)

    def sql(self, text):
        """Plain SQL on both (fixtures and reads): the PostgreSQL rows."""
        self.lite.execute(text)
        return [tuple(r) for r in self.pg.query(text)]

    def same(self, what, pg_rows, lite_rows):
        if pg_rows == lite_rows:
            self.rep.ok(what, repr(pg_rows)[:100])
        else:
            self.rep.fail(what, "PostgreSQL %r, SQLite %r" % (pg_rows, lite_rows))

    def expect(self, what, got, want):
        if got == want:
            self.rep.ok(what, repr(got)[:100])
        else:
            self.rep.fail(what, "got %r, wanted %r" % (got, want))


def tally(r, job):
    sql = ("SELECT outcome, n, bitstreams, bytes FROM job_tally WHERE job_id = %d AND n > 0 "
           "ORDER BY outcome" % job)
    return ([tuple(x) for x in r.pg.query(sql)],
            [tuple(str(v) for v in x) for x in r.lite.execute(sql).fetchall()])


def journal_tally(r, job):
    """The counters derived from the journal itself, which the tally must equal."""
    sql = ("SELECT outcome, count(*), sum(bitstreams), sum(bytes) FROM job_record "
           "WHERE job_id = %d GROUP BY outcome ORDER BY outcome" % job)
    return [tuple(x) for x in r.pg.query(sql)]


def check_semantics(r):
    rep = r.rep
    now = "2024-05-01T10:00:00Z"
    # two jobs: their ids are 1 and 2 on both
    for _ in range(2):
        r.pg_run("S_JOB_INSERT", "import", "import", "j", "admin", "RUNNING", now, None, "{}",
                 "0", None)
        r.lite_run("S_JOB_INSERT", "import", "import", "j", "admin", "RUNNING", now, None, "{}",
                   "0", None)
    r.expect("last_id (lastval)", r.pg.query("SELECT lastval()"), [["2"]])

    # ---- the tally triggers: insert, upsert (update), delete, replace (carry) ----
    recs = [("a", 1, "imported", 2, 100), ("b", 2, "imported", 1, 50), ("c", 3, "failed", 0, 0),
            ("d", 4, "skipped", 0, 0)]
    for key, seq, outcome, bs, by in recs:
        r.both("S_JOB_REC_UPSERT", "1", key, str(seq), outcome, None, None, None, str(bs),
               str(by))
    r.same("tally after inserts", *tally(r, 1))
    r.expect("tally = journal (inserts)", tally(r, 1)[0], journal_tally(r, 1))
    # the upsert's update: b imported -> updated with other counts; c failed -> imported
    r.both("S_JOB_REC_UPSERT", "1", "b", "2", "updated", None, None, None, "3", "70")
    r.both("S_JOB_REC_UPSERT", "1", "c", "3", "imported", None, None, "x", "1", "10")
    r.same("tally after upserts", *tally(r, 1))
    r.expect("tally = journal (upserts)", tally(r, 1)[0], journal_tally(r, 1))
    r.same("S_JOB_COUNTERS", *r.both("S_JOB_COUNTERS", "1"))
    # a plain UPDATE of a counted column, and of an uncounted one
    r.sql("UPDATE job_record SET bytes = bytes + 5 WHERE job_id = 1 AND key = 'a'")
    r.sql("UPDATE job_record SET message = 'm' WHERE job_id = 1 AND key = 'a'")
    r.same("tally after updates", *tally(r, 1))
    r.expect("tally = journal (updates)", tally(r, 1)[0], journal_tally(r, 1))
    # carry into job 2 twice: inserts, then INSERT OR REPLACE / ON CONFLICT DO UPDATE
    r.both("S_JOB_CARRY", "1", "2")
    r.same("tally after carry", *tally(r, 2))
    r.both("S_JOB_REC_UPSERT", "2", "a", "9", "failed", None, None, None, "4", "4")
    r.both("S_JOB_CARRY", "1", "2")
    r.same("tally after second carry", *tally(r, 2))
    r.expect("tally = journal (carry)", tally(r, 2)[0], journal_tally(r, 2))
    r.same("journal after carry",
           [tuple(x) for x in r.pg.query("SELECT key, seq, outcome FROM job_record "
                                         "WHERE job_id = 2 ORDER BY key")],
           [tuple(str(v) for v in x) for x in r.lite.execute(
               "SELECT key, seq, outcome FROM job_record WHERE job_id = 2 ORDER BY key")])
    r.sql("DELETE FROM job_record WHERE job_id = 1 AND key = 'a'")
    r.same("tally after delete", *tally(r, 1))
    r.expect("tally = journal (delete)", tally(r, 1)[0], journal_tally(r, 1))

    # ---- negative LIMIT (no limit), OFFSET ----
    r.same("S_JOB_QUERY limit -1", *r.both("S_JOB_QUERY", None, None, None, None, None, "-1",
                                            "0"))
    r.same("S_JOB_QUERY limit 1", *r.both("S_JOB_QUERY", None, None, None, None, None, "1",
                                           "1"))
    r.same("S_JOB_QUERY running", *r.both("S_JOB_QUERY", "running", "import", "admin",
                                           "2024-01-01", "import", "-1", "0"))

    # ---- the queue claim with a JSON list of types, and without ----
    r.both("S_JOB_ENQUEUE", "export", "export", "e", "admin", now, None, "{}", "0", None,
           None, "0", None, None)
    r.same("S_JOB_CLAIM other type", *r.both("S_JOB_CLAIM", now, '["import"]'))
    r.same("S_JOB_CLAIM its type", *r.both("S_JOB_CLAIM", now, '["import","export"]'))
    r.both("S_JOB_ENQUEUE", "export", "export", "e", "admin", now, None, "{}", "0", None,
           None, "0", None, None)
    r.same("S_JOB_CLAIM any type", *r.both("S_JOB_CLAIM", now, None))
    r.same("S_JOB_STATUS ended", *r.both("S_JOB_STATUS", "1", "COMPLETED", None, "1", now))
    r.same("S_JOB_STATUS not ended", *r.both("S_JOB_STATUS", "2", "RUNNING", "m", "0", now))
    r.same("job rows", [tuple(x) for x in r.pg.query(
        "SELECT id, status, ended, attempt FROM job ORDER BY id")],
        [tuple(None if v is None else str(v) for v in x) for x in r.lite.execute(
            "SELECT id, status, ended, attempt FROM job ORDER BY id")])

    # ---- items: INSERT OR IGNORE, lists (withdrawn filter, NULL order), handles ----
    r.both("S_CONT_INSERT", "1", "123/1", "1", "Community", None, now)
    r.both("S_CONT_INSERT", "0", "123/2", "2", "Coll", "1", now)
    r.both("S_CONT_INSERT", "0", "ABC/x", "7", "Other", "1", now)
    r.both("S_CONT_INSERT", "0", "ABC/y", None, "Other", "1", now)
    r.same("S_MAX_HANDLE_CONT", *r.both("S_MAX_HANDLE_CONT", "123"))
    r.same("S_MAX_HANDLE_CONT case", *r.both("S_MAX_HANDLE_CONT", "abc"))
    r.same("S_CONT_LIST (NULL handle_num)", *r.both("S_CONT_LIST"))
    items = [("u1", "123/10", "123", "10", "archived"), ("u2", None, None, None, "workspace"),
             ("u3", "123/9", "123", "9", "withdrawn"), ("u4", "123/x", "123", None, "archived")]
    for n, (uuid, handle, prefix, num, status) in enumerate(items, 1):
        r.both("S_ITEM_INSERT", uuid, handle, prefix, num, "2", status, now, "1")
        r.both("S_ITEM_COLL_INSERT", str(n), "2", "0")
        r.both("S_ITEM_COLL_INSERT", str(n), "2", "0")
    r.same("S_ITEM_COLL_INSERT ignored twice",
           [tuple(x) for x in r.pg.query("SELECT count(*) FROM item_collection")],
           [tuple(str(v) for v in x) for x in r.lite.execute(
               "SELECT count(*) FROM item_collection")])
    r.same("S_LIST_ALL without withdrawn", *r.both("S_LIST_ALL", "0", "0"))
    r.same("S_LIST_ALL with withdrawn", *r.both("S_LIST_ALL", "0", "1"))
    r.same("S_LIST_COLL", *r.both("S_LIST_COLL", "0", "1", "123/2"))
    r.same("S_LIST_JOB", *r.both("S_LIST_JOB", "0", "0", "1"))
    r.same("S_ITEM_JOBS limit -1", *r.both("S_ITEM_JOBS", "1", "-1"))
    r.both("S_ID_MIRROR", "1", "doi", "10.1000/ÉX")
    r.both("S_ID_MIRROR", "1", "doi", "10.1000/ÉX")
    r.same("S_DOI_TAKEN ascii case", *r.both("S_DOI_TAKEN", "10.1000/Éx"))
    r.same("S_DOI_TAKEN non-ascii case", *r.both("S_DOI_TAKEN", "10.1000/éx"))
    r.both("S_REL_INSERT", "isPartOf", "1", "3", "0", "0")
    r.both("S_REL_INSERT", "isPartOf", "1", "3", "0", "0")
    r.same("S_ITEM_RELS", *r.both("S_ITEM_RELS", "1"))

    # ---- sets, trash, holds (text order and ranges are byte order) ----
    r.both("S_SET_INSERT", "s", "assets", None, None, now, "admin")
    for m, seq in (("u1", "0"), ("gone", "1"), ("u1", "2")):
        r.both("S_SET_MEMBER_ADD", "1", m, seq)
    r.same("S_SET_MEMBERS assets", *r.both("S_SET_MEMBERS", "1", "1"))
    r.same("S_SET_MEMBERS not assets", *r.both("S_SET_MEMBERS", "1", "0"))
    r.same("S_SET_GET", *r.both("S_SET_GET", "s"))
    r.both("S_TRASH_PUT", "t1", "123/5", "5", None, now, "100", "{}")
    r.both("S_TRASH_PUT", "t1", "123/6", "6", "1", now, "200", '{"a":1}')
    r.same("S_TRASH_PUT replaced", *r.both("S_TRASH_PAGE", "", "10"))
    for h in ("undo:1:a", "undo:12:a", "undo:1:b", "trash:Z", "trash:a", "Undo:1:c"):
        r.both("S_HOLD_ADD", "sha", h)
        r.both("S_HOLD_ADD", "sha", h)
    r.both("S_HOLD_DEL_RANGE", "undo:1:", "undo:1;")
    r.same("S_HOLD_DEL_RANGE (byte order)",
           [tuple(x) for x in r.pg.query("SELECT holder FROM asset_hold ORDER BY holder")],
           [tuple(x) for x in r.lite.execute("SELECT holder FROM asset_hold ORDER BY holder")])

    # ---- users and tokens ----
    r.both("S_USER_INSERT", "alice", "hash", now)
    r.both("S_USER_ROLE_INSERT", "1", "admin")
    r.both("S_USER_ROLE_INSERT", "1", "admin")
    r.same("S_USER_ROLES", *r.both("S_USER_ROLES", "1"))
    r.same("S_TOKEN_INSERT named", *r.both("S_TOKEN_INSERT", "1", "h1", now, "mine", None))
    r.same("S_TOKEN_INSERT unnamed", *r.both("S_TOKEN_INSERT", "1", "h2", now, None, "99"))
    r.same("S_TOKEN_TOUCH", *r.both("S_TOKEN_TOUCH", "2", "5000000000"))
    r.same("S_TOKEN_LIST", *r.both("S_TOKEN_LIST", None))
    pg_id = r.pg_run("S_TOKEN_INSERT", "1", "h3", now, None, None)
    r.expect("S_TOKEN_INSERT name = id", pg_id[0][1], "token " + pg_id[0][0])

    # ---- profiles: compare-and-set with NULL, DOI and FTP flags read as 0/1 ----
    r.both("S_PROFILE_ADD", "p", "saf", "123/2", "/in", None, now, None, None, None, None,
           None, None)
    r.same("S_PROFILE_ADVANCE from NULL", *r.both("S_PROFILE_ADVANCE", "p", None, "100"))
    r.same("S_PROFILE_ADVANCE stale", *r.both("S_PROFILE_ADVANCE", "p", None, "200"))
    r.same("S_PROFILE_ADVANCE from 100", *r.both("S_PROFILE_ADVANCE", "p", "100", "300"))
    r.same("S_PROFILE_GET", *r.both("S_PROFILE_GET", "p"))
    for _ in range(3):
        r.both("S_JOB_ENQUEUE", "import", "import", "p", "admin", now, None, "{}", "0", None,
               None, "0", "p", None)
    r.same("S_PROFILE_HISTORY limit -1", *r.both("S_PROFILE_HISTORY", "p", "-1", "1"))
    r.same("S_PROFILE_HISTORY limit 1", *r.both("S_PROFILE_HISTORY", "p", "1", "0"))
    r.both("S_DOI_PROFILE_ADD", "d1", "10.1", "{n}", "", "asset", "1", "local", "1", "0", None,
           None, "secret", None, now)
    r.both("S_DOI_PROFILE_ADD", "d2", "10.2", "{n}", "", "asset", "1", "local", "0", "0", None,
           None, None, None, now)
    r.same("S_DOI_PROFILE_LIST active", *r.both("S_DOI_PROFILE_LIST", "1"))
    r.same("S_DOI_PROFILE_LIST all", *r.both("S_DOI_PROFILE_LIST", "0"))
    r.both("S_DOI_COUNTER_PUT", "d1", "", "5")
    r.both("S_DOI_COUNTER_PUT", "d1", "", "6")
    r.same("S_DOI_COUNTER_PUT upsert", *r.both("S_DOI_COUNTER_GET", "d1", ""))
    r.both("S_FTP_UPSERT", "f", "sftp://h/", "u", "pw", None, "1", None, now)
    r.both("S_FTP_UPSERT", "f", "sftp://h/x", "u", "", "key", "0", None, now)
    r.same("S_FTP_GET", *r.both("S_FTP_GET", "f"))
    r.same("S_FTP_LIST", *r.both("S_FTP_LIST"))

    # ---- researchers ----
    r.both("S_RES_INSERT", "r1", "Müller", "Hans", None, None, "0000-0002-1825-0097",
           "affiliated", "0", None, now)
    r.sql("INSERT INTO creator(item_id, role, place, orcid) "
          "VALUES (1, 'creator', 0, 'https://orcid.org/0000-0002-1825-0097')")
    r.sql("INSERT INTO creator(item_id, role, place, researcher_id) "
          "VALUES (2, 'contributor', 0, 'r1')")
    r.same("S_RES_ASSETS", *r.both("S_RES_ASSETS", "r1", "0000-0002-1825-0097", "0"))

    # ---- the search index: the row statement, its tsvector, the field kinds ----
    r.sql("INSERT INTO metadata_schema(id, prefix) VALUES (1, 'dc')")
    r.sql("INSERT INTO metadata_field(id, schema_id, element, qualifier) VALUES "
          "(1, 1, 'title', ''), (2, 1, 'date', 'issued'), (3, 1, 'identifier', 'isbn'), "
          "(4, 1, 'description', 'abstract'), (5, 1, 'identifier', 'doi')")
    r.pg.query("SELECT setval(pg_get_serial_sequence('metadata_field', 'id'), 5)")
    r.pg_run("S_FTS_FIELDS")
    r.lite_run("S_FTS_FIELDS")
    r.pg_run("S_FTS_FIELDS")  # again: the upsert
    vals = [(1, 1, "Über Müller's 10.1000/xyz"), (1, 2, "2019-05-01"), (1, 3, "978-3-16 1"),
            (1, 4, "Second text"), (1, 1, "Zweiter Titel"), (1, 5, "10.1/ABC"),
            (4, 2, "circa 1900")]
    for seq, (item, field, value) in enumerate(vals):
        r.both("S_MV_INSERT", str(item), str(field), None, value, "0", str(seq))
    r.sql("INSERT INTO bitstream(item_id, bundle, name, sequence, size, md5, sha256) "
          "VALUES (1, 'ORIGINAL', 'a.pdf', 1, 1, 'm', 's')")
    r.sql("INSERT INTO identifier(item_id, type, value) VALUES (1, 'isbn13', '978-0-1')")
    r.same("S_FTS_ROW", *r.both("S_FTS_ROW", "1", "9223372036854775807"))
    r.pg_run("S_FTS_DELETE", "1", "9223372036854775807")
    for row in r.pg_run("S_FTS_ROW", "1", "9223372036854775807"):
        r.pg_run("S_FTS_PUT", *row)
    found = r.pg.query(
        "SELECT rowid FROM item_fts WHERE doc @@ phraseto_tsquery('simple', br_fts_text("
        "'muller s 10.1000')) AND doc @@ to_tsquery('simple', 'uber:A') "
        "AND doc @@ phraseto_tsquery('simple', br_fts_text('isbn 9783161')) ORDER BY rowid")
    r.expect("item_fts doc: Muller, a DOI, an ISBN", found, [["1"]])
    r.expect("item_fts year and flags",
             r.pg.query("SELECT year, flags FROM item_fts WHERE rowid = 1"),
             [["y2019", "hasfile hasdoi"]])
    r.expect("item_fts: status stays out of doc",
             r.pg.query("SELECT count(*) FROM item_fts WHERE doc @@ "
                        "to_tsquery('simple', 'archived')"), [["0"]])
    r.pg_run("S_FTS_CLEAR")
    r.expect("S_FTS_CLEAR", r.pg.query("SELECT count(*) FROM item_fts"), [["0"]])

    # ---- two workers claim at once (PostgreSQL alone): the second takes the next job ----
    other = Pg(r.url)
    other.query("SET lock_timeout = 5000")
    r.pg_run("S_BEGIN")
    first = r.pg_run("S_JOB_CLAIM", now, None)
    second = [tuple(x) for x in other.execute(*claim_args(r, now))[0]]
    r.pg_run("S_COMMIT")
    r.expect("S_JOB_CLAIM side by side",
             len(first) == 1 and len(second) == 1 and first != second, True)


def claim_args(r, now):
    sql, top, used = rewrite(r.over.get("S_JOB_CLAIM") or r.shared["S_JOB_CLAIM"])
    return sql, backend_types(top, used), [now] + [None] * (top - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", nargs="?")
    ap.add_argument("--list", action="store_true",
                    help="print each statement's PostgreSQL text and exit (no server)")
    ap.add_argument("--no-semantics", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    ids, shared, over, temp = load_statements()
    unknown = sorted((set(shared) | set(over)) - set(ids))
    if a.list:
        for sid in ids:
            text = over.get(sid) or shared.get(sid)
            print("%s%s\n    %s\n" % (sid, " (pg)" if sid in over else "", rewrite(text)[0]))
        return 0
    if not a.url:
        ap.error("the database's address is needed")
    rep = Report(a.verbose)
    for sid in unknown:
        rep.fail(sid, "not a stmt_id of store_internal.h")
    print("%d statements, %d with a PostgreSQL text" % (len(ids), len(over)))
    pg = Pg(a.url)
    if pg.query("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema()")[0][0] != "0":
        raise SystemExit("%s is not empty: the check needs a database of its own" % a.url)
    schema = open(os.path.join(STORE, "schema_pg.sql"), encoding="utf-8").read()
    try:
        pg.query(schema)
    except PgError as e:
        rep.fail("schema_pg.sql", str(e))
        return 1
    print("schema_pg.sql loaded with one query")
    pg.query(temp)
    lite = sqlite3.connect(":memory:", isolation_level=None)
    try:
        # the SQLite backend's connection pragmas that change what statements do
        lite.executescript("PRAGMA foreign_keys=ON; PRAGMA recursive_triggers=ON;")
        lite.executescript(open(os.path.join(STORE, "schema.sql"), encoding="utf-8").read())
        lite.execute(temp)
    except sqlite3.Error as e:
        print("(no SQLite comparison: %s)" % e)
        lite = None
    if lite is not None:
        check_schema(pg, lite, rep)
    types = {}
    check_prepare(pg, ids, shared, over, lite, rep, types)
    check_binds(types, rep)
    if not a.no_semantics and lite is not None and not rep.failures:
        print("running the statements whose meaning differs ...")
        try:
            check_semantics(Runner(pg, a.url, lite, shared, over, rep))
        except (PgError, sqlite3.Error) as e:
            rep.fail("semantics", "stopped: %s" % e)
    print("%d failed, %d warnings" % (len(rep.failures), len(rep.warnings)))
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
