"""The workspace index: outlines per language, what is never read, and keeping it current."""

import itertools
import os
import sys
import time
from pathlib import Path

import pytest

from context.index import WorkspaceIndex
from context.secrets import PLACEHOLDER

DATA = Path(__file__).parent.parent / "data" / "index"

# (file, container.name, kind, signature, doc)
DEFINITIONS = [
    ("sample.py", "MAX_RETRIES", "constant", "MAX_RETRIES = 3", "How many times to retry."),
    ("sample.py", "fetch", "function", "async def fetch(url: str, timeout: float = 5) -> bytes:", "Fetch a URL."),
    ("sample.py", "Client", "class", "class Client(Base):", "Talks to the server."),
    ("sample.py", "Client.DEFAULT_PORT", "constant", "DEFAULT_PORT = 80", ""),
    ("sample.py", "Client.send", "method", "def send(self, data: bytes) -> int:", "Send data."),
    ("sample.py", "Client.host", "method", "def host(self) -> str:", ""),
    ("sample.js", "add", "function", "function add(a, b)", "Add two numbers."),
    ("sample.js", "Shape", "class", "class Shape extends Base", "A shape."),
    ("sample.js", "Shape.area", "method", "area()", "The area."),
    ("sample.js", "MAX_SIZE", "constant", "const MAX_SIZE = 10;", ""),
    ("sample.js", "double", "function", "const double = (x) =>", ""),
    ("sample.js", "api.getUser", "method", "getUser(id)", "Fetch a user."),  # an object's methods
    ("sample.js", "api.saveUser", "method", "saveUser: async (user, overwrite) =>", ""),
    ("sample.js", "parse", "function", "exports.parse = function (text, strict)", ""),  # CommonJS
    ("sample.ts", "Point", "class", "interface Point", "A point in space."),
    ("sample.ts", "Point.distance", "method", "distance(other: Point): number;", ""),
    ("sample.ts", "Id", "class", "type Id = string | number;", ""),
    ("sample.ts", "Color", "class", "enum Color", ""),
    ("sample.ts", "Repo", "class", "abstract class Repo<T> implements Store", ""),
    ("sample.ts", "Repo.load", "method", "async load(id: Id): Promise<T>", "Load one item."),
    ("sample.ts", "Repo.save", "method", "abstract save(item: T): void;", ""),
    ("sample.ts", "create", "function", "function create<T>(options: Options): Repo<T>", ""),
    ("sample.tsx", "Greeting", "function", "function Greeting({ name }: { name: string })", "Greets someone."),
    ("sample.tsx", "Button", "function", "const Button = (props: ButtonProps) =>", ""),
    ("sample.go", "Add", "function", "func Add(a, b int) int", "Add adds two numbers."),
    ("sample.go", "Server", "class", "type Server struct", "Server serves requests."),
    ("sample.go", "Server.Run", "method", "func (s *Server) Run(ctx context.Context) error", "Run starts the server."),
    ("sample.go", "Handler", "class", "type Handler interface", ""),
    ("sample.go", "Timeout", "constant", "const Timeout = 30", "Timeout is the default timeout."),
    ("sample.go", "Handler.Serve", "method", "Serve(req *Request) error", "Serve handles one request."),
    ("sample.go", "Port", "class", "type Port = int", ""),
    ("sample.go", "Retries", "constant", "const Retries = 3", "Retries is how often a request is tried."),  # grouped
    ("sample.rs", "Stack", "class", "pub struct Stack<T>", "A stack of things."),
    ("sample.rs", "Stack.push", "method", "pub fn push(&mut self, item: T)", "Push an item."),
    ("sample.rs", "Shape", "class", "pub trait Shape", ""),
    ("sample.rs", "Shape.area", "method", "fn area(&self) -> f64;", ""),
    ("sample.rs", "parse", "function", "pub fn parse(input: &str) -> Result<i64, String>", "Parse a number."),
    ("sample.rs", "LIMIT", "constant", "pub const LIMIT: usize = 64;", ""),
    ("Sample.java", "Greeter", "class", "public class Greeter", "A greeter."),
    ("Sample.java", "Greeter.TIMES", "constant", "public static final int TIMES = 3;", ""),
    ("Sample.java", "Greeter.greet", "method", "public String greet(String name)", "Greet someone."),
    ("Sample.java", "Named.name", "method", "String name();", ""),
    ("sample.c", "BUFFER_SIZE", "constant", "#define BUFFER_SIZE 256", ""),
    ("sample.c", "add", "function", "static int add(int a, int b)", "Add two integers."),
    ("sample.c", "point", "class", "struct point", ""),
    ("sample.c", "prototype", "function", "int prototype(int value);", ""),
    ("sample.cpp", "Circle", "class", "class Circle : public Shape", "A circle."),
    ("sample.cpp", "Circle.radius", "method", "double radius() const", ""),
    ("sample.cpp", "Circle.area", "method", "double geo::Circle::area() const", ""),
    ("sample.cpp", "square", "function", "T square(T x)", "Square a number."),
    # a C header's API inside its include guard and `extern "C" { }` (was: none of it)
    ("sample.h", "store_open", "function", "struct store *store_open(const char *path, int flags);",
     "Open a store at path."),
    ("sample.h", "store_close", "function", "int store_close(struct store *s);", ""),
    ("sample.h", "store_keys", "function", "char **store_keys(const struct store *s);", ""),
    # a header's prototypes: templated, returning pointers and references, in a namespace, in a class
    ("sample.hpp", "scale", "function", "void scale(T* data, int length, T factor);", "Scale every element in place."),
    ("sample.hpp", "find_all", "function", "int* find_all(const int* data, int length);", ""),
    ("sample.hpp", "pick", "function", "T pick(T a, T b);", ""),
    ("sample.hpp", "Registry.instance", "method", "static Registry* instance();", ""),
    ("sample.hpp", "Registry.name", "method", "const std::string& name() const;", ""),
    ("sample.hpp", "Registry.visit", "method", "void visit(V visitor);", ""),
    ("sample.hpp", "names_of", "function", "const char** names_of(int kind);", ""),
    ("sample.hpp", "last_error", "function", "std::string& last_error();", ""),
    ("sample.hpp", "first_key", "function", "K first_key();", ""),  # templated, inside the include guard
    ("sample.lua", "M.add", "function", "function M.add(a, b)", "Add two numbers."),
    ("sample.lua", "M.describe", "method", "function M:describe()", ""),
    ("sample.lua", "helper", "function", "local function helper(x)", ""),
    ("sample.lua", "Row.get", "function", "get = function(self, name)", "A cell by column name."),  # a table's field
]

IMPORTS = {
    "sample.py": ["os.path", "collections", "collections:OrderedDict", "collections:deque", ".", ".:sibling"],
    "sample.js": ["./util.js", "./util.js:parse", "./util.js:format", "node:path", "fs"],
    "sample.ts": ["./options", "./options:Options", "fs/promises", "fs/promises:readFile"],
    "sample.tsx": ["react"],
    "sample.go": ["fmt", "strings"],
    "sample.rs": ["std::collections::HashMap"],
    "Sample.java": ["java.util.List"],
    "sample.c": ["stdio.h", "sample.h"],
    "sample.cpp": ["vector"],
    "sample.hpp": ["string"],
    "sample.h": [],
    "sample.lua": ["json"],
}

# local definitions, and lower-case assignments, are not indexed
ABSENT = [("sample.py", "local_helper"), ("sample.py", "helper_value"), ("sample.js", "inner"),
          ("sample.h", "store_hook")]  # a function pointer variable, not a function


@pytest.fixture(scope="module")
def sample_index():
    index = WorkspaceIndex([DATA])
    assert index.build()
    return index


def find(index, path, qualified):
    container, _, name = qualified.rpartition(".")
    matches = [d for d in index.definitions_in(path) if d.name == name and d.container == container]
    assert matches, f"{qualified} not found in {path}: {index.definitions_in(path)}"
    return matches


@pytest.mark.parametrize("path,qualified,kind,signature,doc", DEFINITIONS)
def test_definitions(sample_index, path, qualified, kind, signature, doc):
    found = find(sample_index, path, qualified)
    assert any(d.kind == kind and d.signature == signature and d.doc == doc for d in found), found


def test_no_definition_is_found_twice(sample_index):
    # a declaration two query patterns match (a prototype in a namespace, a templated one) is one definition
    for path in sample_index.files:
        places = [(d.name, d.line) for d in sample_index.definitions_in(path)]
        assert len(places) == len(set(places)), path


@pytest.mark.parametrize("path,imports", sorted(IMPORTS.items()))
def test_imports(sample_index, path, imports):
    assert sample_index.files[path].imports == imports


@pytest.mark.parametrize("path,name", ABSENT)
def test_local_definitions_not_indexed(sample_index, path, name):
    assert all(d.name != name for d in sample_index.definitions_in(path))


def test_entries_and_lines(sample_index):
    entry = sample_index.files["sample.go"]
    assert entry.language == "go" and entry.size == (DATA / "sample.go").stat().st_size
    assert find(sample_index, "sample.go", "Add")[0].line == 8
    assert find(sample_index, "sample.go", "Add")[0].path == "sample.go"


def test_signatures_are_redacted(sample_index):
    (connect,) = find(sample_index, "sample.py", "connect")
    assert connect.signature == f'def connect(api_key: str = "{PLACEHOLDER}") -> Client:'


def test_lookup(sample_index):
    assert {d.path for d in sample_index.lookup("add")} == {"sample.js", "sample.c", "sample.lua"}
    assert [d.path for d in sample_index.lookup("Client.send")] == ["sample.py"]
    assert sample_index.lookup("Shape.area")[0].path in ("sample.js", "sample.rs")
    assert sample_index.lookup("no_such_name") == []
    assert sample_index.definitions_in(DATA / "sample.rs") == sample_index.definitions_in("sample.rs")


# ---- what is read and what is not


def write(root: Path, rel: str, content: str | bytes = "def f():\n    pass\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def build(root: Path, **kwargs) -> WorkspaceIndex:
    index = WorkspaceIndex([root], **kwargs)
    assert index.build()
    return index


def test_gitignore_root_and_nested(tmp_path):
    write(tmp_path, ".gitignore", "*.gen.py\ngenerated/\n!keep.gen.py\n")
    write(tmp_path, "src/.gitignore", "local_*.py\n")
    for rel in ["a.py", "b.gen.py", "keep.gen.py", "generated/c.py", "src/d.py", "src/local_e.py",
                "local_f.py", "src/deep/generated/g.py"]:
        write(tmp_path, rel)
    assert sorted(build(tmp_path).files) == ["a.py", "keep.gen.py", "local_f.py", "src/d.py"]


def test_skips_dependency_and_build_folders(tmp_path):
    for rel in ["app.js", "node_modules/lib/index.js", ".venv/lib/x.py", "dist/app.js", "build/out.py",
                "pkg/__pycache__/m.py", ".git/hooks/pre-commit.py"]:
        write(tmp_path, rel)
    assert list(build(tmp_path).files) == ["app.js"]


def test_skips_binary_huge_non_utf8_and_unknown(tmp_path):
    write(tmp_path, "ok.py")
    write(tmp_path, "binary.py", b"def f():\x00\x01\x02\n")
    write(tmp_path, "latin1.py", "s = 'caf\xe9'\n".encode("latin-1"))
    write(tmp_path, "huge.py", "x = 1\n" * 400)
    write(tmp_path, "notes.txt", "hello")
    index = build(tmp_path, max_file_bytes=1000)
    assert list(index.files) == ["ok.py"]
    assert index.stats()["skipped"] == {"binary": 1, "not_utf8": 1, "too_large": 1}


# every file opened by Python code while `_OPENED` is a list (audit hooks cannot be removed)
_OPENED: list[str] | None = None


def _audit(event, args):
    if event == "open" and _OPENED is not None and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def opened():
    global _OPENED
    _OPENED = []
    yield _OPENED
    _OPENED = None


SECRET_FILES = [".env", ".env.local", "id_rsa", "certs/server.pem", "config/credentials.json", ".npmrc",
                "secrets.yaml", "deploy/tls.key", ".ssh/config.py", "credentials"]


def test_secret_files_are_never_opened(tmp_path, opened):
    write(tmp_path, "app.py", "import os\n")
    for rel in SECRET_FILES:
        write(tmp_path, rel, "API_KEY=sk-proj-Ab3dEf9hIjK1mNoPqRsTuVwXyZ0123\n")
    (tmp_path / "settings.py").symlink_to(tmp_path / ".env")  # a link with an innocent name
    opened.clear()  # forget the test's own writes
    index = build(tmp_path)
    index.update_path(tmp_path / ".env")
    index.update_path(tmp_path / "settings.py")
    assert list(index.files) == ["app.py"]
    assert any(p.endswith("app.py") for p in opened)  # the hook does see the index's reads
    read = {Path(p).resolve() for p in opened}
    for rel in SECRET_FILES:
        assert (tmp_path / rel).resolve() not in read, rel


def test_symlinks_out_of_the_workspace_are_not_followed(tmp_path, opened):
    outside, root = tmp_path / "outside", tmp_path / "ws"
    write(outside, "leak.py", "def leaked():\n    pass\n")
    write(root, "src/real.py")
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    (root / "linked_file.py").symlink_to(outside / "leak.py")
    (root / "inside_link.py").symlink_to(root / "src" / "real.py")
    (root / "src" / "loop").symlink_to(root, target_is_directory=True)  # a cycle
    opened.clear()
    index = build(root)
    assert sorted(index.files) == ["inside_link.py", "src/real.py"]
    assert index.lookup("leaked") == []
    assert index.update_path(root / "linked_file.py") is False
    assert index.update_path(root / "linked_dir") is False
    write(outside, ".gitignore", "*.py\n")
    opened.clear()
    assert index.update_path(root / "linked_dir" / "leak.py") is False
    assert index.update_path(root / "linked_dir" / ".gitignore") is False
    assert not any(Path(p).resolve().is_relative_to(outside.resolve()) for p in opened)


def test_files_outside_the_roots_are_refused(tmp_path):
    write(tmp_path, "other/x.py")
    index = build(write(tmp_path, "ws/a.py").parent)
    assert index.update_path(tmp_path / "other" / "x.py") is False
    assert index.update_path(tmp_path / "ws" / ".." / "other" / "x.py") is False
    assert list(index.files) == ["a.py"]


# ---- keeping current


def test_update_path_after_an_edit(tmp_path):
    path = write(tmp_path, "m.py", "def old():\n    pass\n")
    index = build(tmp_path)
    assert [d.name for d in index.lookup("old")] == ["old"]
    path.write_text('def new(x: int) -> int:\n    """Brand new."""\n    return x\n')
    assert index.update_path(path)
    assert index.lookup("old") == []
    (new,) = index.lookup("new")
    assert (new.signature, new.doc) == ("def new(x: int) -> int:", "Brand new.")


def test_update_and_remove(tmp_path):
    index = build(tmp_path)
    path = write(tmp_path, "pkg/m.py")
    assert index.update_path(path) and list(index.files) == ["pkg/m.py"]
    path.unlink()
    assert index.update_path(path) and index.files == {}
    write(tmp_path, "pkg/a.py")
    write(tmp_path, "pkg/sub/b.py")
    index.update_path(tmp_path / "pkg")  # a folder: rescanned
    assert sorted(index.files) == ["pkg/a.py", "pkg/sub/b.py"]
    assert index.remove_path(tmp_path / "pkg") and index.files == {}


def test_the_name_tables_follow_updates_and_removals(tmp_path):
    a = write(tmp_path, "a.py", "def run(x):\n    pass\n\ndef run(y):\n    pass\n\nrun(1)\nstart(2)\n")
    write(tmp_path, "b.py", "def run(z):\n    pass\n\nrun(3)\n")
    index = build(tmp_path)
    assert [(d.path, d.signature) for d in index.lookup("run")] == [
        ("a.py", "def run(x):"), ("a.py", "def run(y):"), ("b.py", "def run(z):")]
    assert sorted(index.callers("run")) == ["a.py", "b.py"] and index.callers("start") == ["a.py"]
    assert index.calls_in("a.py", "run") == ["run(1)"] and index.calls_in("c.py", "run") == []
    a.write_text("def run(w):\n    pass\n\nrun(4)\n")
    assert index.update_path(a)
    assert [(d.path, d.signature) for d in index.lookup("run")] == [("b.py", "def run(z):"), ("a.py", "def run(w):")]
    assert index.callers("run") == ["b.py", "a.py"] and index.callers("start") == []
    assert index.calls_in("a.py", "run") == ["run(4)"]
    assert index.remove_path(a) and index.remove_path(tmp_path / "b.py")
    stats = index.stats()
    assert (stats["names"], stats["called_names"]) == (0, 0)  # nothing left behind
    assert index.lookup("run") == [] and index.callers("run") == []


def test_gitignore_change_rescans(tmp_path):
    write(tmp_path, "a.py")
    write(tmp_path, "b.py")
    index = build(tmp_path)
    write(tmp_path, ".gitignore", "b.py\n")
    assert index.update_path(tmp_path / ".gitignore")
    assert list(index.files) == ["a.py"]
    (tmp_path / ".gitignore").write_text("")
    index.update_path(tmp_path / ".gitignore")
    assert sorted(index.files) == ["a.py", "b.py"]


def test_rebuild_drops_deleted_files(tmp_path):
    write(tmp_path, "a.py")
    gone = write(tmp_path, "b.py")
    index = build(tmp_path)
    gone.unlink()
    assert index.build() and list(index.files) == ["a.py"]


def test_progress_and_stop(tmp_path):
    for i in range(30):
        write(tmp_path, f"m{i}.py")
    reports = []
    index = WorkspaceIndex([tmp_path])
    assert index.build(progress=lambda done, total: reports.append((done, total)))
    assert reports[0] == (0, 30) and reports[-1] == (30, 30)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(reports))
    stopped = WorkspaceIndex([tmp_path])
    assert stopped.build(should_stop=lambda: len(stopped.files) >= 5) is False
    assert len(stopped.files) == 5 and stopped.stats()["complete"] is False
    late = WorkspaceIndex([tmp_path])
    assert late.build(deadline=time.monotonic() - 1) is False and late.files == {}


# ---- open documents


def test_an_open_buffer_is_indexed_before_it_is_saved_and_disk_events_wait_until_it_closes(tmp_path):
    path = write(tmp_path, "util.py", "def old(a):\n    pass\n")
    index = build(tmp_path)
    assert index.stats()["from_buffers"] == 0
    assert index.update_text(path, "def helper(name, retries=3):\n    pass\n\nhelper('x')\n")
    assert index.stats()["from_buffers"] == 1
    assert index.lookup("old") == [] and [d.signature for d in index.lookup("helper")] == [
        "def helper(name, retries=3):"]
    assert index.calls_in("util.py", "helper") == ["helper('x')"]
    # the disk changes under the open buffer (a save of older text, a watcher event, a rescan, a rebuild):
    # the buffer stays what the index holds
    path.write_text("def from_disk():\n    pass\n")
    assert index.update_path(path) is False and index.update_path(tmp_path) is False
    assert index.build() and index.lookup("from_disk") == [] and index.lookup("helper")
    path.unlink()  # deleted on disk, still open in the editor
    assert index.update_path(path) is False and index.remove_path(path) is False and index.lookup("helper")
    write(tmp_path, "util.py", "def saved():\n    pass\n")
    assert index.release_text(path)  # closed: back to the file on disk
    assert index.lookup("helper") == [] and [d.name for d in index.lookup("saved")] == ["saved"]
    assert index.release_text(path) is False and index.stats()["from_buffers"] == 0  # not open any more
    assert index.update_path(path) and index.lookup("saved")  # disk events count again


def test_a_buffer_grown_past_the_size_limit_gives_the_file_back_to_the_disk(tmp_path):
    path = write(tmp_path, "m.py", "def on_disk():\n    pass\n")
    index = build(tmp_path, max_file_bytes=200)
    assert index.update_text(path, "def typed():\n    pass\n") and index.lookup("typed")
    assert index.update_text(path, "def typed():\n    pass\n" + "x = 1\n" * 50) is False
    assert index.lookup("typed") == [] and index.lookup("on_disk")


def test_closing_a_buffer_does_not_wait_for_the_model(tmp_path):
    path = write(tmp_path, "m.py")
    index = build(tmp_path)
    paced: list[float] = []
    index.pace = paced.append  # background reads wait for the model here; the editor's thread must not
    assert index.update_text(path, "def typed():\n    pass\n") and index.release_text(path)
    assert paced == [] and index.lookup("f")
    assert index.update_path(path) and len(paced) == 1


def test_closing_a_buffer_whose_file_is_gone_drops_it(tmp_path):
    index = build(tmp_path)
    path = tmp_path / "new.py"  # created in the editor, never saved
    assert index.update_text(path, "def draft():\n    pass\n") and index.lookup("draft")
    assert index.release_text(path) and index.lookup("draft") == [] and index.files == {}


@pytest.mark.parametrize("rel", [".env", "id_rsa.py", "ignored.py", "notes.txt"])
def test_buffers_the_index_would_not_read_from_disk_are_refused(tmp_path, rel):
    write(tmp_path, ".gitignore", "ignored.py\n")
    index = build(tmp_path)
    assert index.update_text(tmp_path / rel, "def f():\n    pass\n") is False
    assert index.files == {} and index.lookup("f") == []


def test_buffers_outside_over_the_limit_or_through_a_link_out_are_refused(tmp_path):
    outside = write(tmp_path, "elsewhere/x.py")
    index = build(write(tmp_path, "ws/a.py").parent, max_file_bytes=100)
    assert index.update_text(outside, "def g():\n    pass\n") is False
    assert index.update_text(tmp_path / "ws" / "big.py", "x = 1\n" * 50) is False
    (tmp_path / "ws" / "link.py").symlink_to(outside)
    assert index.update_text(tmp_path / "ws" / "link.py", "def g():\n    pass\n") is False
    assert index.lookup("g") == [] and list(index.files) == ["a.py"]


def test_a_buffer_differs_from_disk_unless_it_holds_the_files_bytes(tmp_path):
    path = write(tmp_path, "m.py", "def f():\n    pass\n")
    index = build(tmp_path, max_file_bytes=100)
    assert index.differs_from_disk(path, "def f():\n    pass\n") is False
    assert index.differs_from_disk(path, "def g():\n    pass\n")  # same size, other bytes
    assert index.differs_from_disk(path, "def f():\n    pass\n\n")
    assert index.differs_from_disk(tmp_path / "new.py", "x = 1\n")  # not saved yet
    assert index.differs_from_disk(path, "x = 1\n" * 50) is False  # over the limit: never indexed anyway


@pytest.mark.parametrize("rel", [".env", "keys/id_rsa.py", "ignored.py", "../elsewhere/x.py"])
def test_telling_a_buffer_from_its_file_never_reads_a_file_the_index_would_refuse(tmp_path, rel, monkeypatch):
    write(tmp_path, "elsewhere/x.py", "secret = 1\n")
    ws = write(tmp_path, "ws/.gitignore", "ignored.py\n").parent
    for name in (".env", "keys/id_rsa.py", "ignored.py"):
        write(ws, name, "secret = 1\n")
    index = build(ws)
    read: list[Path] = []
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or real_read(self))
    assert index.differs_from_disk(ws / rel, "secret = 1\n") is False
    assert index.differs_from_disk(ws / rel, "other = 2\n") is False  # nothing the index could take either
    assert read == []


def test_several_roots(tmp_path):
    write(tmp_path, "one/a.py", "def in_one():\n    pass\n")
    write(tmp_path, "two/b.py", "def in_two():\n    pass\n")
    index = WorkspaceIndex([tmp_path / "one", tmp_path / "two"])
    index.build()
    assert sorted(index.files) == ["one/a.py", "two/b.py"]
    assert index.lookup("in_two")[0].path == "two/b.py"
    assert index.definitions_in(tmp_path / "two" / "b.py")[0].name == "in_two"
    assert index.workspace.absolute("two/b.py") == (tmp_path / "two" / "b.py").resolve()


def test_a_withdrawn_root_leaves_the_index_buffers_included_and_stays_out(tmp_path):
    write(tmp_path, "one/a.py", "def in_one():\n    pass\n")
    write(tmp_path, "two/b.py", "def in_two():\n    pass\n")
    index = WorkspaceIndex([tmp_path / "one", tmp_path / "two"])
    index.build()
    assert index.update_text(tmp_path / "one" / "draft.py", "def drafted():\n    pass\n")
    assert index.withdraw(tmp_path / "one") and sorted(index.files) == ["two/b.py"]  # keys of the rest unchanged
    assert not index.lookup("in_one") and not index.lookup("drafted")
    write(tmp_path, "one/c.py", "def later():\n    pass\n")
    assert not index.update_path(tmp_path / "one" / "c.py") and not index.update_path(tmp_path / "one")
    assert not index.update_text(tmp_path / "one" / "a.py", "def typed():\n    pass\n")
    assert not index.withdraw(tmp_path / "one") and not index.withdraw(tmp_path / "elsewhere")
    write(tmp_path, "two/d.py", "def in_two_later():\n    pass\n")
    assert index.update_path(tmp_path / "two" / "d.py") and index.lookup("in_two_later")[0].path == "two/d.py"


def test_root_given_through_a_symlink(tmp_path):
    write(tmp_path, "real/a.py")
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    index = build(tmp_path / "alias")
    assert list(index.files) == ["a.py"]
    write(tmp_path, "real/b.py", "def via_alias():\n    pass\n")
    assert index.update_path(tmp_path / "alias" / "b.py")  # the editor may name files either way
    assert index.definitions_in(tmp_path / "alias" / "b.py")[0].name == "via_alias"
    assert index.remove_path(tmp_path / "alias" / "a.py") and list(index.files) == ["b.py"]


def test_a_workspace_past_max_files_indexes_the_recent_then_the_shallow_and_stays_within_it(tmp_path):
    days_ago = {"old_top.py": 3, "pkg/old_deep.py": 3, "pkg/sub/older.py": 9, "pkg/sub/today.py": 0,
                "vendor/lib/today_too.py": 0, "a/yesterday.py": 1}
    now = time.time()
    for name, days in days_ago.items():
        os.utime(write(tmp_path, name), (now, now - days * 86400 - 60))
    index = WorkspaceIndex([tmp_path], max_files=4)
    assert index.build()
    # changed today first, then yesterday's, then of the older ones the shallowest
    assert sorted(index.files) == ["a/yesterday.py", "old_top.py", "pkg/sub/today.py", "vendor/lib/today_too.py"]
    assert index.stats()["eligible"] == 6
    # files that appear later stay out while the index is full; edits to indexed ones still go in
    assert not index.update_path(write(tmp_path, "new.py")) and "new.py" not in index.files
    assert index.stats()["skipped"]["over_limit"] == 1
    assert index.update_path(write(tmp_path, "old_top.py", "def renamed():\n    pass\n"))
    assert index.lookup("renamed")
    assert index.remove_path(tmp_path / "a" / "yesterday.py")
    assert index.update_path(tmp_path / "new.py") and len(index.files) == 4
    # no limit: everything
    unlimited = WorkspaceIndex([tmp_path])
    assert unlimited.build() and len(unlimited.files) == 7
